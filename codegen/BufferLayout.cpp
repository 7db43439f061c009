//===- codegen/BufferLayout.cpp -------------------------------------------------===//
#include "codegen/BufferLayout.h"

#include <algorithm>

namespace cocktail::codegen {

int BufferLayout::place(std::string name, int64_t bytes) {
  const int64_t size = std::max<int64_t>(bytes, 1);
  regions_.push_back({std::move(name), end_, bytes});
  end_ += (size + kAlignment - 1) / kAlignment * kAlignment;
  return static_cast<int>(regions_.size() - 1);
}

int BufferLayout::placeAt(std::string name, int64_t offset, int64_t bytes) {
  regions_.push_back({std::move(name), offset, bytes});
  return static_cast<int>(regions_.size() - 1);
}

}  // namespace cocktail::codegen

//===- ir/Program.cpp ---------------------------------------------------------===//
#include "ir/Program.h"

#include <fmt/format.h>

#include "ir/Location.h"

namespace cocktail::ir {

std::string Location::str() const {
  if (!known()) return "unknown location";
  if (line <= 0) return file;
  return column > 0 ? fmt::format("{}:{}:{}", file, line, column) : fmt::format("{}:{}", file, line);
}

const Symbol* Program::findSymbol(const std::string& name) const {
  for (const Symbol& s : symbols_)
    if (s.name == name) return &s;
  return nullptr;
}

const WeightDecl* Program::findWeight(const std::string& name) const {
  for (const WeightDecl& w : weights_)
    if (w.name == name) return &w;
  return nullptr;
}

}  // namespace cocktail::ir

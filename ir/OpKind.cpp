//===- ir/OpKind.cpp --------------------------------------------------------===//
#include "ir/OpKind.h"

#include <array>
#include <string>
#include <unordered_map>

namespace cocktail::ir {
namespace {
constexpr OpInfo kOpInfos[] = {
#define OP(E, M, MIN, MAX, RES, REG, CLS) OpInfo{M, MIN, MAX, RES, REG, OpClass::CLS},
#include "ir/OpDefs.def"
};
}  // namespace

const OpInfo& opInfo(OpKind kind) { return kOpInfos[static_cast<size_t>(kind)]; }

std::optional<OpKind> opKindFromMnemonic(std::string_view m) {
  static const auto* table = [] {
    auto* t = new std::unordered_map<std::string_view, OpKind>();
    for (size_t i = 0; i < std::size(kOpInfos); ++i) t->emplace(kOpInfos[i].mnemonic, static_cast<OpKind>(i));
    return t;
  }();
  auto it = table->find(m);
  if (it == table->end()) return std::nullopt;
  return it->second;
}

}  // namespace cocktail::ir

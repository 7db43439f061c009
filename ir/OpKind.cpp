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
constexpr size_t kNumOps = std::size(kOpInfos);
static_assert(kNumOps == kNumOpKinds);

constexpr std::array<uint32_t, kNumOps> kOpTraits = [] {
  std::array<uint32_t, kNumOps> traits{};
  for (size_t i = 0; i < kNumOps; ++i) {
    const OpClass c = kOpInfos[i].opClass;
    if (c == OpClass::Binary || c == OpClass::Unary || c == OpClass::Elementwise) traits[i] |= kElementwise;
  }
#define OP_TRAITS(E, T) traits[static_cast<size_t>(OpKind::E)] |= (T);
#include "ir/OpTraits.def"
  return traits;
}();
}  // namespace

const OpInfo& opInfo(OpKind kind) { return kOpInfos[static_cast<size_t>(kind)]; }

bool hasTrait(OpKind kind, uint32_t traits) { return (kOpTraits[static_cast<size_t>(kind)] & traits) == traits; }

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

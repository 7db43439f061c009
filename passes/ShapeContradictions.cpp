//===- passes/ShapeContradictions.cpp ------------------------------------------------===//
#include "passes/ShapeContradictions.h"

#include <fmt/format.h>

namespace cocktail::passes {

namespace {

using ir::Dim;
using ir::OpKind;
using ir::Type;

/// Dim `i` of `t` counted from the end (1: the last) when `t` has it and it is a constant.
std::optional<int64_t> constantFromEnd(const Type& t, int64_t i) {
  if (!t.isTensor() || !t.hasRank() || t.rank() < i) return std::nullopt;
  const Dim& d = t.dims()[static_cast<size_t>(t.rank() - i)];
  return d.isConstant() ? std::optional<int64_t>(d.value()) : std::nullopt;
}

/// A product a x b whose inner dims (counted from the end) are known and differ.
std::optional<std::string> innerMismatch(const Type& a, int64_t aFromEnd, const Type& b, int64_t bFromEnd) {
  const auto da = constantFromEnd(a, aFromEnd), db = constantFromEnd(b, bFromEnd);
  if (!da || !db || *da == *db) return std::nullopt;
  return fmt::format("the product of {} by {} has inner dims {} and {}, which differ", a.str(), b.str(), *da, *db);
}

}  // namespace

std::optional<std::string> shapeContradiction(const ir::Op& op) {
  auto type = [&](size_t i) -> const Type& { return op.operand(i)->type(); };
  switch (op.kind()) {
    case OpKind::Linear: {
      // x[..., in] with w[out, in]
      const auto in = constantFromEnd(type(0), 1), want = type(1).rank() == 2 ? constantFromEnd(type(1), 1) : std::nullopt;
      if (!in || !want || *in == *want) return std::nullopt;
      return fmt::format("the input has {} features (its last dim) but the weight {} takes {}; input {}", *in,
                         type(1).str(), *want, type(0).str());
    }
    case OpKind::Matmul: {
      const Type &a = type(0), &b = type(1);
      if (!a.hasRank() || !b.hasRank() || a.rank() == 0 || b.rank() == 0) return std::nullopt;
      return innerMismatch(a, 1, b, b.rank() == 1 ? 1 : 2);
    }
    case OpKind::Addmm:
      if (type(1).rank() != 2 || type(2).rank() != 2) return std::nullopt;
      return innerMismatch(type(1), 1, type(2), 2);
    case OpKind::Conv2d: {
      // x[N, C, H, W] with w[out, C / groups, kh, kw]
      const Type &x = type(0), &w = type(1);
      if (x.rank() != 4 || w.rank() != 4) return std::nullopt;
      const auto channels = constantFromEnd(x, 3), perGroup = constantFromEnd(w, 3);
      const int64_t groups = op.attrs().getInt("groups").value_or(1);
      if (!channels || !perGroup || groups <= 0 || *channels == *perGroup * groups) return std::nullopt;
      return fmt::format("the input has {} channels (dim 1) but the weight {} with groups={} takes {}; input {}",
                         *channels, w.str(), groups, *perGroup * groups, x.str());
    }
    default: return std::nullopt;
  }
}

}  // namespace cocktail::passes

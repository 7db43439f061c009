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

std::optional<int64_t> boundBytes(const Type& t, const Program& program) {
  if (!t.isTensor() || !t.hasRank() || !t.hasDType()) return std::nullopt;
  int64_t n = dtypeSize(t.dtype());
  for (const Dim& d : t.dims()) {
    int64_t size = 0;
    if (d.isConstant()) {
      size = d.value();
    } else if (const Symbol* s = d.isSymbol() ? program.findSymbol(d.symbolName()) : nullptr) {
      size = s->bound;
    } else {
      return std::nullopt;
    }
    // A size no int64 holds is no size the memory plan can place.
    if (size < 0 || __builtin_mul_overflow(n, size, &n)) return std::nullopt;
  }
  return n;
}

}  // namespace cocktail::ir

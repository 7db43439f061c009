//===- ir/Type.cpp ------------------------------------------------------------===//
#include "ir/Type.h"

#include <fmt/format.h>

namespace cocktail::ir {

const std::vector<Dim>& Type::dims() const {
  static const std::vector<Dim> kNone;
  return dims_ ? *dims_ : kNone;
}

std::string Type::str() const {
  if (isScalar()) return std::string(dtypeName(dtype_));
  if (!dtypeKnown_) return "tensor";
  std::string s(dtypeName(dtype_));
  if (!dims_) return s + "[*]";
  s += '[';
  for (size_t i = 0; i < dims_->size(); ++i) {
    if (i) s += ',';
    const Dim& d = (*dims_)[i];
    if (d.isConstant()) s += std::to_string(d.value());
    else if (d.isSymbol()) s += d.symbolName();
    else s += '?';
  }
  s += ']';
  return s;
}

}  // namespace cocktail::ir

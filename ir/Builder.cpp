//===- ir/Builder.cpp -------------------------------------------------------------===//
#include "ir/Builder.h"

namespace cocktail::ir {

Op* Builder::create(OpKind kind, std::vector<Value*> operands, std::vector<Type> resultTypes, Attributes attrs) {
  auto op = std::make_unique<Op>(kind, std::move(operands), std::move(resultTypes), std::move(attrs), loc_);
  Op* raw = region_->insert(pos_, std::move(op));
  ++pos_;
  return raw;
}

Value* Builder::create1(OpKind kind, std::vector<Value*> operands, Type resultType, Attributes attrs) {
  return create(kind, std::move(operands), {std::move(resultType)}, std::move(attrs))->result();
}

Value* Builder::constantInt(int64_t v) {
  Attributes a;
  a.set("value", v);
  return create1(OpKind::Constant, {}, Type::scalar(DType::I64), std::move(a));
}

Value* Builder::constantFloat(double v) {
  Attributes a;
  a.set("value", v);
  return create1(OpKind::Constant, {}, Type::scalar(DType::F64), std::move(a));
}

Value* Builder::constantBool(bool v) {
  Attributes a;
  a.set("value", v);
  return create1(OpKind::Constant, {}, Type::scalar(DType::I1), std::move(a));
}

}  // namespace cocktail::ir

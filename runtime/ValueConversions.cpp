//===- runtime/ValueConversions.cpp - A RuntimeValue read as what an op needs ---===//
#include "runtime/ValueConversions.h"

#include <fmt/format.h>

#include "runtime/OpError.h"

namespace cocktail::runtime {

using ir::DType;

Tensor asTensor(const RuntimeValue& v, const RuntimeValue* other) {
  if (const Tensor* t = std::get_if<Tensor>(&v)) return *t;
  if (const int64_t* i = std::get_if<int64_t>(&v)) return Tensor::scalarI64(*i);
  if (const double* d = std::get_if<double>(&v)) {
    const Tensor* o = other ? std::get_if<Tensor>(other) : nullptr;
    if (o && ir::isFloating(o->dtype())) return Tensor::fromBytes(DType::F64, {}, d);
    return Tensor::scalarF32(static_cast<float>(*d));
  }
  if (const bool* b = std::get_if<bool>(&v)) return Tensor::scalarBool(*b);
  throw OpError("an operand has no value (a path TorchScript marked as never taken was taken)");
}

double asDouble(const RuntimeValue& v) {
  if (const int64_t* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (const double* d = std::get_if<double>(&v)) return *d;
  if (const bool* b = std::get_if<bool>(&v)) return *b ? 1.0 : 0.0;
  if (const Tensor* t = std::get_if<Tensor>(&v)) return t->toDouble();
  throw OpError("expected a number");
}

int64_t asInt(const RuntimeValue& v) {
  if (const int64_t* i = std::get_if<int64_t>(&v)) return *i;
  if (const bool* b = std::get_if<bool>(&v)) return *b ? 1 : 0;
  if (const double* d = std::get_if<double>(&v)) {
    // int(x) truncates; past int64's range (or NaN) Python raises, C++'s cast is undefined.
    if (!(*d >= -9223372036854775808.0 && *d < 9223372036854775808.0))
      throw InputError(fmt::format("cannot convert the float {} to an integer", *d));
    return static_cast<int64_t>(*d);
  }
  if (const Tensor* t = std::get_if<Tensor>(&v)) return t->toInt64();
  throw OpError("expected an integer");
}

bool asBool(const RuntimeValue& v) {
  if (const bool* b = std::get_if<bool>(&v)) return *b;
  if (const int64_t* i = std::get_if<int64_t>(&v)) return *i != 0;
  if (const double* d = std::get_if<double>(&v)) return *d != 0.0;
  if (const Tensor* t = std::get_if<Tensor>(&v)) return t->toBool();
  throw OpError("expected a bool");
}

RuntimeValue castScalar(const RuntimeValue& v, DType t) {
  switch (t) {
    case DType::I64: return asInt(v);
    case DType::I1: return asBool(v);
    default: return asDouble(v);
  }
}

}  // namespace cocktail::runtime

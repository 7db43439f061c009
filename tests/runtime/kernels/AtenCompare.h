//===- tests/runtime/kernels/AtenCompare.h - runtime::Tensor vs ATen ----===//
//
// Test-only helpers: conversions between runtime::Tensor and at::Tensor,
// random inputs, and the comparison that every kernel test ends with
// ("same dtype, same shape, values within rtol/atol, NaN where ATen has NaN").
// `expectSameOrBothThrow` runs our kernel and ATen side by side and also
// accepts the case where both reject the inputs.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <functional>
#include <string>

#include "runtime/Tensor.h"
#include "runtime/cpu/Kernels.h"

namespace cocktail::runtime::cpu::testing {

inline at::ScalarType toAtenType(DType t) {
  switch (t) {
    case DType::F32: return at::kFloat;
    case DType::F64: return at::kDouble;
    case DType::F16: return at::kHalf;
    case DType::BF16: return at::kBFloat16;
    case DType::I64: return at::kLong;
    case DType::I32: return at::kInt;
    case DType::I1: return at::kBool;
    case DType::U8: return at::kByte;
  }
  return at::kFloat;
}

inline DType fromAtenType(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return DType::F32;
    case at::kDouble: return DType::F64;
    case at::kHalf: return DType::F16;
    case at::kBFloat16: return DType::BF16;
    case at::kLong: return DType::I64;
    case at::kInt: return DType::I32;
    case at::kBool: return DType::I1;
    case at::kByte: return DType::U8;
    default: throw std::invalid_argument("fromAtenType: unsupported ATen dtype");
  }
}

inline at::Tensor toAten(const Tensor& t) {
  std::vector<int64_t> sizes(t.shape().begin(), t.shape().end());
  auto opts = at::TensorOptions().dtype(toAtenType(t.dtype()));
  at::Tensor out = at::empty(sizes, opts);
  if (t.nbytes() > 0) std::memcpy(out.data_ptr(), t.rawData(), static_cast<size_t>(t.nbytes()));
  return out;
}

inline Tensor fromAten(const at::Tensor& t) {
  at::Tensor c = t.contiguous();
  Shape shape(c.sizes().begin(), c.sizes().end());
  return Tensor::fromBytes(fromAtenType(c.scalar_type()), shape, c.data_ptr());
}

/// Random values suited to the dtype: normal floats, small signed integers
/// (so that ties and negative operands occur), bytes over their whole range
/// (so that uint8 arithmetic wraps), fair booleans.
inline at::Tensor randomAten(const Shape& shape, DType t) {
  std::vector<int64_t> sizes(shape.begin(), shape.end());
  switch (t) {
    case DType::F32:
    case DType::F64: return at::randn(sizes, at::TensorOptions().dtype(toAtenType(t)));
    case DType::I64:
    case DType::I32: return at::randint(-6, 7, sizes, at::TensorOptions().dtype(toAtenType(t)));
    case DType::I1: return at::randint(0, 2, sizes, at::TensorOptions().dtype(at::kLong)).to(at::kBool);
    case DType::U8: return at::randint(0, 256, sizes, at::TensorOptions().dtype(at::kByte));
    default: return at::randn(sizes).to(toAtenType(t));
  }
}

inline Tensor random(const Shape& shape, DType t) { return fromAten(randomAten(shape, t)); }

/// Asserts ours == ref in dtype and shape, and values within tolerance.
inline ::testing::AssertionResult sameAs(const Tensor& ours, const at::Tensor& ref,
                                         double rtol = 1e-5, double atol = 1e-6) {
  if (ours.dtype() != fromAtenType(ref.scalar_type()))
    return ::testing::AssertionFailure()
           << "dtype differs: ours " << ours.typeString() << ", aten " << ref.toString();
  Shape refShape(ref.sizes().begin(), ref.sizes().end());
  if (ours.shape() != refShape)
    return ::testing::AssertionFailure() << "shape differs: ours " << ours.typeString()
                                         << ", aten " << shapeToString(refShape);
  at::Tensor mine = toAten(ours);
  at::Tensor r = ref.contiguous();
  if (!at::isFloatingType(r.scalar_type())) {
    if (!at::equal(mine, r))
      return ::testing::AssertionFailure() << "values differ:\nours\n" << mine << "\naten\n" << r;
    return ::testing::AssertionSuccess();
  }
  if (!at::allclose(mine, r, rtol, atol, /*equal_nan=*/true)) {
    at::Tensor diff = (mine.to(at::kDouble) - r.to(at::kDouble)).abs();
    return ::testing::AssertionFailure()
           << "values differ (max abs diff " << diff.nan_to_num(0).max().item<double>() << ")"
           << (r.numel() <= 64 ? "" : " [large tensor]") << "\nours\n"
           << (r.numel() <= 64 ? mine : mine.flatten().slice(0, 0, 16)) << "\naten\n"
           << (r.numel() <= 64 ? r : r.flatten().slice(0, 0, 16));
  }
  return ::testing::AssertionSuccess();
}

/// Runs both; passes if both throw, or neither does and results agree.
inline ::testing::AssertionResult sameOrBothThrow(const std::function<Tensor()>& ours,
                                                  const std::function<at::Tensor()>& ref,
                                                  double rtol = 1e-5, double atol = 1e-6) {
  std::string ourError, refError;
  Tensor mine;
  at::Tensor theirs;
  try {
    mine = ours();
  } catch (const std::exception& e) {
    ourError = e.what();
  }
  try {
    theirs = ref();
  } catch (const std::exception& e) {
    refError = e.what();
    if (refError.size() > 300) refError.resize(300);
  }
  if (!ourError.empty() && !refError.empty()) return ::testing::AssertionSuccess();
  if (!ourError.empty())
    return ::testing::AssertionFailure() << "only ours threw: " << ourError;
  if (!refError.empty())
    return ::testing::AssertionFailure() << "only aten threw: " << refError << " (ours gave "
                                         << mine.typeString() << ")";
  return sameAs(mine, theirs, rtol, atol);
}

/// EXPECT that `stmt` throws `Exception` with a message containing `needle`.
#define EXPECT_THROW_MSG(stmt, Exception, needle)                                        \
  do {                                                                                   \
    try {                                                                                \
      stmt;                                                                              \
      ADD_FAILURE() << "expected " #Exception " from " #stmt;                            \
    } catch (const Exception& e) {                                                       \
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)                   \
          << "message was: " << e.what();                                                \
    }                                                                                    \
  } while (0)

inline at::IntArrayRef sizesOf(const std::vector<int64_t>& v) { return at::IntArrayRef(v); }

}  // namespace cocktail::runtime::cpu::testing

//===- runtime/Tensor.cpp -------------------------------------------------===//
#include "runtime/Tensor.h"

#include "ir/CacheAligned.h"
#include "runtime/TensorPlacement.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace cocktail::runtime {

// Throws std::length_error when the count does not fit an int64.
int64_t numElements(const Shape& shape) {
  // A zero dim anywhere makes the product 0, however large the others are.
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
  int64_t n = 1;
  for (int64_t d : shape)
    if (__builtin_mul_overflow(n, d, &n))  // a wrapped count would size a buffer too small
      throw std::length_error(fmt::format("shape {} has more elements than an int64 can count", shapeToString(shape)));
  return n;
}

std::string shapeToString(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

Tensor Tensor::withoutBuffer(DType dtype, Shape shape) {
  for (int64_t d : shape)
    if (d < 0) throw std::invalid_argument(fmt::format("negative dimension in shape {}", shapeToString(shape)));
  Tensor t;
  t.dtype_ = dtype;
  t.numel_ = numElements(shape);
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::empty(DType dtype, Shape shape) {
  Tensor t = withoutBuffer(dtype, std::move(shape));
  // Always allocate at least one element so that defined() holds for empty tensors.
  int64_t bytes = 0;
  if (__builtin_mul_overflow(std::max<int64_t>(t.numel_, 1), ir::dtypeSize(dtype), &bytes))
    throw std::length_error(
        fmt::format("a tensor of shape {} takes more bytes than an int64 can count", shapeToString(t.shape_)));
  t.buffer_ = TensorPlacement::take(dtype, t.shape_.size(), static_cast<size_t>(bytes));
  if (!t.buffer_) t.buffer_ = ir::allocateCacheAligned(static_cast<size_t>(bytes));
  return t;
}

Tensor Tensor::zeros(DType dtype, Shape shape) {
  Tensor t = empty(dtype, std::move(shape));
  std::memset(t.rawData(), 0, static_cast<size_t>(t.nbytes()));
  return t;
}

Tensor Tensor::fromBytes(DType dtype, Shape shape, const void* bytes) {
  Tensor t = empty(dtype, std::move(shape));
  if (t.nbytes() > 0) std::memcpy(t.rawData(), bytes, static_cast<size_t>(t.nbytes()));
  return t;
}

Tensor Tensor::borrowed(DType dtype, Shape shape, std::shared_ptr<const void> owner, const std::byte* bytes) {
  Tensor t = withoutBuffer(dtype, std::move(shape));
  if (t.numel_ == 0) return empty(dtype, std::move(t.shape_));
  // The aliasing constructor: the tensor points at `bytes` and shares the
  // owner's lifetime. The buffer type is mutable, hence the cast; the
  // contract above is what keeps the bytes unwritten.
  t.buffer_ = std::shared_ptr<std::byte[]>(std::move(owner), const_cast<std::byte*>(bytes));
  t.borrowed_ = true;
  return t;
}

Tensor Tensor::scalarF32(float v) {
  Tensor t = empty(DType::F32, {});
  *t.data<float>() = v;
  return t;
}

Tensor Tensor::scalarI64(int64_t v) {
  Tensor t = empty(DType::I64, {});
  *t.data<int64_t>() = v;
  return t;
}

Tensor Tensor::scalarBool(bool v) {
  Tensor t = empty(DType::I1, {});
  *t.data<bool>() = v;
  return t;
}

int64_t Tensor::size(int64_t d) const {
  int64_t rank = dim();
  if (d < 0) d += rank;
  if (d < 0 || d >= rank)
    throw std::out_of_range(fmt::format("dimension {} out of range for a tensor of rank {}", d, rank));
  return shape_[static_cast<size_t>(d)];
}

Tensor Tensor::reshaped(Shape shape) const {
  if (numElements(shape) != numel_)
    throw std::invalid_argument(
        fmt::format("cannot reshape {} into {}", shapeToString(shape_), shapeToString(shape)));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::aliasRange(Shape shape, int64_t elementOffset) const {
  const int64_t n = numElements(shape);
  if (elementOffset < 0 || elementOffset + n > numel_)
    throw std::out_of_range(fmt::format("a view of {} elements at offset {} exceeds a tensor of {} elements", n,
                                        elementOffset, numel_));
  Tensor t;
  t.dtype_ = dtype_;
  t.numel_ = n;
  t.shape_ = std::move(shape);
  // The aliasing constructor: shares ownership of the whole buffer, points inside it.
  t.buffer_ = std::shared_ptr<std::byte[]>(buffer_, buffer_.get() + elementOffset * ir::dtypeSize(dtype_));
  t.borrowed_ = borrowed_;
  return t;
}

Tensor Tensor::clone() const {
  if (!defined()) return {};
  return fromBytes(dtype_, shape_, rawData());
}

namespace {
template <typename F>
auto visitElement(const Tensor& t, F&& f) {
  if (t.numel() != 1)
    throw std::invalid_argument(
        fmt::format("expected a tensor with one element, got {}", t.typeString()));
  switch (t.dtype()) {
    case DType::F32: return f(static_cast<double>(*t.data<float>()));
    case DType::F64: return f(*t.data<double>());
    case DType::I64: return f(static_cast<double>(*t.data<int64_t>()), *t.data<int64_t>());
    case DType::I32: return f(static_cast<double>(*t.data<int32_t>()), int64_t{*t.data<int32_t>()});
    case DType::I1: return f(*t.data<bool>() ? 1.0 : 0.0, int64_t{*t.data<bool>() ? 1 : 0});
    case DType::U8: return f(static_cast<double>(*t.data<uint8_t>()), int64_t{*t.data<uint8_t>()});
    case DType::F16:
    case DType::BF16: break;
  }
  throw std::invalid_argument(fmt::format("reading one element of {} is not supported", t.typeString()));
}
}  // namespace

double Tensor::toDouble() const {
  return visitElement(*this, [](double d, auto&&...) { return d; });
}

int64_t Tensor::toInt64() const {
  return visitElement(*this, [](double d, auto&&... exact) -> int64_t {
    if constexpr (sizeof...(exact) == 1) {
      return (exact, ...);
    } else {
      return static_cast<int64_t>(d);
    }
  });
}

bool Tensor::toBool() const { return toDouble() != 0.0; }

std::string Tensor::typeString() const {
  return fmt::format("{}[{}]", ir::dtypeName(dtype_), fmt::join(shape_, ", "));
}

}  // namespace cocktail::runtime

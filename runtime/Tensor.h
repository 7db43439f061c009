//===- runtime/Tensor.h - Dense tensors at the runtime boundary ---------===//
//
// The runtime's own tensor: a dtype, a shape and a contiguous row-major
// buffer. It deliberately has no strides: a view that is not contiguous is
// materialised by the kernels, which keeps every kernel a simple loop nest and
// makes the CPU executor independent of LibTorch (LibTorch appears only where
// tensors cross into or out of the runtime, see runtime/TorchInterop.h). A
// view that is a contiguous range (`x[t]`, a chunk of a row) aliases the
// buffer instead, so selecting a layer's weights copies nothing.
//
// Copies share the buffer (like at::Tensor); `clone()` makes a deep copy.
// Kernels never write into their inputs, except the explicit in-place writes
// that check `uniquelyOwned()` first (the executor hands them a buffer nothing
// else can observe).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ir/DType.h"

namespace cocktail::runtime {

using ir::DType;
using Shape = std::vector<int64_t>;

/// Number of elements of a shape (1 for a 0-d tensor).
int64_t numElements(const Shape& shape);

/// "[2, 3, 4]"
std::string shapeToString(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;

  /// A tensor with uninitialised contents.
  static Tensor empty(DType dtype, Shape shape);
  /// A tensor filled with zeros.
  static Tensor zeros(DType dtype, Shape shape);
  /// A tensor that copies `bytes` (which must be numel * element size long).
  static Tensor fromBytes(DType dtype, Shape shape, const void* bytes);
  /// A tensor over `bytes` without copying them, which `owner` keeps alive
  /// for as long as the tensor (or a view of it) lives. Read-only by
  /// contract: whoever holds it must never write through it. An empty
  /// tensor gets a buffer of its own (there is nothing to share).
  static Tensor borrowed(DType dtype, Shape shape, std::shared_ptr<const void> owner, const std::byte* bytes);
  /// 0-d tensors holding one value.
  static Tensor scalarF32(float v);
  static Tensor scalarI64(int64_t v);
  static Tensor scalarBool(bool v);

  bool defined() const { return buffer_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return numel_; }
  int64_t nbytes() const { return numel_ * ir::dtypeSize(dtype_); }

  void* rawData() { return buffer_.get(); }
  const void* rawData() const { return buffer_.get(); }

  template <typename T>
  T* data() {
    return static_cast<T*>(rawData());
  }
  template <typename T>
  const T* data() const {
    return static_cast<const T*>(rawData());
  }
  template <typename T>
  std::span<T> span() {
    return {data<T>(), static_cast<size_t>(numel_)};
  }
  template <typename T>
  std::span<const T> span() const {
    return {data<T>(), static_cast<size_t>(numel_)};
  }

  /// Same buffer, new shape with the same number of elements.
  Tensor reshaped(Shape shape) const;
  /// A contiguous range of this tensor's elements, starting `elementOffset`
  /// elements in, viewed with `shape`; shares (and keeps alive) the buffer.
  Tensor aliasRange(Shape shape, int64_t elementOffset) const;
  /// True when no other tensor (copy or view) shares this buffer, so writing
  /// into it cannot be observed elsewhere.
  /// A borrowed tensor never is: its bytes belong to someone else.
  bool uniquelyOwned() const { return buffer_ && !borrowed_ && buffer_.use_count() == 1; }
  /// Deep copy.
  Tensor clone() const;

  /// The single element of a one-element tensor, converted.
  double toDouble() const;
  int64_t toInt64() const;
  bool toBool() const;

  /// "f32[2, 3]"
  std::string typeString() const;

 private:
  /// dtype and a checked shape; no buffer yet.
  static Tensor withoutBuffer(DType dtype, Shape shape);

  DType dtype_ = DType::F32;
  Shape shape_;
  int64_t numel_ = 0;
  std::shared_ptr<std::byte[]> buffer_;
  bool borrowed_ = false;  // made by borrowed(), or a view of such a tensor
};

}  // namespace cocktail::runtime

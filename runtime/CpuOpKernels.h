//===- runtime/CpuOpKernels.h - Ops decoded once, at load, into CPU kernels -----===//
//
// The CPU executor runs a loop body thousands of times. Everything about an
// op that does not change between its runs (which kernel, its attributes, its
// packed weights, its result's scalar type) is therefore decoded once, when
// the executor is created, into an OpKernel: a closure that holds the decoded
// values and reads only the op's operands at run time. No attribute is looked
// up by name, and no attribute vector copied, while a model runs (as TVM's VM
// resolves its instructions once at load).
//
// Control flow (loop, if) is not decoded here: it runs nested blocks, which
// is the executor's business.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "ir/Op.h"
#include "runtime/PackedWeights.h"
#include "runtime/RuntimeValue.h"

namespace cocktail::runtime {

namespace cpu {
class PackedConvWeights;
}

/// One run of one op: its operands and results as slots of the run's frame.
class OpOperands {
 public:
  /// `lastUse[i]`: operand i is read here for the last time, so its value
  /// may be moved out of the frame.
  OpOperands(std::vector<RuntimeValue>& frame, std::span<const int> in, std::span<const int> out,
             std::span<const char> lastUse)
      : frame_(frame), in_(in), out_(out), lastUse_(lastUse) {}

  size_t size() const { return in_.size(); }
  const RuntimeValue& operator[](size_t i) const { return frame_[static_cast<size_t>(in_[i])]; }
  /// Operand i as a tensor operand (ValueConversions' asTensor); `beside`: the
  /// operand whose dtype a float scalar i keeps to.
  Tensor tensor(size_t i) const;
  Tensor tensor(size_t i, size_t beside) const;
  /// Operand i as a tensor, moved out of the frame when this is its last use,
  /// so that a functional write can reuse its buffer.
  Tensor takeTensor(size_t i);

  size_t numResults() const { return out_.size(); }
  void set(RuntimeValue v, size_t result = 0) { frame_[static_cast<size_t>(out_[result])] = std::move(v); }

 private:
  std::vector<RuntimeValue>& frame_;
  std::span<const int> in_;
  std::span<const int> out_;
  std::span<const char> lastUse_;
};

/// An op's work with its attributes decoded; throws OpError or InputError
/// (runtime/OpError.h) or a kernel's std::exception.
using OpKernel = std::function<void(OpOperands&)>;

/// What a kernel may keep from the load besides the op's attributes.
struct KernelResources {
  /// A `weight` op's tensor.
  Tensor weight;
  /// A conv2d's constant weight, packed for the convolution kernel (or null).
  std::shared_ptr<const cpu::PackedConvWeights> packedConv;
  /// A linear layer's constant weight in GEMM panels (or none).
  PackedLinearWeights packedLinear;
};

/// Decodes a leaf op (not loop, if, fused or island). Throws OpError for an
/// op the CPU executor has no kernel for or whose attributes it cannot read.
OpKernel decodeCpuKernel(const ir::Op& op, KernelResources resources);

}  // namespace cocktail::runtime

//===- runtime/FusedElementwise.h - A fused op on the CPU --------------------------===//
//
// A `fused` op's body compiled once into a short list of vector steps over
// register blocks, then run block by block: each block of every input is
// read once, every intermediate lives in a small register block that stays
// in L1, and only the body's results are written to memory. This is the
// CPU's uTask for a fused uOperator: a block is a tile.
//
// A body that starts with a conv2d or linear (ir::fusedHead) runs that
// kernel, and the rest as its epilogue: on each piece of the output the
// GEMM has just finished, in place, while it is in cache.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/Op.h"
#include "ir/Status.h"
#include "runtime/RuntimeValue.h"
#include "runtime/cpu/Activation.h"

namespace cocktail::runtime {

namespace cpu {
class PackedConvWeights;
class PackedPanels;
}  // namespace cpu

/// A contraction head's weight packed at load: a conv2d's
/// (cpu/PackedConv.h) or a linear layer's (cpu/Gemm.h); null where none.
struct PackedHead {
  const cpu::PackedConvWeights* conv = nullptr;
  const cpu::PackedPanels* linear = nullptr;
};

class FusedElementwise {
 public:
  /// Compiles a verified `fused` op; an error names the body op it cannot run.
  static ir::Expected<FusedElementwise> compile(const ir::Op& op);

  /// Runs the body on `inputs` (one per operand of the op: f32 tensors of one
  /// shape, 0-d f32 tensors, or numbers) and returns one tensor per result.
  /// `packed`: the head's weight packed at load, if it is.
  /// Throws std::invalid_argument when the inputs do not fit.
  std::vector<Tensor> run(const std::vector<const RuntimeValue*>& inputs, PackedHead packed = {}) const;

  /// A contraction head: its kind, which operands of the op are its input
  /// and its weight, and (a conv2d's) stride, groups and dilation: what
  /// decides whether packed weights serve it, and in which layout.
  struct HeadOperands {
    ir::OpKind kind = ir::OpKind::Conv2d;
    size_t input = 0, weight = 1;
    std::array<int64_t, 2> stride{1, 1};
    int64_t groups = 1;
    std::array<int64_t, 2> dilation{1, 1};
  };
  std::optional<HeadOperands> headOperands() const;

  size_t numSteps() const { return steps_.size(); }

 private:
  /// Blocks [b0, b1) of the elements: `data[i]` is slot i's elements, or
  /// null for a number (`value[i]`, broadcast); results go to `out[r]`;
  /// `head` as for runTile.
  void runBlocks(int64_t b0, int64_t b1, int64_t n, const std::vector<const float*>& data,
                 const std::vector<float>& value, float* const* out, const float* head) const;
  /// A tile of rows x width elements (at most one block), the first at
  /// `start`, rows `stride` apart. `head` (with a head) is the head's output;
  /// results go to `out[r]` at the same positions.
  void runTile(int64_t start, int64_t rows, int64_t width, int64_t stride, const std::vector<const float*>& data,
               const std::vector<float>& value, float* const* out, const float* head) const;
  /// The head's kernel on its inputs, with the epilogue on its output.
  Tensor runHead(const std::vector<const RuntimeValue*>& inputs, const std::vector<const float*>& data,
                 const std::vector<float>& value, PackedHead packed) const;

  enum class Fn : uint8_t { Add, Sub, Mul, Div, Max, Min, Neg, Sigmoid, Tanh, Relu, Exp, Log, Sqrt, Rsqrt, Abs,
                            Reciprocal, Silu, Clamp, Activation };
  /// dst = fn(a[, b]); operands index the block table: inputs first, then
  /// one register per body value.
  struct Step {
    Fn fn;
    int a = -1, b = -1, dst = -1;
    float lo = 0, hi = 0;                // Clamp: the bounds (+-inf when absent)
    cpu::Activation activation{};       // Activation: which, and its attributes
    cpu::ActivationParams params;
  };
  /// A contraction the body starts with; its result is slot numInputs_.
  struct Head {
    ir::OpKind kind = ir::OpKind::Conv2d;
    std::vector<int> inputs;  // the inputs it reads: x, w[, bias]
    std::array<int64_t, 2> stride{1, 1}, padding{0, 0}, dilation{1, 1};
    int64_t groups = 1;
    Shape shape;  // of its output, static
  };
  std::optional<Head> head_;
  int numInputs_ = 0;
  /// Inputs, then the head's result if there is a head: what `data` holds.
  int numSlots_ = 0;
  int numRegisters_ = 0;
  /// Per slot: whether a step or a result reads it (a head's inputs are not).
  std::vector<bool> used_;
  std::vector<Step> steps_;
  std::vector<int> results_;  // block index of each yielded value
};

}  // namespace cocktail::runtime

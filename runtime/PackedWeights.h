//===- runtime/PackedWeights.h - An artifact's weights packed for the CPU kernels ----===//
//
// Some CPU kernels read a constant weight in a layout of their own: the
// convolution kernel on blocks of 32 output channels (cpu/PackedConv.h), the
// Winograd convolution on transformed filters (cpu/WinogradConv.h), the GEMM
// in panels of 32 columns (cpu/Gemm.h). Packing such a weight on every
// call costs a pass over it per call; the executor packs an artifact's
// weights once, at load, for the ops that read them, and hands each op its
// packed copy. The copies cost that much memory again.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ir/Value.h"
#include "runtime/RuntimeValue.h"
#include "runtime/cpu/Gemm.h"
#include "runtime/cpu/PackedConv.h"

namespace cocktail::runtime {

/// A linear layer's weights packed in GEMM panels, by the address of the data
/// each was packed from: an artifact weight, or every slice of a stacked one
/// that the op selects by index (LSTM's w_ih[l]). The weight an op receives
/// is looked up by address; only those buffers, which never change while
/// the executor lives, can match.
struct PackedLinearWeights {
  std::vector<std::pair<const void*, std::shared_ptr<const cpu::PackedPanels>>> byAddress;

  /// The packing of `weight`, or null (not a tensor packed here).
  const cpu::PackedPanels* find(const RuntimeValue& weight) const;
};

/// Packs an executor's weights on request, each weight (or slice) once.
class PackedWeights {
 public:
  /// `weights`: the artifact's weights by name; they must outlive this.
  explicit PackedWeights(const std::unordered_map<std::string, Tensor>& weights) : weights_(weights) {}

  /// A conv2d's `weight` packed for a convolution kernel, if it is an f32
  /// artifact weight and packing pays for this convolution: for Winograd
  /// F(2x2, 3x3) where cpu::winogradPays on an input of type `x` (its height
  /// and width known), else in blocks of channels where cpu::packedConvPays;
  /// null otherwise.
  std::shared_ptr<const cpu::PackedConvWeights> forConv(const ir::Value& weight, const ir::Type& x,
                                                        std::array<int64_t, 2> stride,
                                                        std::array<int64_t, 2> dilation, int64_t groups);

  /// A linear layer's `weight` in GEMM panels, if its input (of type `x`)
  /// may have more than one row (one row is a GEMV, which reads the weight
  /// as it is) and the weight is a 2-d f32 artifact weight or a slice of a
  /// 3-d one selected along dim 0; empty otherwise.
  PackedLinearWeights forLinear(const ir::Value& weight, const ir::Type& x);

 private:
  const std::unordered_map<std::string, Tensor>& weights_;
  /// By weight name and layout.
  std::map<std::pair<std::string, cpu::PackedConvWeights::Layout>, std::shared_ptr<const cpu::PackedConvWeights>>
      conv_;
  /// By weight name and slice (-1: the whole weight).
  std::map<std::pair<std::string, int64_t>, std::shared_ptr<const cpu::PackedPanels>> linear_;
};

}  // namespace cocktail::runtime

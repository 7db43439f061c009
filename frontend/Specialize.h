//===- frontend/Specialize.h - Fold guards on the input specs --------------------===//
//
// The `--input` specs fix every argument's dtype, rank and device, so the
// guards PyTorch's own modules are full of (`input.dim() != 3`, `hx is None`,
// `x.dtype`, `x.device.type`, `isinstance`, formatted messages for `raise`
// and `warnings.warn`) are compile-time constants. This pass types the
// graph's inputs from the specs, folds those guards on the TorchScript graph
// and lets TorchScript's own constant propagation and dead-code elimination
// drop the branches that can no longer be taken, to a fixed point, before the
// graph is translated. Internal to the frontend (it includes LibTorch).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/csrc/jit/ir/ir.h>

#include "ir/Type.h"

namespace cocktail::frontend {

/// The attribute Specialize leaves on aten::_transformer_encoder_layer_fwd and
/// aten::_native_multi_head_attention: their mask's c10::ScalarType, when known.
inline c10::Symbol maskDTypeAttr() { return c10::Symbol::attr("cocktail_mask_dtype"); }

/// The attribute Specialize leaves on the padding, roll and upsampling ops
/// (aten::pad, aten::roll, aten::upsample_nearest2d, ...), aten::glu and
/// aten::repeat_interleave: the static sizes of their input, -1 for a dynamic
/// one, when its rank is known.
inline c10::Symbol inputSizesAttr() { return c10::Symbol::attr("cocktail_input_sizes"); }

/// Specialises `graph` (frozen and inlined; input 0 is `self`) on the types
/// of its other inputs, in order. Raises that can still happen keep their
/// message text; `warnings.warn` calls are dropped.
/// `specialized`, when given, receives the graph's text with the refined
/// types, before they are erased for the translator.
void specializeOnInputs(const std::shared_ptr<torch::jit::Graph>& graph, const std::vector<ir::Type>& argTypes,
                        std::string* specialized = nullptr);

}  // namespace cocktail::frontend

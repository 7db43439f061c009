//===- runtime/AtenTensor.h - runtime::Tensor <-> at::Tensor -----------------------===//
//
// For code that already includes ATen (the LibTorch boundary, the Python
// integration, tests). Both directions copy: runtime tensors own their bytes.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <ATen/ATen.h>
#include <ATen/core/ivalue.h>

#include "ir/Status.h"
#include "runtime/RuntimeValue.h"

namespace cocktail::runtime {

/// Throws std::invalid_argument for dtypes the runtime does not have, and for
/// a tensor whose storage cannot hold its shape, strides and offset.
Tensor fromAten(const at::Tensor& t);
at::Tensor toAten(const Tensor& t);

/// Tensors and numbers; anything else is an error naming its type.
ir::Expected<RuntimeValue> fromIValue(const c10::IValue& v);
c10::IValue toIValue(const RuntimeValue& v);

}  // namespace cocktail::runtime

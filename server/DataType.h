//===- server/DataType.h - Triton's datatypes and Cocktail's dtypes ----------------===//
//
// The protocol names element types twice: as strings in requests and
// metadata ("FP32") and as the DataType enum in model configs (TYPE_FP32).
// Both map onto ir::DType here, in one table.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <optional>
#include <string_view>

#include "ir/DType.h"
#include "model_config.pb.h"

namespace cocktail::server {

/// "FP32", "INT64", "BOOL", ...
std::string_view tritonDatatype(ir::DType dtype);
/// nullopt for a Triton datatype Cocktail has no dtype for (UINT8, BYTES, ...).
std::optional<ir::DType> dtypeFromTriton(std::string_view datatype);

inference::DataType configDataType(ir::DType dtype);
std::optional<ir::DType> dtypeFromConfig(inference::DataType type);

}  // namespace cocktail::server

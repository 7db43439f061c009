//===- server/DataType.cpp ------------------------------------------------------------===//
#include "server/DataType.h"

namespace cocktail::server {
namespace {

struct Row {
  ir::DType dtype;
  std::string_view triton;
  inference::DataType config;
};

constexpr Row kTable[] = {
    {ir::DType::F32, "FP32", inference::TYPE_FP32},   {ir::DType::F64, "FP64", inference::TYPE_FP64},
    {ir::DType::F16, "FP16", inference::TYPE_FP16},   {ir::DType::BF16, "BF16", inference::TYPE_BF16},
    {ir::DType::I64, "INT64", inference::TYPE_INT64}, {ir::DType::I32, "INT32", inference::TYPE_INT32},
    {ir::DType::I1, "BOOL", inference::TYPE_BOOL},    {ir::DType::U8, "UINT8", inference::TYPE_UINT8},
};

}  // namespace

std::string_view tritonDatatype(ir::DType dtype) {
  for (const Row& r : kTable)
    if (r.dtype == dtype) return r.triton;
  return "INVALID";
}

std::optional<ir::DType> dtypeFromTriton(std::string_view datatype) {
  for (const Row& r : kTable)
    if (r.triton == datatype) return r.dtype;
  return std::nullopt;
}

inference::DataType configDataType(ir::DType dtype) {
  for (const Row& r : kTable)
    if (r.dtype == dtype) return r.config;
  return inference::TYPE_INVALID;
}

std::optional<ir::DType> dtypeFromConfig(inference::DataType type) {
  for (const Row& r : kTable)
    if (r.config == type) return r.dtype;
  return std::nullopt;
}

}  // namespace cocktail::server

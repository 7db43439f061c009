//===- runtime/PackedWeights.cpp --------------------------------------------------===//
#include "runtime/PackedWeights.h"

#include "ir/Op.h"
#include "runtime/cpu/WinogradConv.h"

namespace cocktail::runtime {

namespace {

/// Whether a value of type `t` may have more than one row (all dims but the
/// last); unknown dims may.
bool mayHaveRows(const ir::Type& t) {
  if (!t.hasRank()) return true;
  int64_t rows = 1;
  const std::vector<ir::Dim>& dims = t.dims();
  for (size_t i = 0; i + 1 < dims.size(); ++i) {
    if (!dims[i].isConstant()) return true;
    rows *= dims[i].value();
  }
  return rows > 1;
}

}  // namespace

const cpu::PackedPanels* PackedLinearWeights::find(const RuntimeValue& weight) const {
  const Tensor* w = std::get_if<Tensor>(&weight);
  if (!w || w->dim() != 2) return nullptr;
  for (const auto& [data, packed] : byAddress)
    if (data == w->rawData() && packed->m() == w->shape()[0] && packed->k() == w->shape()[1]) return packed.get();
  return nullptr;
}

std::shared_ptr<const cpu::PackedConvWeights> PackedWeights::forConv(const ir::Value& weight, const ir::Type& x,
                                                                     std::array<int64_t, 2> stride,
                                                                     std::array<int64_t, 2> dilation, int64_t groups) {
  using Layout = cpu::PackedConvWeights::Layout;
  const ir::Op* def = weight.definingOp();
  if (!def || def->kind() != ir::OpKind::Weight) return nullptr;
  const std::string name = def->attrs().getString("name").value_or("");
  auto it = weights_.find(name);
  if (it == weights_.end() || it->second.dtype() != DType::F32) return nullptr;
  const Shape& shape = it->second.shape();
  // The input's height and width, where the type says them (NCHW or CHW).
  int64_t H = -1, W = -1;
  if (x.hasRank() && x.rank() >= 3) {
    const auto& dims = x.dims();
    const ir::Dim h = dims[dims.size() - 2], w = dims[dims.size() - 1];
    if (h.isConstant() && w.isConstant()) H = h.value(), W = w.value();
  }
  Layout layout;
  if (H >= 0 && cpu::winogradPays(shape, stride, dilation, groups, H, W))
    layout = Layout::Winograd;
  else if (cpu::packedConvPays(shape, stride, groups))
    layout = Layout::ChannelBlocks;
  else
    return nullptr;
  auto& packed = conv_[{name, layout}];
  if (!packed) packed = std::make_shared<const cpu::PackedConvWeights>(it->second, layout);
  return packed;
}

PackedLinearWeights PackedWeights::forLinear(const ir::Value& weight, const ir::Type& x) {
  PackedLinearWeights out;
  const ir::Op* def = weight.definingOp();
  if (!def || !mayHaveRows(x)) return out;
  const bool sliced = def->kind() == ir::OpKind::Select && def->attrs().getInt("dim") == 0;
  const ir::Op* source = sliced ? def->operand(0)->definingOp() : def;
  if (!source || source->kind() != ir::OpKind::Weight) return out;
  const std::string name = source->attrs().getString("name").value_or("");
  auto it = weights_.find(name);
  if (it == weights_.end() || it->second.dtype() != DType::F32 || it->second.dim() != (sliced ? 3 : 2)) return out;
  const Tensor& w = it->second;
  const int64_t slices = sliced ? w.shape()[0] : 1, m = w.shape()[w.dim() - 2], k = w.shape()[w.dim() - 1];
  for (int64_t i = 0; i < slices; ++i) {
    const float* data = w.data<float>() + i * m * k;
    auto& packed = linear_[{name, sliced ? i : -1}];
    if (!packed) packed = std::make_shared<const cpu::PackedPanels>(data, k, m, k, cpu::BLayout::Transposed);
    out.byAddress.emplace_back(data, packed);
  }
  return out;
}

}  // namespace cocktail::runtime

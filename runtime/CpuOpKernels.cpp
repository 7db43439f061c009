//===- runtime/CpuOpKernels.cpp - Ops decoded once, at load, into CPU kernels ---===//
#include "runtime/CpuOpKernels.h"

#include <array>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "runtime/OpError.h"
#include "runtime/ScalarMath.h"
#include "runtime/ValueConversions.h"
#include "runtime/cpu/Kernels.h"

namespace cocktail::runtime {

using ir::DType;
using ir::OpKind;

Tensor OpOperands::tensor(size_t i) const { return asTensor((*this)[i]); }

Tensor OpOperands::tensor(size_t i, size_t beside) const { return asTensor((*this)[i], &(*this)[beside]); }

Tensor OpOperands::takeTensor(size_t i) {
  RuntimeValue& v = frame_[static_cast<size_t>(in_[i])];
  if (lastUse_[i] && std::holds_alternative<Tensor>(v)) return std::get<Tensor>(std::move(v));
  return asTensor(v);
}

namespace {

cpu::BinaryOp binaryOpOf(OpKind k) {
  switch (k) {
    case OpKind::Add: return cpu::BinaryOp::Add;
    case OpKind::Sub: return cpu::BinaryOp::Sub;
    case OpKind::Mul: return cpu::BinaryOp::Mul;
    case OpKind::Div: return cpu::BinaryOp::Div;
    case OpKind::Pow: return cpu::BinaryOp::Pow;
    case OpKind::Maximum: return cpu::BinaryOp::Maximum;
    case OpKind::Minimum: return cpu::BinaryOp::Minimum;
    case OpKind::Remainder: return cpu::BinaryOp::Remainder;
    case OpKind::FloorDiv: return cpu::BinaryOp::FloorDivide;
    case OpKind::Eq: return cpu::BinaryOp::Eq;
    case OpKind::Ne: return cpu::BinaryOp::Ne;
    case OpKind::Lt: return cpu::BinaryOp::Lt;
    case OpKind::Le: return cpu::BinaryOp::Le;
    case OpKind::Gt: return cpu::BinaryOp::Gt;
    case OpKind::Ge: return cpu::BinaryOp::Ge;
    case OpKind::And: return cpu::BinaryOp::LogicalAnd;
    case OpKind::Or: return cpu::BinaryOp::LogicalOr;
    case OpKind::Xor: return cpu::BinaryOp::LogicalXor;
    default: break;
  }
  throw OpError("not a binary op");
}

/// TorchScript's `&`, `|`, `^`: logical on two bool tensors, else bitwise.
cpu::BinaryOp bitwiseOpOf(OpKind k) {
  switch (k) {
    case OpKind::And: return cpu::BinaryOp::BitwiseAnd;
    case OpKind::Or: return cpu::BinaryOp::BitwiseOr;
    default: return cpu::BinaryOp::BitwiseXor;
  }
}

cpu::UnaryOp unaryOpOf(OpKind k) {
  switch (k) {
    case OpKind::Neg: return cpu::UnaryOp::Neg;
    case OpKind::Sigmoid: return cpu::UnaryOp::Sigmoid;
    case OpKind::Tanh: return cpu::UnaryOp::Tanh;
    case OpKind::Relu: return cpu::UnaryOp::Relu;
    case OpKind::Exp: return cpu::UnaryOp::Exp;
    case OpKind::Log: return cpu::UnaryOp::Log;
    case OpKind::Sqrt: return cpu::UnaryOp::Sqrt;
    case OpKind::Rsqrt: return cpu::UnaryOp::Rsqrt;
    case OpKind::Abs: return cpu::UnaryOp::Abs;
    case OpKind::Not: return cpu::UnaryOp::LogicalNot;
    case OpKind::Gelu: return cpu::UnaryOp::Gelu;
    case OpKind::Erf: return cpu::UnaryOp::Erf;
    case OpKind::Sin: return cpu::UnaryOp::Sin;
    case OpKind::Cos: return cpu::UnaryOp::Cos;
    case OpKind::Floor: return cpu::UnaryOp::Floor;
    case OpKind::Ceil: return cpu::UnaryOp::Ceil;
    case OpKind::Round: return cpu::UnaryOp::Round;
    case OpKind::Reciprocal: return cpu::UnaryOp::Reciprocal;
    case OpKind::Silu: return cpu::UnaryOp::Silu;
    default: break;
  }
  throw OpError("not a unary op");
}

/// Reads `op`'s attributes by name, once, with an error naming the one that
/// is missing or malformed (the verifier has checked them; an executor built
/// from an unverified program still fails cleanly).
class AttrReader {
 public:
  explicit AttrReader(const ir::Op& op) : op_(op), a_(op.attrs()) {}

  int64_t integer(const char* name) const { return required(a_.getInt(name), name, "an int"); }
  std::optional<int64_t> optionalInteger(const char* name) const { return a_.getInt(name); }
  std::vector<int64_t> ints(const char* name) const { return required(a_.getInts(name), name, "a list of ints"); }
  std::array<int64_t, 2> pair(const char* name) const {
    std::vector<int64_t> v = ints(name);
    if (v.size() != 2) throw error(name, "a list of two ints");
    return {v[0], v[1]};
  }
  bool flag(const char* name) const { return required(a_.getBool(name), name, "a bool"); }
  bool flagOr(const char* name, bool otherwise) const { return a_.getBool(name).value_or(otherwise); }
  double real(const char* name) const { return required(a_.getFloat(name), name, "a number"); }
  std::optional<double> optionalReal(const char* name) const { return a_.getFloat(name); }
  DType dtype(const char* name) const { return required(a_.getDType(name), name, "a dtype"); }
  std::optional<DType> optionalDType(const char* name) const { return a_.getDType(name); }
  std::string text(const char* name, const char* otherwise) const { return a_.getString(name).value_or(otherwise); }

  /// The result's scalar type (for scalar math and casts).
  DType resultDType() const { return op_.numResults() ? op_.result()->type().dtype() : DType::I1; }

 private:
  template <typename T>
  T required(std::optional<T> v, const char* name, const char* what) const {
    if (!v) throw error(name, what);
    return std::move(*v);
  }
  OpError error(const char* name, const char* what) const {
    return OpError(fmt::format("'{}' needs its attribute '{}' as {}", op_.name(), name, what));
  }

  const ir::Op& op_;
  const ir::Attributes& a_;
};

OpKernel decodeBinary(const ir::Op& op, DType resultDType) {
  const OpKind kind = op.kind();
  const cpu::BinaryOp tensorOp = binaryOpOf(kind);
  const bool bitwiseOnInts = kind == OpKind::And || kind == OpKind::Or || kind == OpKind::Xor;
  const cpu::BinaryOp intOp = bitwiseOnInts ? bitwiseOpOf(kind) : tensorOp;
  return [=](OpOperands& x) {
    if (isScalar(x[0]) && isScalar(x[1])) return x.set(scalarBinary(kind, x[0], x[1], resultDType));
    Tensor a = x.tensor(0, 1), b = x.tensor(1, 0);
    const bool bothBool = a.dtype() == DType::I1 && b.dtype() == DType::I1;
    x.set(cpu::binary(bothBool ? tensorOp : intOp, a, b));
  };
}

OpKernel decodeUnary(const ir::Op& op, DType resultDType) {
  const OpKind kind = op.kind();
  const cpu::UnaryOp tensorOp = unaryOpOf(kind);
  return [=](OpOperands& x) {
    if (isScalar(x[0])) return x.set(scalarUnary(kind, x[0], resultDType));
    Tensor t = x.tensor(0);
    // `~` on an integer tensor is bitwise; on a bool tensor, logical.
    if (kind == OpKind::Not && t.dtype() != DType::I1) return x.set(cpu::unary(cpu::UnaryOp::BitwiseNot, t));
    x.set(cpu::unary(tensorOp, t));
  };
}

/// The operands from `first` on, as ints (a shape given as SSA values).
std::vector<int64_t> intsFrom(const OpOperands& x, size_t first) {
  std::vector<int64_t> v;
  v.reserve(x.size() - first);
  for (size_t i = first; i < x.size(); ++i) v.push_back(asInt(x[i]));
  return v;
}

/// Indices of `index` / `index_put`: operand first + k indexes dimension dims[k].
std::vector<std::optional<Tensor>> indicesOf(const OpOperands& x, size_t first, const std::vector<int64_t>& dims) {
  std::vector<std::optional<Tensor>> indices;
  for (size_t k = 0; k < dims.size(); ++k) {
    while (indices.size() < static_cast<size_t>(dims[k])) indices.push_back(std::nullopt);
    indices.push_back(x.tensor(first + k));
  }
  return indices;
}

/// Sets an op's results from the pieces a kernel split its input into.
void setPieces(OpOperands& x, std::vector<Tensor> pieces) {
  if (pieces.size() != x.numResults())
    throw OpError(fmt::format("produced {} pieces but the program unpacks {}", pieces.size(), x.numResults()));
  for (size_t k = 0; k < pieces.size(); ++k) x.set(std::move(pieces[k]), k);
}

OpKernel decodeReductionOrScan(const ir::Op& op, const AttrReader& attr) {
  switch (op.kind()) {
    case OpKind::Sum: {
      auto dims = attr.ints("dims");
      bool keep = attr.flag("keepdim");
      auto dtype = attr.optionalDType("dtype");
      return [=](OpOperands& x) { x.set(cpu::sum(x.tensor(0), dims, keep, dtype)); };
    }
    case OpKind::Mean:
    case OpKind::Amax:
    case OpKind::Amin: {
      auto dims = attr.ints("dims");
      bool keep = attr.flag("keepdim");
      if (op.kind() == OpKind::Mean) return [=](OpOperands& x) { x.set(cpu::mean(x.tensor(0), dims, keep)); };
      if (op.kind() == OpKind::Amax) return [=](OpOperands& x) { x.set(cpu::amax(x.tensor(0), dims, keep)); };
      return [=](OpOperands& x) { x.set(cpu::amin(x.tensor(0), dims, keep)); };
    }
    case OpKind::MaxDim:
    case OpKind::MinDim: {
      int64_t dim = attr.integer("dim");
      bool keep = attr.flag("keepdim");
      bool max = op.kind() == OpKind::MaxDim;
      return [=](OpOperands& x) {
        auto [v, i] = max ? cpu::maxDim(x.tensor(0), dim, keep) : cpu::minDim(x.tensor(0), dim, keep);
        x.set(std::move(v), 0);
        x.set(std::move(i), 1);
      };
    }
    case OpKind::Argmax:
    case OpKind::Argmin:
    case OpKind::Any:
    case OpKind::All: {
      auto dim = attr.optionalInteger("dim");
      bool keep = attr.flag("keepdim");
      using Fn = Tensor (*)(const Tensor&, std::optional<int64_t>, bool);
      Fn fn = op.kind() == OpKind::Argmax   ? &cpu::argmax
              : op.kind() == OpKind::Argmin ? &cpu::argmin
              : op.kind() == OpKind::Any    ? &cpu::any
                                            : &cpu::all;
      return [=](OpOperands& x) { x.set(fn(x.tensor(0), dim, keep)); };
    }
    case OpKind::Softmax:
    case OpKind::LogSoftmax: {
      int64_t dim = attr.integer("dim");
      if (op.kind() == OpKind::Softmax) return [=](OpOperands& x) { x.set(cpu::softmax(x.tensor(0), dim)); };
      return [=](OpOperands& x) { x.set(cpu::logSoftmax(x.tensor(0), dim)); };
    }
    case OpKind::Topk: {
      int64_t k = attr.integer("k"), dim = attr.integer("dim");
      bool largest = attr.flag("largest");
      return [=](OpOperands& x) {
        auto [v, i] = cpu::topk(x.tensor(0), k, dim, largest);
        x.set(std::move(v), 0);
        x.set(std::move(i), 1);
      };
    }
    case OpKind::Cumsum: {
      int64_t dim = attr.integer("dim");
      auto dtype = attr.optionalDType("dtype");
      return [=](OpOperands& x) { x.set(cpu::cumsum(x.tensor(0), dim, dtype)); };
    }
    default: return nullptr;
  }
}

OpKernel decodeLayout(const ir::Op& op, const AttrReader& attr) {
  switch (op.kind()) {
    case OpKind::Reshape: return [](OpOperands& x) { x.set(cpu::reshape(x.tensor(0), intsFrom(x, 1))); };
    case OpKind::Expand: return [](OpOperands& x) { x.set(cpu::expand(x.tensor(0), intsFrom(x, 1))); };
    case OpKind::ReshapeAs: return [](OpOperands& x) { x.set(cpu::reshape(x.tensor(0), x.tensor(1).shape())); };
    case OpKind::ExpandAs: return [](OpOperands& x) { x.set(cpu::expand(x.tensor(0), x.tensor(1).shape())); };
    case OpKind::Permute: {
      auto dims = attr.ints("dims");
      return [=](OpOperands& x) { x.set(cpu::permute(x.tensor(0), dims)); };
    }
    case OpKind::Transpose: {
      int64_t d0 = attr.integer("dim0"), d1 = attr.integer("dim1");
      return [=](OpOperands& x) { x.set(cpu::transpose(x.tensor(0), d0, d1)); };
    }
    case OpKind::Unsqueeze: {
      int64_t dim = attr.integer("dim");
      return [=](OpOperands& x) { x.set(cpu::unsqueeze(x.tensor(0), dim)); };
    }
    case OpKind::Squeeze: {
      if (auto dim = attr.optionalInteger("dim"))
        return [d = *dim](OpOperands& x) { x.set(cpu::squeeze(x.tensor(0), d)); };
      return [](OpOperands& x) { x.set(cpu::squeeze(x.tensor(0))); };
    }
    case OpKind::Flatten: {
      int64_t start = attr.integer("start"), end = attr.integer("end");
      return [=](OpOperands& x) { x.set(cpu::flatten(x.tensor(0), start, end)); };
    }
    case OpKind::Slice: {
      int64_t dim = attr.integer("dim"), step = attr.integer("step");
      return [=](OpOperands& x) { x.set(cpu::slice(x.tensor(0), dim, asInt(x[1]), asInt(x[2]), step)); };
    }
    case OpKind::Select: {
      int64_t dim = attr.integer("dim");
      return [=](OpOperands& x) { x.set(cpu::select(x.tensor(0), dim, asInt(x[1]))); };
    }
    case OpKind::IndexSelect: {
      int64_t dim = attr.integer("dim");
      return [=](OpOperands& x) { x.set(cpu::indexSelect(x.tensor(0), dim, x.tensor(1))); };
    }
    case OpKind::Index:
    case OpKind::IndexPut: {
      auto dims = attr.ints("dims");
      for (int64_t d : dims)
        if (d < 0) throw OpError(fmt::format("'{}' has a negative index position {}", op.name(), d));
      if (op.kind() == OpKind::Index)
        return [=](OpOperands& x) { x.set(cpu::index(x.tensor(0), indicesOf(x, 1, dims))); };
      bool accumulate = attr.flagOr("accumulate", false);
      return [=](OpOperands& x) {
        auto indices = indicesOf(x, 2, dims);
        x.set(cpu::indexPut(x.takeTensor(0), indices, x.tensor(1), accumulate));
      };
    }
    case OpKind::Gather: {
      int64_t dim = attr.integer("dim");
      return [=](OpOperands& x) { x.set(cpu::gather(x.tensor(0), dim, x.tensor(1))); };
    }
    case OpKind::Cat:
    case OpKind::Stack: {
      int64_t dim = attr.integer("dim");
      bool cat = op.kind() == OpKind::Cat;
      return [=](OpOperands& x) {
        std::vector<Tensor> ts;
        ts.reserve(x.size());
        for (size_t i = 0; i < x.size(); ++i) ts.push_back(x.tensor(i));
        x.set(cat ? cpu::cat(ts, dim) : cpu::stack(ts, dim));
      };
    }
    case OpKind::Chunk: {
      int64_t chunks = attr.integer("chunks"), dim = attr.integer("dim");
      return [=](OpOperands& x) { setPieces(x, cpu::chunk(x.tensor(0), chunks, dim)); };
    }
    case OpKind::Split: {
      auto sizes = attr.ints("sizes");
      int64_t dim = attr.integer("dim");
      return [=](OpOperands& x) { setPieces(x, cpu::splitWithSizes(x.tensor(0), sizes, dim)); };
    }
    case OpKind::Flip: {
      auto dims = attr.ints("dims");
      return [=](OpOperands& x) { x.set(cpu::flip(x.tensor(0), dims)); };
    }
    case OpKind::Repeat: {
      auto repeats = attr.ints("repeats");
      return [=](OpOperands& x) { x.set(cpu::repeat(x.tensor(0), repeats)); };
    }
    case OpKind::Tril:
    case OpKind::Triu: {
      int64_t diagonal = attr.integer("diagonal");
      if (op.kind() == OpKind::Tril) return [=](OpOperands& x) { x.set(cpu::tril(x.tensor(0), diagonal)); };
      return [=](OpOperands& x) { x.set(cpu::triu(x.tensor(0), diagonal)); };
    }
    case OpKind::SliceScatter: {
      int64_t dim = attr.integer("dim"), step = attr.integer("step");
      return [=](OpOperands& x) {
        Tensor src = x.tensor(1);
        x.set(cpu::sliceScatter(x.takeTensor(0), src, dim, asInt(x[2]), asInt(x[3]), step));
      };
    }
    case OpKind::SelectScatter: {
      int64_t dim = attr.integer("dim");
      return [=](OpOperands& x) {
        Tensor src = x.tensor(1);
        x.set(cpu::selectScatter(x.takeTensor(0), src, dim, asInt(x[2])));
      };
    }
    case OpKind::CopyInto: return [](OpOperands& x) { x.set(cpu::copyInto(x.tensor(0), x.tensor(1))); };
    case OpKind::Scatter: {
      int64_t dim = attr.integer("dim");
      return [=](OpOperands& x) { x.set(cpu::scatter(x.tensor(0), dim, x.tensor(1), x.tensor(2))); };
    }
    default: return nullptr;
  }
}

OpKernel decodeNN(const ir::Op& op, const AttrReader& attr, KernelResources& res) {
  switch (op.kind()) {
    case OpKind::Matmul: return [](OpOperands& x) { x.set(cpu::matmul(x.tensor(0), x.tensor(1))); };
    case OpKind::Linear: {
      return [packed = std::move(res.packedLinear)](OpOperands& x) {
        Tensor bias = x.size() > 2 ? x.tensor(2) : Tensor();
        x.set(cpu::linear(x.tensor(0), x.tensor(1), x.size() > 2 ? &bias : nullptr, packed.find(x[1])));
      };
    }
    case OpKind::Addmm: {
      double beta = attr.real("beta"), alpha = attr.real("alpha");
      return [=](OpOperands& x) { x.set(cpu::addmm(x.tensor(0), x.tensor(1), x.tensor(2), beta, alpha)); };
    }
    case OpKind::Embedding: return [](OpOperands& x) { x.set(cpu::embedding(x.tensor(0), x.tensor(1))); };
    case OpKind::Conv2d: {
      auto stride = attr.pair("stride"), padding = attr.pair("padding"), dilation = attr.pair("dilation");
      int64_t groups = attr.integer("groups");
      return [=, packed = res.packedConv](OpOperands& x) {
        Tensor bias = x.size() > 2 ? x.tensor(2) : Tensor();
        x.set(cpu::conv2d(x.tensor(0), x.tensor(1), x.size() > 2 ? &bias : nullptr, stride, padding, dilation, groups,
                          nullptr, packed.get()));
      };
    }
    case OpKind::ConvTranspose2d: {
      auto stride = attr.pair("stride"), padding = attr.pair("padding"), outputPadding = attr.pair("output_padding"),
           dilation = attr.pair("dilation");
      int64_t groups = attr.integer("groups");
      return [=](OpOperands& x) {
        Tensor bias = x.size() > 2 ? x.tensor(2) : Tensor();
        x.set(cpu::convTranspose2d(x.tensor(0), x.tensor(1), x.size() > 2 ? &bias : nullptr, stride, padding,
                                   outputPadding, dilation, groups));
      };
    }
    case OpKind::BatchNorm: {
      double eps = attr.real("eps");
      return [=](OpOperands& x) {
        Tensor w = x.tensor(3), b = x.tensor(4);
        x.set(cpu::batchNorm(x.tensor(0), x.tensor(1), x.tensor(2), &w, &b, eps));
      };
    }
    case OpKind::LayerNorm: {
      auto shape = attr.ints("shape");
      double eps = attr.real("eps");
      return [=](OpOperands& x) {
        Tensor w = x.tensor(1), b = x.tensor(2);
        x.set(cpu::layerNorm(x.tensor(0), shape, &w, &b, eps));
      };
    }
    case OpKind::MaxPool2d: {
      auto kernel = attr.pair("kernel"), stride = attr.pair("stride"), padding = attr.pair("padding"),
           dilation = attr.pair("dilation");
      bool ceil = attr.flag("ceil_mode");
      return [=](OpOperands& x) { x.set(cpu::maxPool2d(x.tensor(0), kernel, stride, padding, dilation, ceil)); };
    }
    case OpKind::AvgPool2d: {
      auto kernel = attr.pair("kernel"), stride = attr.pair("stride"), padding = attr.pair("padding");
      bool ceil = attr.flag("ceil_mode"), includePad = attr.flag("count_include_pad");
      return [=](OpOperands& x) { x.set(cpu::avgPool2d(x.tensor(0), kernel, stride, padding, ceil, includePad)); };
    }
    case OpKind::AdaptiveAvgPool2d: {
      auto size = attr.pair("output_size");
      return [=](OpOperands& x) { x.set(cpu::adaptiveAvgPool2d(x.tensor(0), size)); };
    }
    case OpKind::AdaptiveMaxPool2d: {
      auto size = attr.pair("output_size");
      return [=](OpOperands& x) {
        auto [values, indices] = cpu::adaptiveMaxPool2d(x.tensor(0), size);
        x.set(std::move(values), 0);
        x.set(std::move(indices), 1);
      };
    }
    default: return nullptr;
  }
}

OpKernel decodeElementwiseExtra(const ir::Op& op, const AttrReader& attr) {
  auto activation = [](cpu::Activation fn, cpu::ActivationParams params) -> OpKernel {
    return [=](OpOperands& x) { x.set(cpu::activation(fn, x.tensor(0), params)); };
  };
  switch (op.kind()) {
    case OpKind::Where: return [](OpOperands& x) { x.set(cpu::where(x.tensor(0), x.tensor(1, 2), x.tensor(2, 1))); };
    case OpKind::MaskedFill:
      return [](OpOperands& x) { x.set(cpu::maskedFill(x.tensor(0), x.tensor(1), x.tensor(2, 0))); };
    case OpKind::Clamp: {
      bool floatBounds = attr.flagOr("float_bounds", false);
      auto lo = attr.optionalReal("min"), hi = attr.optionalReal("max");
      return [=](OpOperands& x) {
        Tensor t = x.tensor(0);
        // A float bound promotes an integer tensor, as in ATen.
        if (floatBounds && !ir::isFloating(t.dtype())) t = cpu::cast(t, DType::F32);
        x.set(cpu::clamp(t, lo, hi));
      };
    }
    case OpKind::Hardswish: return activation(cpu::Activation::Hardswish, {});
    case OpKind::Hardsigmoid: return activation(cpu::Activation::Hardsigmoid, {});
    case OpKind::LeakyRelu: return activation(cpu::Activation::LeakyRelu, {attr.real("negative_slope")});
    case OpKind::Elu:
      return activation(cpu::Activation::Elu, {attr.real("alpha"), attr.real("scale"), attr.real("input_scale")});
    case OpKind::Softplus: return activation(cpu::Activation::Softplus, {attr.real("beta"), attr.real("threshold")});
    case OpKind::Mish: return activation(cpu::Activation::Mish, {});
    case OpKind::CastLike: return [](OpOperands& x) { x.set(cpu::cast(x.tensor(0), x.tensor(1).dtype())); };
    case OpKind::Cast: {
      DType dtype = attr.dtype("dtype");
      return [=](OpOperands& x) { x.set(cpu::cast(x.tensor(0), dtype)); };
    }
    default: return nullptr;
  }
}

OpKernel decodeScalarsAndCreation(const ir::Op& op, const AttrReader& attr, KernelResources& res) {
  switch (op.kind()) {
    case OpKind::Constant: {
      const auto& all = op.attrs().all();
      auto it = all.find("value");
      RuntimeValue value;
      if (it != all.end()) {
        if (auto* i = std::get_if<int64_t>(&it->second)) value = *i;
        if (auto* d = std::get_if<double>(&it->second)) value = *d;
        if (auto* b = std::get_if<bool>(&it->second)) value = *b;
      }
      if (std::holds_alternative<std::monostate>(value))
        throw OpError("'constant' needs an int, float or bool 'value'");
      return [value](OpOperands& x) { x.set(value); };
    }
    case OpKind::Weight: return [w = std::move(res.weight)](OpOperands& x) { x.set(w); };
    case OpKind::Undef: return [](OpOperands& x) { x.set(std::monostate{}); };
    case OpKind::Raise: {
      std::string message = attr.text("message", "the model raised an exception");
      return [message](OpOperands&) -> void { throw InputError(message); };
    }
    case OpKind::Size: {
      if (op.numOperands() > 1) return [](OpOperands& x) { x.set(x.tensor(0).size(asInt(x[1]))); };
      int64_t dim = attr.integer("dim");
      return [=](OpOperands& x) { x.set(x.tensor(0).size(dim)); };
    }
    case OpKind::Rank: return [](OpOperands& x) { x.set(x.tensor(0).dim()); };
    case OpKind::Numel: return [](OpOperands& x) { x.set(x.tensor(0).numel()); };
    case OpKind::ToScalar: {
      DType type = attr.resultDType();
      return
          [=](OpOperands& x) { x.set(castScalar(isScalar(x[0]) ? x[0] : RuntimeValue(x.tensor(0).toDouble()), type)); };
    }
    case OpKind::ToTensor: {
      auto declared = attr.optionalDType("dtype");
      return [=](OpOperands& x) {
        const RuntimeValue& s = x[0];
        DType dt = declared.value_or(std::holds_alternative<int64_t>(s) ? DType::I64
                                     : std::holds_alternative<bool>(s)  ? DType::I1
                                                                        : DType::F64);
        if (const Tensor* t = std::get_if<Tensor>(&s)) return x.set(cpu::cast(*t, dt));
        Tensor t = std::holds_alternative<int64_t>(s) ? Tensor::scalarI64(std::get<int64_t>(s))
                   : std::holds_alternative<bool>(s)  ? Tensor::scalarBool(std::get<bool>(s))
                                                      : Tensor::fromBytes(DType::F64, {}, &std::get<double>(s));
        x.set(cpu::cast(t, dt));
      };
    }
    case OpKind::Full: {
      DType dtype = attr.dtype("dtype");
      return [=](OpOperands& x) { x.set(cpu::full(intsFrom(x, 1), x.tensor(0), dtype)); };
    }
    case OpKind::FullLike: {
      auto dtype = attr.optionalDType("dtype");
      return [=](OpOperands& x) {
        Tensor like = x.tensor(0);
        x.set(cpu::full(like.shape(), x.tensor(1), dtype.value_or(like.dtype())));
      };
    }
    case OpKind::Arange: {
      DType dtype = attr.dtype("dtype");
      return [=](OpOperands& x) { x.set(cpu::arange(asDouble(x[0]), asDouble(x[1]), asDouble(x[2]), dtype)); };
    }
    default: return nullptr;
  }
}

}  // namespace

OpKernel decodeCpuKernel(const ir::Op& op, KernelResources resources) {
  const AttrReader attr(op);
  switch (op.info().opClass) {
    case ir::OpClass::Binary: return decodeBinary(op, attr.resultDType());
    case ir::OpClass::Unary: return decodeUnary(op, attr.resultDType());
    default: break;
  }
  if (OpKernel k = decodeScalarsAndCreation(op, attr, resources)) return k;
  if (OpKernel k = decodeElementwiseExtra(op, attr)) return k;
  if (OpKernel k = decodeReductionOrScan(op, attr)) return k;
  if (OpKernel k = decodeLayout(op, attr)) return k;
  if (OpKernel k = decodeNN(op, attr, resources)) return k;
  throw OpError(fmt::format("the CPU executor has no implementation of '{}'", op.name()));
}

}  // namespace cocktail::runtime

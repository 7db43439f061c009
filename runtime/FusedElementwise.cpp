//===- runtime/FusedElementwise.cpp -------------------------------------------------===//
#include "runtime/FusedElementwise.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>

#include <fmt/format.h>

#include "ir/ElementwiseMath.h"
#include "runtime/cpu/Kernels.h"
#include "runtime/cpu/Vec16.h"
#include "runtime/cpu/VecMath.h"
#include "runtime/cpu/WorkerPool.h"

namespace cocktail::runtime {

using ir::OpKind;

namespace {

/// Elements per block: 16 registers of 256 floats are 16 KiB, well inside L1.
constexpr int64_t kBlock = 256;

}  // namespace

ir::Expected<FusedElementwise> FusedElementwise::compile(const ir::Op& op) {
  FusedElementwise k;
  const ir::Region& body = op.region(0);
  k.numInputs_ = static_cast<int>(body.numArguments());
  k.numSlots_ = k.numInputs_;
  std::unordered_map<const ir::Value*, int> index;
  for (size_t i = 0; i < body.numArguments(); ++i) index[body.argument(i)] = static_cast<int>(i);
  const ir::Op* head = ir::fusedHead(op);
  if (head) {
    if (op.numResults() != 1)
      return ir::Status::error("a fused op with a contraction head must have one result", op.loc());
    Head h;
    h.kind = head->kind();
    for (const ir::Value* v : head->operands()) h.inputs.push_back(index.at(v));
    const ir::Attributes& a = head->attrs();
    auto pair = [&](const char* name, std::array<int64_t, 2> fallback) {
      const auto v = a.getInts(name);
      return v && v->size() == 2 ? std::array<int64_t, 2>{(*v)[0], (*v)[1]} : fallback;
    };
    h.stride = pair("stride", h.stride);
    h.padding = pair("padding", h.padding);
    h.dilation = pair("dilation", h.dilation);
    h.groups = a.getInt("groups").value_or(1);
    for (const ir::Dim& d : head->result()->type().dims()) {
      if (!d.isConstant())
        return ir::Status::error(fmt::format("the epilogue of '{}' needs a static output shape, got {}", head->name(),
                                             head->result()->type().str()),
                                 head->loc());
      h.shape.push_back(d.value());
    }
    index[head->result()] = k.numSlots_++;
    k.head_ = std::move(h);
  }
  int next = k.numSlots_;
  for (const auto& innerPtr : body.ops()) {
    const ir::Op& inner = *innerPtr;
    if (&inner == head) continue;
    if (inner.kind() == OpKind::Yield) {
      for (const ir::Value* v : inner.operands()) k.results_.push_back(index.at(v));
      break;
    }
    Step s;
    switch (inner.kind()) {
      case OpKind::Add: s.fn = Fn::Add; break;
      case OpKind::Sub: s.fn = Fn::Sub; break;
      case OpKind::Mul: s.fn = Fn::Mul; break;
      case OpKind::Div: s.fn = Fn::Div; break;
      case OpKind::Maximum: s.fn = Fn::Max; break;
      case OpKind::Minimum: s.fn = Fn::Min; break;
      case OpKind::Neg: s.fn = Fn::Neg; break;
      case OpKind::Sigmoid: s.fn = Fn::Sigmoid; break;
      case OpKind::Tanh: s.fn = Fn::Tanh; break;
      case OpKind::Relu: s.fn = Fn::Relu; break;
      case OpKind::Exp: s.fn = Fn::Exp; break;
      case OpKind::Log: s.fn = Fn::Log; break;
      case OpKind::Sqrt: s.fn = Fn::Sqrt; break;
      case OpKind::Rsqrt: s.fn = Fn::Rsqrt; break;
      case OpKind::Abs: s.fn = Fn::Abs; break;
      case OpKind::Reciprocal: s.fn = Fn::Reciprocal; break;
      case OpKind::Silu: s.fn = Fn::Silu; break;
      case OpKind::Clamp: {
        s.fn = Fn::Clamp;
        const ir::Attributes& a = inner.attrs();
        s.lo = static_cast<float>(a.getFloat("min").value_or(-INFINITY));
        s.hi = static_cast<float>(a.getFloat("max").value_or(INFINITY));
        break;
      }
      case OpKind::Hardswish:
      case OpKind::Hardsigmoid:
      case OpKind::LeakyRelu:
      case OpKind::Elu:
      case OpKind::Softplus:
      case OpKind::Mish: {
        s.fn = Fn::Activation;
        const ir::Attributes& a = inner.attrs();
        auto p = [&](const char* name) { return a.getFloat(name).value_or(0.0); };
        switch (inner.kind()) {
          case OpKind::Hardswish: s.activation = cpu::Activation::Hardswish; break;
          case OpKind::Hardsigmoid: s.activation = cpu::Activation::Hardsigmoid; break;
          case OpKind::LeakyRelu: s.activation = cpu::Activation::LeakyRelu, s.params = {p("negative_slope")}; break;
          case OpKind::Elu:
            s.activation = cpu::Activation::Elu, s.params = {p("alpha"), p("scale"), p("input_scale")};
            break;
          case OpKind::Mish: s.activation = cpu::Activation::Mish; break;
          default: s.activation = cpu::Activation::Softplus, s.params = {p("beta"), p("threshold")}; break;
        }
        break;
      }
      default:
        return ir::Status::error(fmt::format("'{}' cannot run inside a fused op on the CPU", inner.name()),
                                 inner.loc());
    }
    const bool binary = inner.numOperands() == 2;
    s.a = index.at(inner.operand(0));
    if (binary) s.b = index.at(inner.operand(1));
    s.dst = next++;
    index[inner.result()] = s.dst;
    k.steps_.push_back(s);
  }
  k.numRegisters_ = next - k.numSlots_;
  k.used_.assign(static_cast<size_t>(k.numSlots_), false);
  auto use = [&](int i) {
    if (i >= 0 && i < k.numSlots_) k.used_[static_cast<size_t>(i)] = true;
  };
  for (const Step& s : k.steps_) use(s.a), use(s.b);
  for (int r : k.results_) use(r);
  return k;
}

namespace {

template <typename F>
inline void map1(const float* __restrict a, float* __restrict d, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) d[i] = f(a[i]);
}

template <typename F>
inline void map2(const float* __restrict a, const float* __restrict b, float* __restrict d, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) d[i] = f(a[i], b[i]);
}

}  // namespace

std::vector<Tensor> FusedElementwise::run(const std::vector<const RuntimeValue*>& inputs, PackedHead packed) const {
  if (static_cast<int>(inputs.size()) != numInputs_)
    throw std::invalid_argument(fmt::format("fused: expected {} inputs, got {}", numInputs_, inputs.size()));
  // The shape every tensor input of the elementwise ops (but 0-d ones)
  // shares, and the head's output has; scalars broadcast.
  const Tensor* shapeOf = nullptr;
  for (int i = 0; i < numInputs_; ++i)
    if (const Tensor* t = std::get_if<Tensor>(inputs[static_cast<size_t>(i)]); t && t->dim() > 0 && used_[static_cast<size_t>(i)]) {
      if (t->dtype() != DType::F32)
        throw std::invalid_argument(fmt::format("fused: expected f32 inputs, got {}", t->typeString()));
      if (!shapeOf) shapeOf = t;
      else if (t->shape() != shapeOf->shape())
        throw std::invalid_argument(fmt::format("fused: inputs of shapes {} and {} do not match",
                                                shapeToString(shapeOf->shape()), shapeToString(t->shape())));
    }
  if (head_ && shapeOf && shapeOf->shape() != head_->shape)
    throw std::invalid_argument(fmt::format("fused: an input of shape {} does not match the {} output of its {}",
                                            shapeToString(shapeOf->shape()), shapeToString(head_->shape),
                                            ir::mnemonic(head_->kind)));
  const Shape shape = head_ ? head_->shape : shapeOf ? shapeOf->shape() : Shape{};
  const int64_t n = numElements(shape);

  // Each input as its elements, or as a number that every block broadcasts.
  // (Vectors of the calling thread, reused across runs.)
  thread_local std::vector<const float*> data;
  thread_local std::vector<float> value;
  thread_local std::vector<float*> out;
  data.assign(static_cast<size_t>(numSlots_), nullptr);
  value.assign(static_cast<size_t>(numSlots_), 0.0f);
  for (int i = 0; i < numInputs_; ++i) {
    const RuntimeValue& v = *inputs[static_cast<size_t>(i)];
    if (!used_[static_cast<size_t>(i)]) continue;  // the head reads it whole; no elementwise op does
    if (const Tensor* t = std::get_if<Tensor>(&v); t && t->dim() > 0) {
      data[static_cast<size_t>(i)] = t->data<float>();
    } else if (t) {
      if (t->dtype() != DType::F32)
        throw std::invalid_argument(fmt::format("fused: expected f32 inputs, got {}", t->typeString()));
      value[static_cast<size_t>(i)] = *t->data<float>();
    } else if (const double* d = std::get_if<double>(&v)) {
      value[static_cast<size_t>(i)] = static_cast<float>(*d);
    } else if (const int64_t* k = std::get_if<int64_t>(&v)) {
      value[static_cast<size_t>(i)] = static_cast<float>(*k);
    } else {
      throw std::invalid_argument(fmt::format("fused: input #{} is not a number or an f32 tensor", i));
    }
  }

  if (head_) return {runHead(inputs, data, value, packed)};

  // The results, made here on the calling thread (where the executor's
  // memory plan places them), filled by the workers.
  std::vector<Tensor> outs;
  outs.reserve(results_.size());
  out.clear();
  for (size_t r = 0; r < results_.size(); ++r) {
    outs.push_back(Tensor::empty(DType::F32, shape));
    out.push_back(outs.back().data<float>());
  }
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  // A lambda does not capture thread_locals: named inside it, they would be
  // the worker's own. Hand it this thread's.
  const auto& inData = data;
  const auto& inValue = value;
  const auto& outData = out;
  // A worker takes at least 64 blocks (16 Ki elements): less is not worth its wake-up.
  cpu::parallelFor(blocks, 64,
                   [&, this](int64_t b0, int64_t b1) { runBlocks(b0, b1, n, inData, inValue, outData.data(), nullptr); });
  return outs;
}

void FusedElementwise::runBlocks(int64_t b0, int64_t b1, int64_t n, const std::vector<const float*>& data,
                                 const std::vector<float>& value, float* const* out, const float* head) const {
  for (int64_t block = b0; block < b1; ++block) {
    const int64_t start = block * kBlock, len = std::min(kBlock, n - start);
    runTile(start, 1, len, len, data, value, out, head);
  }
}

std::optional<FusedElementwise::HeadOperands> FusedElementwise::headOperands() const {
  if (!head_) return std::nullopt;
  return HeadOperands{head_->kind, static_cast<size_t>(head_->inputs.at(0)), static_cast<size_t>(head_->inputs.at(1)),
                      head_->stride, head_->groups, head_->dilation};
}

Tensor FusedElementwise::runHead(const std::vector<const RuntimeValue*>& inputs, const std::vector<const float*>& data,
                                 const std::vector<float>& value, PackedHead packed) const {
  const Head& h = *head_;
  auto tensor = [&](size_t k) -> const Tensor& {
    const Tensor* t = std::get_if<Tensor>(inputs[static_cast<size_t>(h.inputs[k])]);
    if (!t) throw std::invalid_argument(fmt::format("fused: operand #{} of its {} is not a tensor", k,
                                                    ir::mnemonic(h.kind)));
    return *t;
  };
  const Tensor* bias = h.inputs.size() > 2 ? &tensor(2) : nullptr;
  // The epilogue works in place: the head's output is slot numInputs_ and
  // the result. `data` is the calling thread's; every worker reads it.
  Tensor y;
  if (h.kind == OpKind::Conv2d) {
    const cpu::Epilogue epilogue = [&](float* out, int64_t begin, int64_t rows, int64_t width, int64_t stride) {
      runTile(begin, rows, width, stride, data, value, &out, out);
    };
    y = cpu::conv2d(tensor(0), tensor(1), bias, h.stride, h.padding, h.dilation, h.groups, &epilogue, packed.conv);
  } else {
    // A linear layer's output is small next to its weights (a batch of
    // rows): the epilogue runs over all of it right after, still in cache.
    y = cpu::linear(tensor(0), tensor(1), bias, packed.linear);
  }
  if (y.shape() != h.shape || y.dtype() != DType::F32)
    throw std::invalid_argument(fmt::format("fused: its {} gave {}, expected f32{}", ir::mnemonic(h.kind),
                                            y.typeString(), shapeToString(h.shape)));
  if (h.kind != OpKind::Conv2d) {
    float* out = y.data<float>();
    const int64_t n = y.numel();
    cpu::parallelFor((n + kBlock - 1) / kBlock, 64,
                     [&, this](int64_t b0, int64_t b1) { runBlocks(b0, b1, n, data, value, &out, out); });
  }
  return y;
}

// Multiversioned: the steps' loops vectorise for AVX-512 where the CPU has it.
COCKTAIL_MULTIVERSION
void FusedElementwise::runTile(int64_t start, int64_t rows, int64_t width, int64_t stride,
                               const std::vector<const float*>& data, const std::vector<float>& value,
                               float* const* out, const float* head) const {
  // The block table: per slot, where its tile starts and how far apart its
  // rows are (a tensor's tile in place, or a block filled with its number),
  // and per register a dense block. Per thread: the workers too.
  const size_t slots = static_cast<size_t>(numSlots_);
  const size_t table = slots + static_cast<size_t>(numRegisters_);
  thread_local std::vector<float> scratch;
  thread_local std::vector<const float*> src;
  thread_local std::vector<int64_t> srcStride;
  if (scratch.size() < table * kBlock) scratch.resize(table * kBlock);
  if (src.size() < table) {
    src.resize(table);
    srcStride.resize(table);
  }
  const int64_t elems = rows * width;
  for (size_t i = 0; i < slots; ++i) {
    const float* d = i == static_cast<size_t>(numInputs_) ? head : data[i];
    if (d) {
      src[i] = d + start;
      srcStride[i] = stride;
    } else if (used_[i]) {
      std::fill_n(scratch.data() + i * kBlock, elems, value[i]);
      src[i] = scratch.data() + i * kBlock;
      srcStride[i] = width;
    }
  }
  for (size_t i = slots; i < table; ++i) {
    src[i] = scratch.data() + i * kBlock;
    srcStride[i] = width;
  }

  for (const Step& s : steps_) {
    float* dBlock = scratch.data() + static_cast<size_t>(s.dst) * kBlock;
    const int64_t sa = srcStride[static_cast<size_t>(s.a)], sb = s.b >= 0 ? srcStride[static_cast<size_t>(s.b)] : 0;
    for (int64_t r = 0; r < rows; ++r) {
      float* d = dBlock + r * width;
      const float* a = src[static_cast<size_t>(s.a)] + r * sa;
      const float* b = s.b >= 0 ? src[static_cast<size_t>(s.b)] + r * sb : nullptr;
      const int64_t len = width;
      switch (s.fn) {
        case Fn::Add: map2(a, b, d, len, [](float x, float y) { return x + y; }); break;
        case Fn::Sub: map2(a, b, d, len, [](float x, float y) { return x - y; }); break;
        case Fn::Mul: map2(a, b, d, len, [](float x, float y) { return x * y; }); break;
        case Fn::Div: map2(a, b, d, len, [](float x, float y) { return x / y; }); break;
        // PyTorch's maximum/minimum propagate NaN.
        case Fn::Max: map2(a, b, d, len, [](float x, float y) { return math::maximum(x, y); }); break;
        case Fn::Min: map2(a, b, d, len, [](float x, float y) { return math::minimum(x, y); }); break;
        case Fn::Neg: map1(a, d, len, [](float x) { return -x; }); break;
        // The transcendental ones are cpu::unary's vector code: the same bits op by op.
        case Fn::Sigmoid: cpu::sigmoidF32(a, d, len); break;
        case Fn::Tanh: cpu::tanhF32(a, d, len); break;
        // As cpu::unary's relu: NaN and -0.0 pass, and the loop vectorises.
        case Fn::Relu: map1(a, d, len, [](float x) { return math::relu(x); }); break;
        case Fn::Exp: cpu::expF32(a, d, len); break;
        case Fn::Log: map1(a, d, len, [](float x) { return std::log(x); }); break;
        case Fn::Sqrt: map1(a, d, len, [](float x) { return std::sqrt(x); }); break;
        case Fn::Rsqrt: map1(a, d, len, [](float x) { return 1.0f / std::sqrt(x); }); break;
        case Fn::Abs: map1(a, d, len, [](float x) { return std::fabs(x); }); break;
        case Fn::Reciprocal: map1(a, d, len, [](float x) { return math::reciprocal(x); }); break;
        case Fn::Silu: cpu::siluF32(a, d, len); break;
        // As cpu::clamp: NaN passes.
        case Fn::Clamp: {
          const float lo = s.lo, hi = s.hi;
          map1(a, d, len, [lo, hi](float x) {
            const float v = x < lo ? lo : x;
            return x != x ? x : v > hi ? hi : v;
          });
          break;
        }
        case Fn::Activation: {
          // One loop per kind, so each inlines its own formula.
          const cpu::ActivationParams p = s.params;
          auto run = [&](auto kind) {
            map1(a, d, len, [&p](float x) { return cpu::activationValue<float>(decltype(kind)::value, x, p); });
          };
          using A = cpu::Activation;
          switch (s.activation) {
            case A::Hardswish: run(std::integral_constant<A, A::Hardswish>{}); break;
            case A::Hardsigmoid: run(std::integral_constant<A, A::Hardsigmoid>{}); break;
            case A::LeakyRelu: run(std::integral_constant<A, A::LeakyRelu>{}); break;
            case A::Elu: run(std::integral_constant<A, A::Elu>{}); break;
            case A::Softplus: run(std::integral_constant<A, A::Softplus>{}); break;
            case A::Mish: cpu::mishF32(a, d, len); break;  // vectorised, as the standalone kernel
          }
          break;
        }
      }
    }
  }
  for (size_t k = 0; k < results_.size(); ++k) {
    const size_t from = static_cast<size_t>(results_[k]);
    for (int64_t r = 0; r < rows; ++r) std::copy_n(src[from] + r * srcStride[from], width, out[k] + start + r * stride);
  }
}

}  // namespace cocktail::runtime

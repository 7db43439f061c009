//===- runtime/FusedElementwise.cpp -------------------------------------------------===//
#include "runtime/FusedElementwise.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>

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
  std::unordered_map<const ir::Value*, int> index;
  for (size_t i = 0; i < body.numArguments(); ++i) index[body.argument(i)] = static_cast<int>(i);
  int next = k.numInputs_;
  for (const auto& innerPtr : body.ops()) {
    const ir::Op& inner = *innerPtr;
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
  k.numRegisters_ = next - k.numInputs_;
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

std::vector<Tensor> FusedElementwise::run(const std::vector<const RuntimeValue*>& inputs) const {
  if (static_cast<int>(inputs.size()) != numInputs_)
    throw std::invalid_argument(fmt::format("fused: expected {} inputs, got {}", numInputs_, inputs.size()));
  // The shape every tensor input (but 0-d ones) shares; scalars broadcast.
  const Tensor* shapeOf = nullptr;
  for (const RuntimeValue* v : inputs)
    if (const Tensor* t = std::get_if<Tensor>(v); t && t->dim() > 0) {
      if (t->dtype() != DType::F32)
        throw std::invalid_argument(fmt::format("fused: expected f32 inputs, got {}", t->typeString()));
      if (!shapeOf) shapeOf = t;
      else if (t->shape() != shapeOf->shape())
        throw std::invalid_argument(fmt::format("fused: inputs of shapes {} and {} do not match",
                                                shapeToString(shapeOf->shape()), shapeToString(t->shape())));
    }
  const Shape shape = shapeOf ? shapeOf->shape() : Shape{};
  const int64_t n = numElements(shape);

  // Each input as its elements, or as a number that every block broadcasts.
  // (Vectors of the calling thread, reused across runs.)
  thread_local std::vector<const float*> data;
  thread_local std::vector<float> value;
  thread_local std::vector<float*> out;
  data.assign(static_cast<size_t>(numInputs_), nullptr);
  value.assign(static_cast<size_t>(numInputs_), 0.0f);
  for (int i = 0; i < numInputs_; ++i) {
    const RuntimeValue& v = *inputs[static_cast<size_t>(i)];
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
  cpu::parallelFor(blocks, 64, [&, this](int64_t b0, int64_t b1) { runBlocks(b0, b1, n, inData, inValue, outData); });
  return outs;
}

void FusedElementwise::runBlocks(int64_t b0, int64_t b1, int64_t n, const std::vector<const float*>& data,
                                 const std::vector<float>& value, const std::vector<float*>& out) const {
  // The block table: a pointer per input (into its tensor, or to a block
  // filled with its number) and per register. Per thread: the workers too.
  const size_t table = static_cast<size_t>(numInputs_ + numRegisters_);
  thread_local std::vector<float> scratch;
  thread_local std::vector<const float*> src;
  scratch.resize(table * kBlock);
  src.resize(table);
  for (size_t i = 0; i < static_cast<size_t>(numInputs_); ++i)
    if (!data[i]) std::fill_n(scratch.data() + i * kBlock, kBlock, value[i]);
  for (size_t i = static_cast<size_t>(numInputs_); i < table; ++i) src[i] = scratch.data() + i * kBlock;

  for (int64_t block = b0; block < b1; ++block) {
    const int64_t start = block * kBlock;
    const int64_t len = std::min(kBlock, n - start);
    for (size_t i = 0; i < static_cast<size_t>(numInputs_); ++i)
      src[i] = data[i] ? data[i] + start : scratch.data() + i * kBlock;
    for (const Step& s : steps_) {
      float* d = scratch.data() + static_cast<size_t>(s.dst) * kBlock;
      const float* a = src[static_cast<size_t>(s.a)];
      const float* b = s.b >= 0 ? src[static_cast<size_t>(s.b)] : nullptr;
      switch (s.fn) {
        case Fn::Add: map2(a, b, d, len, [](float x, float y) { return x + y; }); break;
        case Fn::Sub: map2(a, b, d, len, [](float x, float y) { return x - y; }); break;
        case Fn::Mul: map2(a, b, d, len, [](float x, float y) { return x * y; }); break;
        case Fn::Div: map2(a, b, d, len, [](float x, float y) { return x / y; }); break;
        // PyTorch's maximum/minimum propagate NaN.
        case Fn::Max: map2(a, b, d, len, [](float x, float y) { return (x != x || x > y) ? x : y; }); break;
        case Fn::Min: map2(a, b, d, len, [](float x, float y) { return (x != x || x < y) ? x : y; }); break;
        case Fn::Neg: map1(a, d, len, [](float x) { return -x; }); break;
        case Fn::Sigmoid: map1(a, d, len, [](float x) { return 1.0f / (1.0f + std::exp(-x)); }); break;
        case Fn::Tanh: map1(a, d, len, [](float x) { return std::tanh(x); }); break;
        case Fn::Relu: map1(a, d, len, [](float x) { return x != x ? x : (x > 0.0f ? x : 0.0f); }); break;
        case Fn::Exp: map1(a, d, len, [](float x) { return std::exp(x); }); break;
        case Fn::Log: map1(a, d, len, [](float x) { return std::log(x); }); break;
        case Fn::Sqrt: map1(a, d, len, [](float x) { return std::sqrt(x); }); break;
        case Fn::Rsqrt: map1(a, d, len, [](float x) { return 1.0f / std::sqrt(x); }); break;
        case Fn::Abs: map1(a, d, len, [](float x) { return std::fabs(x); }); break;
        case Fn::Reciprocal: map1(a, d, len, [](float x) { return 1.0f / x; }); break;
        case Fn::Silu: map1(a, d, len, [](float x) { return x / (1.0f + std::exp(-x)); }); break;
      }
    }
    for (size_t r = 0; r < results_.size(); ++r)
      std::copy_n(src[static_cast<size_t>(results_[r])], len, out[r] + start);
  }
}

}  // namespace cocktail::runtime

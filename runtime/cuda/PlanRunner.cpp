//===- runtime/cuda/PlanRunner.cpp --------------------------------------------------------===//
#include "runtime/cuda/PlanRunner.h"

#include <cstring>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace cocktail::runtime::cuda {

using ir::DType;

PlanRunner::PlanRunner(const CudaPlan& plan, const ir::Program& program, KernelDevice& device)
    : plan_(plan),
      program_(program),
      device_(device),
      signature_(Signature::of(program)),
      symbols_(plan.symbols.size(), 0),
      loopIndices_(static_cast<size_t>(plan.numLoopIndices), 0) {}

ir::Status PlanRunner::prepare() {
  const auto& weights = program_.weights();
  if (weights.size() != plan_.weightRegions.size())
    return ir::Status::error("internal error: the CUDA plan does not match the program's weights", {},
                             ir::ErrorKind::Internal);
  for (size_t i = 0; i < weights.size(); ++i) {
    const BufferRegion& r = plan_.region(plan_.weightRegions[i]);
    if (static_cast<int64_t>(weights[i].data.size()) != r.bytes)
      return ir::Status::error(fmt::format("weight @{} has {} bytes, its region {}", weights[i].name,
                                           weights[i].data.size(), r.bytes));
    COCKTAIL_RETURN_IF_ERROR(device_.write(r.offset, weights[i].data.data(), r.bytes));
  }
  const uint32_t zero[2] = {0, 0};
  return device_.write(plan_.barrierOffset, zero, sizeof zero);
}

std::vector<char> PlanRunner::frame() const {
  std::vector<char> f(static_cast<size_t>(plan_.frameBytes()), 0);
  char* arena = device_.arena();
  std::memcpy(f.data(), &arena, sizeof arena);
  std::memcpy(f.data() + 8, symbols_.data(), 8 * symbols_.size());
  const size_t idx = 8 + 8 * std::max<size_t>(symbols_.size(), 1);
  std::memcpy(f.data() + idx, loopIndices_.data(), 8 * loopIndices_.size());
  return f;
}

ir::Expected<int64_t> PlanRunner::readSlot(int64_t slot) {
  int64_t bits = 0;
  COCKTAIL_RETURN_IF_ERROR(device_.read(plan_.slotsOffset + 8 * slot, &bits, 8));
  return bits;
}

ir::Status PlanRunner::writeSlot(int64_t slot, int64_t bits) {
  return device_.write(plan_.slotsOffset + 8 * slot, &bits, 8);
}

ir::Expected<int64_t> PlanRunner::value(const HostScalar& s) {
  switch (s.kind) {
    case HostScalar::Kind::Constant: return s.value;
    case HostScalar::Kind::LoopIndex: return loopIndices_.at(static_cast<size_t>(s.value));
    case HostScalar::Kind::Slot:
      // After a failed check the slot may hold anything: a trip count, say.
      COCKTAIL_RETURN_IF_ERROR(deviceError());
      return readSlot(s.value);
  }
  return s.value;
}

ir::Status PlanRunner::deviceError() {
  if (plan_.errorOffset < 0) return ir::Status::success();
  int64_t word[3] = {0, 0, 0};
  static_assert(sizeof word == kDeviceErrorBytes);
  COCKTAIL_RETURN_IF_ERROR(device_.read(plan_.errorOffset, word, sizeof word));
  if (word[0] == 0) return ir::Status::success();
  const uint64_t code = static_cast<uint64_t>(word[0]) & 0xffffffffu;
  if (code == 0 || code > plan_.checks.size())
    return ir::Status::error(
        fmt::format("internal error: the device error word names check {} of {}", code, plan_.checks.size()), {},
        ir::ErrorKind::Internal);
  const DeviceCheck& c = plan_.checks[code - 1];
  const ir::Location loc{c.file, c.line, 0};
  // The CPU executor's words (runtime/cpu/Shape.cpp checkIndex, CpuExecutor's runError).
  if (c.kind == DeviceCheck::Kind::Raise)
    return ir::Status::error(fmt::format("in '{}': {}", c.op, c.message), loc, ir::ErrorKind::User);
  return ir::Status::error(fmt::format("in '{0}': {0}: index {1} is out of bounds for dimension {2} with size {3}",
                                       c.op, word[1], c.dim, word[2]),
                           loc, ir::ErrorKind::User);
}

ir::Status PlanRunner::launch(int kernel) {
  const KernelInfo& k = plan_.kernels.at(static_cast<size_t>(kernel));
  const int64_t grid = k.kind == KernelInfo::Kind::Operator ? std::max<int64_t>(k.tiles, 1) : 0;
  ir::Status st = device_.launch(k, grid, frame());
  if (!st.ok()) {
    ir::Status out = ir::Status::error(fmt::format("kernel {} ({}) failed", k.name, k.origin));
    out.append(st);
    return out;
  }
  return st;
}

ir::Status PlanRunner::runSteps(const std::vector<HostStep>& steps) {
  for (const HostStep& step : steps) {
    switch (step.kind) {
      case HostStep::Kind::Launch:
        COCKTAIL_RETURN_IF_ERROR(launch(step.kernel));
        break;
      case HostStep::Kind::Loop: {
        COCKTAIL_RETURN_IF_ERROR(launch(step.initKernel));
        auto trip = value(step.trip);
        if (!trip) return trip.status();
        auto cond = value(step.cond);
        if (!cond) return cond.status();
        bool go = *cond != 0;
        for (int64_t i = 0; i < *trip && go; ++i) {
          loopIndices_.at(static_cast<size_t>(step.loopIndex)) = i;
          COCKTAIL_RETURN_IF_ERROR(runSteps(step.body));
          COCKTAIL_RETURN_IF_ERROR(launch(step.yieldKernel));
          auto next = value(step.yieldCond);
          if (!next) return next.status();
          go = *next != 0;
        }
        break;
      }
      case HostStep::Kind::If: {
        auto cond = value(step.cond);
        if (!cond) return cond.status();
        COCKTAIL_RETURN_IF_ERROR(runSteps(*cond != 0 ? step.body : step.elseBody));
        break;
      }
    }
  }
  return ir::Status::success();
}

ir::Expected<std::vector<RuntimeValue>> PlanRunner::run(const std::vector<RuntimeValue>& inputs) {
  std::map<std::string, int64_t> symbolValues;
  COCKTAIL_RETURN_IF_ERROR(signature_.check(inputs, &symbolValues));
  for (size_t i = 0; i < plan_.symbols.size(); ++i) {
    auto it = symbolValues.find(plan_.symbols[i]);
    symbols_[i] = it == symbolValues.end() ? 0 : it->second;
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const BoundaryValue& b = plan_.inputs.at(i);
    if (b.isScalar) {
      // Slots hold i64 and i1 as integers, f64 as its bits.
      int64_t bits = 0;
      if (const int64_t* v = std::get_if<int64_t>(&inputs[i])) bits = *v;
      if (const bool* v = std::get_if<bool>(&inputs[i])) bits = *v;
      if (b.dtype == DType::F64) {
        const double* v = std::get_if<double>(&inputs[i]);
        const double d = v ? *v : static_cast<double>(bits);
        std::memcpy(&bits, &d, 8);
      }
      COCKTAIL_RETURN_IF_ERROR(writeSlot(b.slot, bits));
    } else {
      const Tensor& t = std::get<Tensor>(inputs[i]);
      COCKTAIL_RETURN_IF_ERROR(device_.write(plan_.region(b.region).offset, t.data<char>(), t.nbytes()));
    }
  }
  if (plan_.errorOffset >= 0) {
    const int64_t clear[3] = {0, 0, 0};
    COCKTAIL_RETURN_IF_ERROR(device_.write(plan_.errorOffset, clear, sizeof clear));
  }
  COCKTAIL_RETURN_IF_ERROR(runSteps(plan_.steps));
  COCKTAIL_RETURN_IF_ERROR(deviceError());

  std::vector<RuntimeValue> outputs;
  for (const BoundaryValue& b : plan_.outputs) {
    if (b.isScalar) {
      auto bits = readSlot(b.slot);
      if (!bits) return bits.status();
      if (b.dtype == DType::F64) {
        double d;
        std::memcpy(&d, &*bits, 8);
        outputs.emplace_back(d);
      } else if (b.dtype == DType::I1) {
        outputs.emplace_back(*bits != 0);
      } else {
        outputs.emplace_back(*bits);
      }
      continue;
    }
    Shape shape;
    int64_t bytes = ir::dtypeSize(b.dtype);
    const int64_t regionBytes = plan_.region(b.region).bytes;
    for (int d = 0; d < b.rank; ++d) {
      auto dim = readSlot(b.slot + d);
      if (!dim) return dim.status();
      shape.push_back(*dim);
      // The kernels wrote these dims: never trust them past the region they index.
      if (*dim < 0 || (*dim > 0 && bytes > regionBytes / *dim))
        return ir::Status::error(fmt::format("internal error: {} came back with dims [{}], more than its {}-byte region",
                                             b.name, fmt::join(shape, ", "), regionBytes),
                                 {}, ir::ErrorKind::Internal);
      bytes *= *dim;
    }
    Tensor t = Tensor::empty(b.dtype, shape);
    COCKTAIL_RETURN_IF_ERROR(device_.read(plan_.region(b.region).offset, t.data<char>(), t.nbytes()));
    outputs.emplace_back(std::move(t));
  }
  return outputs;
}

}  // namespace cocktail::runtime::cuda

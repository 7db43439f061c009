//===- codegen/DeviceChecks.cpp - Failures the kernels report at run time ------===//
//
// What only the data decides, an index out of range or a model's `raise`
// reached, is a check: the kernel that fails it stores the check's number
// (first failure wins) in the device error word (runtime/cuda/CudaPlan.h),
// and the host reports it after the launch as the CPU executor reports the
// op, at its source line (runtime/cuda/PlanRunner.cpp). The plan lists the
// checks, so the host can name the op without the program.
//
// A failing kernel does not stop at once: an out-of-range index reads
// element 0 instead, and the op finishes. A persistent loop whose body makes
// checks ends each iteration with a grid barrier, after which every block
// decides alike whether a check failed before it and leaves the loop
// (cocktail_failed_before in the prelude), so no block waits at a barrier
// the others have left.
//
//===----------------------------------------------------------------------===//
#include <fmt/format.h>

#include "codegen/CudaCodegenImpl.h"

namespace cocktail::codegen {

int Generator::deviceCheck(const Op& op, DeviceCheck::Kind kind, int64_t dim) {
  DeviceCheck check;
  check.kind = kind;
  check.op = std::string(op.name());
  check.file = op.loc().file;
  check.line = op.loc().line;
  check.dim = dim;
  if (kind == DeviceCheck::Kind::Raise)
    check.message = op.attrs().getString("message").value_or("the model raised an exception");
  plan_.checks.push_back(std::move(check));
  kernel().usesErrors = true;
  return static_cast<int>(plan_.checks.size() - 1);
}

std::string Generator::checkedIndex(const Op& op, const std::string& raw, const Expr& size, int64_t dim) {
  const int check = deviceCheck(op, DeviceCheck::Kind::Index, dim);
  // As ATen: `index` counts a negative index from the end, index_select and gather refuse it.
  const bool wrap = op.kind() == OpKind::Index;
  return fmt::format("cocktail_checked_index((i64)({}), {}, {}, E, barrier, {})", raw, size.str(), wrap, check);
}

void Generator::emitRaise(const Op& op) {
  line(fmt::format("// {}", describe(op)));
  const int check = deviceCheck(op, DeviceCheck::Kind::Raise);
  line(fmt::format("if (cocktail_leader()) cocktail_fail(E, barrier, {}, 0, 0);", check));
}

void Generator::raiseKernel(const Op& op, std::vector<HostStep>& steps) {
  const int id = openKernel("raise", KernelInfo::Kind::Operator, 1, &op, fmt::format("// {}\n", describe(op)));
  emitRaise(op);
  closeKernel();
  steps.push_back(HostStep::launch(id));
}

void Generator::leaveLoopOnFailure() {
  line("if (cocktail_failed_before(E, barrier)) break;  // a check failed: every block leaves the loop");
}

}  // namespace cocktail::codegen

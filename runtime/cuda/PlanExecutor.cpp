//===- runtime/cuda/PlanExecutor.cpp -------------------------------------------------------===//
#include "runtime/cuda/PlanExecutor.h"

#include <fmt/format.h>

namespace cocktail::runtime::cuda {

namespace {

class PlanExecutor final : public Executor {
 public:
  PlanExecutor(std::shared_ptr<const ir::Program> program, CudaPlan plan, std::unique_ptr<KernelDevice> device)
      : program_(std::move(program)),
        plan_(std::move(plan)),
        device_(std::move(device)),
        signature_(Signature::of(*program_)),
        runner_(plan_, *program_, *device_) {}

  ir::Status prepare() { return runner_.prepare(); }
  const Signature& signature() const override { return signature_; }
  std::string device() const override { return device_->description(); }
  using Executor::run;
  /// A persistent kernel runs its loops on the device, out of the host's reach:
  /// the control is checked before it starts, not between its steps.
  ir::Expected<std::vector<RuntimeValue>> run(const std::vector<RuntimeValue>& inputs,
                                              const RunControl& control) override {
    if (auto why = control.stopReason()) return ir::Status::error(fmt::format("not started: {}", *why));
    return runner_.run(inputs);
  }

 private:
  std::shared_ptr<const ir::Program> program_;
  CudaPlan plan_;
  std::unique_ptr<KernelDevice> device_;
  Signature signature_;
  PlanRunner runner_;
};

}  // namespace

ir::Expected<const TargetCode*> cudaCodeOf(const Artifact& artifact) {
  const TargetCode* code = artifact.codeFor("cuda");
  if (!code) return ir::Status::error("the artifact holds no CUDA code (compile it with --target cuda)");
  // loadArtifact checked the plan against the program and the arena.
  if (!code->cudaPlan) return ir::Status::error("the artifact's CUDA code has no host plan; recompile it");
  return code;
}

ir::Expected<std::unique_ptr<Executor>> createPlanExecutor(const Artifact& artifact,
                                                           std::unique_ptr<KernelDevice> device) {
  auto code = cudaCodeOf(artifact);
  if (!code) return code.status();
  if (!device)
    return ir::Status::error("internal error: no device to run the CUDA plan on", {}, ir::ErrorKind::Internal);
  auto executor = std::make_unique<PlanExecutor>(artifact.program, *(*code)->cudaPlan, std::move(device));
  COCKTAIL_RETURN_IF_ERROR(executor->prepare());
  return std::unique_ptr<Executor>(std::move(executor));
}

}  // namespace cocktail::runtime::cuda

//===- runtime/cuda/CudaExecutor.cpp -------------------------------------------------------===//
#include "runtime/cuda/CudaExecutor.h"

#include <fmt/format.h>

#include "runtime/cuda/CudaDevice.h"
#include "runtime/cuda/PlanRunner.h"

namespace cocktail::runtime::cuda {

namespace {

class CudaExecutor final : public Executor {
 public:
  CudaExecutor(std::shared_ptr<const ir::Program> program, CudaPlan plan, std::unique_ptr<CudaDevice> device)
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
  std::unique_ptr<CudaDevice> device_;
  Signature signature_;
  PlanRunner runner_;
};

}  // namespace

ir::Expected<std::unique_ptr<Executor>> createCudaExecutor(const Artifact& artifact) {
  const TargetCode* code = artifact.codeFor("cuda");
  if (!code) return ir::Status::error("the artifact holds no CUDA code (compile it with --target cuda)");
  // loadArtifact checked the plan against the program and the arena.
  if (!code->cudaPlan) return ir::Status::error("the artifact's CUDA code has no host plan; recompile it");
  auto device = CudaDevice::create(*code->cudaPlan, *code);
  if (!device) return device.status();
  auto executor = std::make_unique<CudaExecutor>(artifact.program, *code->cudaPlan, device.take());
  COCKTAIL_RETURN_IF_ERROR(executor->prepare());
  return std::unique_ptr<Executor>(std::move(executor));
}

}  // namespace cocktail::runtime::cuda

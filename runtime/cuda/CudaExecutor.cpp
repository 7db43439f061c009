//===- runtime/cuda/CudaExecutor.cpp -------------------------------------------------------===//
#include "runtime/cuda/CudaExecutor.h"

#include <fmt/format.h>

#include "runtime/cuda/CudaCodegen.h"
#include "runtime/cuda/CudaDevice.h"
#include "runtime/cuda/PlanRunner.h"

namespace cocktail::runtime::cuda {

namespace {

class CudaExecutor final : public Executor {
 public:
  CudaExecutor(std::shared_ptr<const ir::Program> program, CudaModule module, std::unique_ptr<CudaDevice> device)
      : program_(std::move(program)),
        module_(std::move(module)),
        device_(std::move(device)),
        signature_(Signature::of(*program_)),
        runner_(module_, *program_, *device_) {}

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
  CudaModule module_;
  std::unique_ptr<CudaDevice> device_;
  Signature signature_;
  PlanRunner runner_;
};

}  // namespace

ir::Expected<std::unique_ptr<Executor>> createCudaExecutor(const Artifact& artifact) {
  const TargetCode* code = artifact.codeFor("cuda");
  if (!code) return ir::Status::error("the artifact holds no CUDA code (compile it with --target cuda)");
  // The plan is not stored: the generator is deterministic, so the module is
  // made again from the scheduled program and must give the stored source.
  auto module = generateCuda(*artifact.program);
  if (!module) return module.status();
  if (module->source != code->source)
    return ir::Status::error("the artifact's CUDA source differs from what this build generates from its program; "
                             "recompile it with this build");
  auto device = CudaDevice::create(*module, *code);
  if (!device) return device.status();
  auto executor = std::make_unique<CudaExecutor>(artifact.program, module.take(), device.take());
  COCKTAIL_RETURN_IF_ERROR(executor->prepare());
  return std::unique_ptr<Executor>(std::move(executor));
}

}  // namespace cocktail::runtime::cuda

//===- server/InstanceGroups.h - Where a model's instances run ---------------------===//
//
// config.pbtxt's `instance_group`, as Triton means it: a KIND_GPU group puts
// `count` instances on each GPU it lists (`gpus`), or on each GPU the
// process sees when it lists none; KIND_CPU and KIND_AUTO put `count`
// instances on the CPU (AUTO keeps the CPU, the path served before GPUs
// were: a GPU is only used when a config asks for it). No group: one CPU
// instance. A GPU the machine does not have is an error that names it,
// never a quiet move to the CPU.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <vector>

#include "model_config.pb.h"
#include "server/Status.h"

namespace cocktail::server {

/// One instance: its group and, on a GPU, which one.
struct InstancePlacement {
  int group = 0;  // index into config.instance_group (0 when the config has none)
  int gpu = -1;   // the CUDA device ordinal; -1: the CPU
  bool onGpu() const { return gpu >= 0; }
};

/// True when some group is KIND_GPU: the model is compiled for CUDA.
bool wantsGpu(const inference::ModelConfig& config);

/// The instances, in group order (a GPU group: each listed GPU in turn, with
/// `count` instances each). `visibleGpus` is how many GPUs this process
/// sees; where it sees none, `noGpuReason` says why (the CUDA runtime's
/// words, or a build without CUDA) and a KIND_GPU group fails with it.
StatusOr<std::vector<InstancePlacement>> placeInstances(const inference::ModelConfig& config, int visibleGpus,
                                                        const std::string& noGpuReason);

/// Writes the placement into the effective config: each group's name and
/// count filled in, AUTO shown as KIND_CPU, and a GPU group that listed no
/// `gpus` given the ones its instances went to.
void completeInstanceGroups(inference::ModelConfig& config, const std::string& modelName,
                            const std::vector<InstancePlacement>& instances);

}  // namespace cocktail::server

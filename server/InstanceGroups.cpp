//===- server/InstanceGroups.cpp ----------------------------------------------------===//
#include "server/InstanceGroups.h"

#include <algorithm>

#include <fmt/format.h>

namespace cocktail::server {

using Group = inference::ModelInstanceGroup;

namespace {
/// Each instance is a thread and an executor (on a GPU, a stream and an arena too).
constexpr size_t kMaxInstances = 1024;
}  // namespace

bool wantsGpu(const inference::ModelConfig& config) {
  for (const Group& g : config.instance_group())
    if (g.kind() == Group::KIND_GPU) return true;
  return false;
}

StatusOr<std::vector<InstancePlacement>> placeInstances(const inference::ModelConfig& config, int visibleGpus,
                                                        const std::string& noGpuReason) {
  std::vector<InstancePlacement> out;
  if (config.instance_group().empty()) return std::vector<InstancePlacement>{InstancePlacement{}};
  for (int i = 0; i < config.instance_group_size(); ++i) {
    const Group& g = config.instance_group(i);
    const int count = g.count() > 0 ? g.count() : 1;
    const std::string where = fmt::format("model '{}': instance_group {}{}", config.name(), i,
                                          g.name().empty() ? "" : fmt::format(" ('{}')", g.name()));
    switch (g.kind()) {
      case Group::KIND_CPU:
      case Group::KIND_AUTO:
        for (int c = 0; c < count; ++c) out.push_back({i, -1});
        break;
      case Group::KIND_GPU: {
        if (visibleGpus <= 0)
          return unavailable(fmt::format("{} is KIND_GPU, but there is no GPU to run it on: {}", where, noGpuReason));
        std::vector<int> gpus(g.gpus().begin(), g.gpus().end());
        if (gpus.empty())
          for (int d = 0; d < visibleGpus; ++d) gpus.push_back(d);
        for (int d : gpus)
          if (d < 0 || d >= visibleGpus)
            return unavailable(fmt::format("{} is KIND_GPU on GPU {}, but this machine has {} GPU{} (0{})", where, d,
                                           visibleGpus, visibleGpus == 1 ? "" : "s",
                                           visibleGpus == 1 ? "" : fmt::format(" to {}", visibleGpus - 1)));
        if (gpus.size() * count + out.size() > kMaxInstances)
          return invalidArgument(fmt::format("{} asks for {} instances ({} on each of {} GPUs); at most {} per model",
                                             where, gpus.size() * count, count, gpus.size(), kMaxInstances));
        for (int d : gpus)
          for (int c = 0; c < count; ++c) out.push_back({i, d});
        break;
      }
      default:
        return invalidArgument(fmt::format("{} is {}; cocktail-serve runs KIND_CPU, KIND_GPU or KIND_AUTO instances",
                                           where, Group::Kind_Name(g.kind())));
    }
  }
  return out;
}

void completeInstanceGroups(inference::ModelConfig& config, const std::string& modelName,
                            const std::vector<InstancePlacement>& instances) {
  if (config.instance_group().empty()) config.add_instance_group();
  for (int i = 0; i < config.instance_group_size(); ++i) {
    Group* g = config.mutable_instance_group(i);
    if (g->name().empty()) g->set_name(fmt::format("{}_{}", modelName, i));
    if (g->count() == 0) g->set_count(1);
    std::vector<int> placed;  // the GPUs used, in order, once each
    for (const InstancePlacement& p : instances)
      if (p.group == i && p.onGpu() && std::find(placed.begin(), placed.end(), p.gpu) == placed.end())
        placed.push_back(p.gpu);
    if (placed.empty()) {
      g->set_kind(Group::KIND_CPU);
      g->clear_gpus();
      continue;
    }
    g->set_kind(Group::KIND_GPU);
    if (g->gpus().empty())  // every visible GPU: say which those were
      for (int d : placed) g->add_gpus(d);
  }
}

}  // namespace cocktail::server

//===- server/Repository.h - A Triton-style model repository ---------------------------===//
//
//   <repository>/<model>/config.pbtxt
//   <repository>/<model>/<version>/model.pt        compiled on load, cached
//   <repository>/<model>/<version>/model.cocktail  loaded as is
//
// or, with the config parameter `cocktail.backend: torchscript`, the model.pt
// runs on the TorchScript interpreter instead of being compiled.
//
// The repository owns the loaded Models, answers which version serves a
// request, and keeps for the index every model's state and, when it could not
// be loaded, the reason. A model that fails to load or compile never stops
// the others. Loads and unloads are serialised; a reload builds the new
// versions first and swaps them in, then drains the old ones, so requests
// that were accepted are all answered.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/Artifact.h"
#include "runtime/TorchScriptExecutor.h"
#include "server/GpuDevices.h"
#include "server/Metrics.h"
#include "server/Model.h"
#include "server/ModelConfig.h"
#include "server/Status.h"

namespace cocktail::server {

enum class ControlMode { None, Explicit, Poll };

struct RepositoryOptions {
  std::filesystem::path root;
  ControlMode mode = ControlMode::None;
  /// Explicit mode: what to load at startup ("*": everything).
  std::vector<std::string> startupModels;
  /// Where compiled model.pt files are kept, by content hash and compiler
  /// version; empty: compile on every load.
  std::filesystem::path cacheDir;
  /// Queue bound for models whose config gives none.
  uint32_t maxQueueSize = 1024;
  /// What a config's -1 dim is compiled for when cocktail.inputs gives no bound.
  int64_t defaultDimBound = kDefaultDimBound;
  /// The largest bound such a dim is recompiled for when a request is larger.
  int64_t maxDimBound = kDefaultMaxDimBound;
  /// The GPUs KIND_GPU instances run on; null: the machine's (machineGpus()).
  /// Tests give an emulated device here.
  std::shared_ptr<GpuDevices> gpus;
  /// What one model (all its instances) may hold, estimated before it loads
  /// (ModelMemory.h); 0: no limit.
  int64_t modelMemoryLimit = 0;
};

struct IndexEntry {
  std::string name;
  std::string version;  // empty when the model failed before any version
  std::string state;    // READY, UNAVAILABLE, LOADING, UNLOADING
  std::string reason;
};

class Repository {
 public:
  Repository(RepositoryOptions options, Metrics* metrics);
  ~Repository();

  const RepositoryOptions& options() const { return options_; }

  /// Loads what the mode says to load at startup. Models that fail are
  /// recorded as UNAVAILABLE; the returned status is only for a repository
  /// that cannot be read at all.
  Status loadStartupModels();

  /// Loads, or reloads, a model: the new versions serve as soon as they are
  /// ready and the old ones drain. On failure a previously loaded version
  /// keeps serving and the index shows the reason.
  Status load(const std::string& name);
  /// Stops serving a model; waits until its accepted requests are answered.
  Status unload(const std::string& name);
  /// Poll mode: loads new and changed models, unloads removed ones.
  void poll();
  /// Unloads everything (at shutdown).
  void unloadAll();

  /// A request for `model` has a -1 dim above its compiled bound
  /// (`needed`: symbol -> the request's value, within maxDimBound): the
  /// model is recompiled (on a thread of its own, one compile at a time,
  /// cached like any compile) for the next power of two of each, and
  /// reloaded; then `then` is called with the outcome. Requests that arrive
  /// while a compile runs wait for it rather than compile again.
  void grow(const std::shared_ptr<Model>& model, const std::map<std::string, int64_t>& needed,
            std::function<void(Status)> then);
  /// Answers every request waiting for a recompile with UNAVAILABLE now
  /// (a compile in progress finishes, unheeded), and refuses later ones:
  /// for a shutdown whose drain timed out. Idempotent.
  void stopGrowing();

  /// The model version a request names ("" = the newest loaded version).
  StatusOr<std::shared_ptr<Model>> find(const std::string& name, const std::string& version) const;
  /// Every loaded version of every model (for statistics), or of one.
  std::vector<std::shared_ptr<Model>> loaded(const std::string& name = "") const;
  /// Every model in the repository folder and every model known, with its state.
  std::vector<IndexEntry> index(bool readyOnly) const;

 private:
  struct Entry {
    std::map<int64_t, std::shared_ptr<Model>> versions;  // serving
    std::string state;
    std::string reason;
    std::string fingerprint;  // poll: what the files looked like when loaded
    std::map<std::string, int64_t> grownBounds;  // -1 dims recompiled past the default (grow)
  };
  /// Bounds asked for by requests, and the requests waiting for them.
  struct Growth {
    std::map<std::string, int64_t> bounds;
    std::vector<std::function<void(Status)>> waiters;
  };

  StatusOr<std::map<int64_t, std::shared_ptr<Model>>> build(const std::string& name);
  /// build(), with what it throws (std::bad_alloc, any std::exception) as its status.
  StatusOr<std::map<int64_t, std::shared_ptr<Model>>> buildCatching(const std::string& name);
  /// The compiled artifact of a version: its model.cocktail as is, or its
  /// model.pt compiled for `target` ("cpu", or "cuda" for KIND_GPU instances).
  StatusOr<std::shared_ptr<const runtime::Artifact>> obtainArtifact(const std::string& name, int64_t version,
                                                                    const std::filesystem::path& versionDir,
                                                                    const inference::ModelConfig& config,
                                                                    const VariableDimBounds& bounds,
                                                                    const std::string& target,
                                                                    std::vector<std::string>& variableSymbols);
  void growLoop();
  /// Recompiles `name` for `bounds` (merged into its grown bounds) unless it already has them.
  Status growNow(const std::string& name, const std::map<std::string, int64_t>& bounds);
  /// The executors of a model served by the TorchScript interpreter
  /// (`cocktail.backend: torchscript`): its model.pt, never compiled.
  StatusOr<ExecutorFactory> torchScriptExecutors(const std::string& name, int64_t version,
                                                 const std::filesystem::path& versionDir,
                                                 const inference::ModelConfig& config,
                                                 const runtime::TorchScriptOptions& options);
  std::vector<std::string> scan() const;
  std::string fingerprint(const std::string& name) const;
  void setState(const std::string& name, std::string state, std::string reason);

  RepositoryOptions options_;
  Metrics* metrics_;
  mutable std::shared_mutex mu_;  // entries_
  std::map<std::string, Entry> entries_;
  std::mutex loadMu_;  // one load or unload at a time

  std::mutex growMu_;  // growth_, growStopping_
  std::condition_variable growCv_;
  std::map<std::string, Growth> growth_;  // by model name, waiting for the grow thread
  std::vector<std::function<void(Status)>> compiling_;  // waiting for the compile in progress
  bool growStopping_ = false;
  std::thread growThread_;  // started by the first grow()
};

/// A name that can only be a folder directly under the repository.
bool isValidModelName(const std::string& name);

}  // namespace cocktail::server

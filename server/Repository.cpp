//===- server/Repository.cpp ------------------------------------------------------===//
#include "server/Repository.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "driver/Compile.h"
#include "frontend/Frontend.h"
#include "ir/InputSpec.h"
#include "runtime/Artifact.h"
#include "runtime/CpuExecutor.h"
#include "runtime/MemoryEstimate.h"
#include "runtime/TorchInterop.h"
#include "runtime/TorchScriptExecutor.h"
#include "server/BackendParameters.h"
#include "server/ModelConfig.h"
#include "server/ModelMemory.h"

namespace cocktail::server {
namespace fs = std::filesystem;

namespace {

/// The versions under a model folder: the numbered sub-folders.
std::vector<int64_t> versionFolders(const fs::path& dir) {
  std::vector<int64_t> versions;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_directory(ec)) continue;
    const std::string n = e.path().filename().string();
    if (n.empty() || n.size() > 18 || !std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    versions.push_back(std::stoll(n));
  }
  std::sort(versions.begin(), versions.end());
  return versions;
}

/// The versions the config's version_policy selects (default: the newest).
std::vector<int64_t> selectVersions(const inference::ModelConfig& config, std::vector<int64_t> available) {
  const auto& policy = config.version_policy();
  if (policy.has_all()) return available;
  if (policy.has_specific()) {
    std::vector<int64_t> out;
    for (int64_t v : policy.specific().versions())
      if (std::find(available.begin(), available.end(), v) != available.end()) out.push_back(v);
    return out;
  }
  size_t n = policy.has_latest() && policy.latest().num_versions() > 0 ? policy.latest().num_versions() : 1;
  if (available.size() > n) available.erase(available.begin(), available.end() - static_cast<std::ptrdiff_t>(n));
  return available;
}

/// FNV-1a over bytes: the cache key of a model.pt (with its specs and the compiler version).
uint64_t fnv1a(std::string_view bytes, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}

StatusOr<std::string> readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return unavailable(fmt::format("cannot read {}", path.string()));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Argument {
  std::string name, type;  // "steps", "int"
};

/// forward's arguments, from "forward(xs: Tensor, steps: int)".
StatusOr<std::vector<Argument>> forwardArguments(const fs::path& model) {
  auto sig = frontend::describeSignature(model.string());
  if (!sig) return Status::fromIr(sig.status(), Status::Code::Unavailable);
  const std::string& s = *sig;
  std::vector<Argument> args;
  size_t open = s.find('(');
  int depth = 0;
  Argument current;
  bool inName = true;
  for (size_t i = open + 1; open != std::string::npos && i < s.size(); ++i) {
    char c = s[i];
    if (depth == 0 && (c == ',' || c == ')')) {
      if (!current.name.empty()) args.push_back(current);
      current = {};
      inName = true;
      if (c == ')') break;
      continue;
    }
    if (c == '[' || c == '(') ++depth;
    if (c == ']' || c == ')') --depth;
    if (c == ':' && depth == 0 && inName) {
      inName = false;
      continue;
    }
    if (c != ' ') (inName ? current.name : current.type) += c;
  }
  return args;
}

/// A spec made from config dims [1] ("steps:i64[1]") for an argument that is a
/// TorchScript number: the scalar spec ("steps:i64"), as it is on the wire.
void scalarForNumberArgument(std::string& spec, const std::string& type) {
  static const std::pair<const char*, const char*> numbers[] = {{"int", ":i64[1]"}, {"float", ":f64[1]"}, {"bool", ":i1[1]"}};
  for (const auto& [t, suffix] : numbers) {
    const std::string s = suffix;
    if (type == t && spec.size() > s.size() && spec.compare(spec.size() - s.size(), s.size(), s) == 0)
      spec.erase(spec.size() - 3);  // drop "[1]"
  }
}

/// The specs `file` is compiled or run with: the config's, with INPUT__<n>
/// names replaced by forward's n-th argument name. `variableSymbols` gets
/// the symbols made for the config's -1 dims.
StatusOr<std::vector<std::string>> resolvedInputSpecs(const fs::path& file, const inference::ModelConfig& config,
                                                      const VariableDimBounds& bounds,
                                                      std::vector<std::string>* variableSymbols = nullptr) {
  std::vector<std::string> symbols;
  auto specs = inputSpecsFromConfig(config, bounds, &symbols);
  if (!specs) return specs.status();
  if (variableSymbols) *variableSymbols = symbols;
  bool indexed = false;
  for (const std::string& s : *specs) indexed |= s.rfind("INPUT__", 0) == 0;
  const bool fromConfig = !config.parameters().count(kInputsParameter);
  if (indexed || fromConfig) {
    auto args = forwardArguments(file);
    if (!args) return args.status();
    for (std::string& s : *specs) {
      const std::string name = s.substr(0, s.find(':'));
      int n = tensorIndexSuffix(name);
      // INPUT__<n> names: the n-th argument of forward.
      if (name.rfind("INPUT__", 0) == 0 && n >= 0 && n < static_cast<int>(args->size())) s = (*args)[n].name + s.substr(s.find(':'));
      if (!fromConfig) continue;
      for (const Argument& a : *args)
        if (a.name == s.substr(0, s.find(':'))) scalarForNumberArgument(s, a.type);
    }
  }
  if (!symbols.empty()) {
    std::string joined;
    for (const std::string& s : *specs) joined += (joined.empty() ? "" : " ") + s;
    if (bounds.grown.empty())
      spdlog::info("model '{}': -1 dims without {} bounds are compiled for {} (--default-dim-bound): {}", config.name(),
                   kInputsParameter, bounds.defaultBound, joined);
    else
      spdlog::info("model '{}': -1 dims are compiled for the bounds requests needed: {}", config.name(), joined);
  }
  return specs;
}

}  // namespace

bool isValidModelName(const std::string& name) {
  return !name.empty() && name.size() <= 255 && name[0] != '.' && name.find('/') == std::string::npos &&
         name.find('\\') == std::string::npos && name.find('\0') == std::string::npos;
}

Repository::Repository(RepositoryOptions options, Metrics* metrics) : options_(std::move(options)), metrics_(metrics) {
  if (!options_.gpus) options_.gpus = machineGpus();
  // nv_gpu_memory_*: the GPUs KIND_GPU instances run on, read when scraped.
  if (metrics_)
    metrics_->setGpuMemorySource([this] {
      std::set<int> used;
      for (const auto& model : loaded())
        for (const InstancePlacement& p : model->instances())
          if (p.onGpu()) used.insert(p.gpu);
      std::vector<GpuMemoryReading> readings;
      for (int gpu : used)
        if (auto m = options_.gpus->memory(gpu)) readings.push_back(*m);
      return readings;
    });
}

Repository::~Repository() {
  if (metrics_) metrics_->setGpuMemorySource(nullptr);
  stopGrowing();
  if (growThread_.joinable()) growThread_.join();
  unloadAll();
}

std::vector<std::string> Repository::scan() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(options_.root, ec)) {
    std::string n = e.path().filename().string();
    if (e.is_directory(ec) && isValidModelName(n)) names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Status Repository::loadStartupModels() {
  std::error_code ec;
  if (!fs::is_directory(options_.root, ec))
    return invalidArgument(fmt::format("--model-repository {}: not a folder", options_.root.string()));
  std::vector<std::string> names;
  if (options_.mode == ControlMode::Explicit) {
    for (const std::string& n : options_.startupModels) {
      if (n == "*") names = scan();
      else names.push_back(n);
    }
  } else {
    names = scan();
  }
  for (const std::string& n : names) {
    Status s = load(n);
    if (!s.ok()) spdlog::error("model '{}' is UNAVAILABLE: {}", n, s.message());
  }
  return Status::success();
}

void Repository::setState(const std::string& name, std::string state, std::string reason) {
  std::unique_lock lock(mu_);
  Entry& e = entries_[name];
  e.state = std::move(state);
  e.reason = std::move(reason);
}

Status Repository::load(const std::string& name) {
  if (!isValidModelName(name)) return invalidArgument(fmt::format("'{}' is not a model name", name));
  std::lock_guard<std::mutex> serial(loadMu_);
  std::error_code ec;
  if (!fs::is_directory(options_.root / name, ec))
    return notFound(fmt::format("no model '{}' in the repository {}", name, options_.root.string()));
  bool serving = false;
  {
    std::shared_lock lock(mu_);
    auto it = entries_.find(name);
    serving = it != entries_.end() && !it->second.versions.empty();
  }
  if (!serving) setState(name, "LOADING", "");
  spdlog::info("loading model '{}'", name);
  std::string print = fingerprint(name);
  auto built = buildCatching(name);
  if (!built) {
    std::unique_lock lock(mu_);
    Entry& e = entries_[name];
    e.fingerprint = print;
    e.reason = built.status().message();
    if (e.versions.empty()) e.state = "UNAVAILABLE";
    else spdlog::warn("model '{}': reload failed, the loaded versions keep serving", name);
    return built.status();
  }
  std::map<int64_t, std::shared_ptr<Model>> old;
  {
    std::unique_lock lock(mu_);
    Entry& e = entries_[name];
    old.swap(e.versions);
    e.versions = std::move(*built);
    e.state = "READY";
    e.reason.clear();
    e.fingerprint = print;
  }
  for (auto& [v, m] : old) m->stop();  // answer what they accepted
  std::string versions, backend;
  {
    std::shared_lock lock(mu_);
    for (const auto& [v, m] : entries_[name].versions) {
      versions += (versions.empty() ? "" : ", ") + std::to_string(v);
      backend = m->backend();
    }
  }
  spdlog::info("model '{}' is READY (version {}, backend {})", name, versions, backend);
  return Status::success();
}

Status Repository::unload(const std::string& name) {
  std::lock_guard<std::mutex> serial(loadMu_);
  std::map<int64_t, std::shared_ptr<Model>> old;
  {
    std::unique_lock lock(mu_);
    auto it = entries_.find(name);
    if (it == entries_.end() || it->second.versions.empty()) {
      std::error_code ec;
      if (it == entries_.end() && !(isValidModelName(name) && fs::is_directory(options_.root / name, ec)))
        return notFound(fmt::format("unknown model '{}'", name));
      return Status::success();  // already unloaded
    }
    it->second.state = "UNLOADING";
    old.swap(it->second.versions);
  }
  for (auto& [v, m] : old) m->stop();
  old.clear();
  setState(name, "UNAVAILABLE", "unloaded");
  spdlog::info("model '{}' unloaded", name);
  return Status::success();
}

void Repository::unloadAll() {
  std::vector<std::string> names;
  {
    std::shared_lock lock(mu_);
    for (const auto& [n, e] : entries_)
      if (!e.versions.empty()) names.push_back(n);
  }
  for (const std::string& n : names) (void)unload(n);
}

std::string Repository::fingerprint(const std::string& name) const {
  std::string print;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(options_.root / name, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    auto time = fs::last_write_time(it->path(), ec).time_since_epoch().count();
    print += fmt::format("{}:{}:{};", it->path().string(), it->file_size(ec), time);
  }
  return print;
}

void Repository::poll() {
  std::vector<std::string> present = scan();
  std::vector<std::string> known;
  {
    std::shared_lock lock(mu_);
    for (const auto& [n, e] : entries_) known.push_back(n);
  }
  for (const std::string& n : known)
    if (!std::binary_search(present.begin(), present.end(), n)) {
      (void)unload(n);
      std::unique_lock lock(mu_);
      entries_.erase(n);
    }
  for (const std::string& n : present) {
    std::string print = fingerprint(n);
    bool changed = true;
    {
      std::shared_lock lock(mu_);
      auto it = entries_.find(n);
      changed = it == entries_.end() || it->second.fingerprint != print;
    }
    if (!changed) continue;
    Status s = load(n);
    if (!s.ok()) spdlog::error("model '{}': {}", n, s.message());
  }
}

StatusOr<std::map<int64_t, std::shared_ptr<Model>>> Repository::buildCatching(const std::string& name) {
  // A load runs a model's code (its compile, its warm-up runs) and allocates
  // what the model asks for: whatever it throws fails this model, never the server.
  try {
    return build(name);
  } catch (const std::bad_alloc&) {
    return unavailable(
        fmt::format("model '{}': out of memory while loading (std::bad_alloc), past what its "
                    "memory estimate foresaw",
                    name));
  } catch (const std::exception& e) {
    return unavailable(fmt::format("model '{}': loading failed: {}", name, e.what()));
  }
}

StatusOr<std::map<int64_t, std::shared_ptr<Model>>> Repository::build(const std::string& name) {
  const fs::path dir = options_.root / name;
  auto config = readModelConfig(dir, name);
  if (!config) return config.status();
  std::vector<int64_t> available = versionFolders(dir);
  std::vector<int64_t> versions = selectVersions(*config, available);
  if (versions.empty())
    return unavailable(fmt::format("model '{}' has no version folder to serve ({}/<number>/model.pt)", name, dir.string()));
  auto backend = backendFromConfig(*config);
  if (!backend) return backend.status();
  const runtime::TorchScriptOptions interpreter = applyBackendParameters(*config, *backend, fmt::format("model '{}'", name));
  // KIND_GPU: the GPUs are asked for first, so that a machine without one
  // says so (rather than a compile for a GPU nobody has); never the CPU instead.
  const bool gpu = wantsGpu(*config);
  int visibleGpus = 0;
  std::string noGpu;
  if (gpu) {
    if (*backend == ModelBackend::TorchScript)
      return unavailable(
          fmt::format("model '{}': KIND_GPU runs compiled models; parameter {} \"torchscript\" runs on "
                      "the CPU (use KIND_CPU, or leave out {})",
                      name, kBackendParameter, kBackendParameter));
    visibleGpus = options_.gpus->count(noGpu);
  }
  auto placement = placeInstances(*config, visibleGpus, noGpu);
  if (!placement) return placement.status();
  auto memoryLimit = modelMemoryLimit(*config, options_.modelMemoryLimit, fmt::format("model '{}'", name));
  if (!memoryLimit) return memoryLimit.status();
  const auto instances = static_cast<int64_t>(placement->size());
  // The limit covers every version loaded together: each is checked with the ones before it.
  int64_t heldByEarlierVersions = 0;
  const auto checkMemory = [&](const std::string& where, int64_t bytes, std::string breakdown) -> Status {
    if (heldByEarlierVersions > 0)
      breakdown += fmt::format(", + {} for the versions before it", runtime::describeBytes(heldByEarlierVersions));
    int64_t total = 0;
    if (__builtin_add_overflow(bytes, heldByEarlierVersions, &total)) total = INT64_MAX;
    COCKTAIL_SERVE_RETURN_IF_ERROR(checkModelMemory(where, total, breakdown, *memoryLimit));
    heldByEarlierVersions = total;
    return Status::success();
  };
  std::map<int64_t, std::shared_ptr<Model>> built;
  for (int64_t v : versions) {
    const std::string where = fmt::format("model '{}' version {}", name, v);
    ModelSpec spec;
    spec.name = name;
    spec.version = v;
    spec.config = *config;
    spec.backend = backendName(*backend);
    spec.defaultMaxQueueSize = options_.maxQueueSize;
    spec.modelDir = dir;
    spec.instances = *placement;
    if (*backend == ModelBackend::TorchScript) {
      auto factory = torchScriptExecutors(name, v, dir / std::to_string(v), *config, interpreter);
      if (!factory) return factory.status();
      // Each instance loads its own module: about the file's bytes each.
      std::error_code ec;
      const fs::path file = dir / std::to_string(v) /
                            (config->default_model_filename().empty() ? "model.pt" : config->default_model_filename());
      const auto fileBytes = static_cast<int64_t>(fs::file_size(file, ec));
      int64_t bytes = 0;
      if (!ec && __builtin_mul_overflow(fileBytes, instances, &bytes)) bytes = INT64_MAX;
      COCKTAIL_SERVE_RETURN_IF_ERROR(
          checkMemory(where, bytes,
                      fmt::format("{} instance(s) x {} of {}", instances, runtime::describeBytes(fileBytes),
                                  file.filename().string())));
      spec.createExecutor = std::move(*factory);
      // The profiling executor profiles on the first call and optimizes on
      // the second; neither should land on a request.
      spec.warmupRuns = 2;
    } else {
      VariableDimBounds bounds{options_.defaultDimBound, {}};
      {
        std::shared_lock lock(mu_);
        if (auto it = entries_.find(name); it != entries_.end()) bounds.grown = it->second.grownBounds;
      }
      auto artifact =
          obtainArtifact(name, v, dir / std::to_string(v), *config, bounds, gpu ? "cuda" : "cpu", spec.growableSymbols);
      if (!artifact) return artifact.status();
      // Before any instance allocates its arena or packs its weights.
      const runtime::MemoryEstimate estimate = runtime::estimateCpuMemory(*(*artifact)->program);
      COCKTAIL_SERVE_RETURN_IF_ERROR(checkMemory(where, estimate.total(instances), estimate.str(instances)));
      spec.maxDimBound = options_.maxDimBound;
      // Growing reloads the model, and a reload ends the live sequences
      // (their states would be lost): a sequence model keeps its bounds.
      if (config->has_sequence_batching()) spec.growableSymbols.clear();
      // A CUDA artifact's scheduled program runs on the CPU too: a config may mix KIND_CPU and KIND_GPU groups.
      spec.createExecutor = [artifact = *artifact, gpus = options_.gpus](
                                const InstancePlacement& p) -> ir::Expected<std::unique_ptr<runtime::Executor>> {
        if (p.onGpu()) return gpuExecutor(*gpus, *artifact, p.gpu);
        return runtime::createCpuExecutor(artifact->program, runtime::torchScriptIslands());
      };
    }
    auto model = Model::create(std::move(spec), metrics_);
    if (!model) return model.status();
    built.emplace(v, std::move(*model));
  }
  return built;
}

StatusOr<std::shared_ptr<const runtime::Artifact>> Repository::obtainArtifact(
    const std::string& name, int64_t version, const fs::path& versionDir, const inference::ModelConfig& config,
    const VariableDimBounds& bounds, const std::string& target, std::vector<std::string>& variableSymbols) {
  std::error_code ec;
  fs::path file;
  if (!config.default_model_filename().empty()) file = versionDir / config.default_model_filename();
  else if (fs::exists(versionDir / "model.cocktail", ec)) file = versionDir / "model.cocktail";
  else file = versionDir / "model.pt";
  if (!fs::is_regular_file(file, ec))
    return unavailable(fmt::format("model '{}' version {}: no {} (expected model.pt or model.cocktail)", name, version,
                                   file.string()));
  if (file.extension() == ".cocktail") {
    auto artifact = runtime::loadArtifact(file.string());
    if (!artifact) return Status::fromIr(artifact.status(), Status::Code::Unavailable);
    if (target == "cuda" && !artifact->codeFor("cuda"))
      return unavailable(
          fmt::format("model '{}' version {}: KIND_GPU needs CUDA code, but {} was compiled for target {} "
                      "(compile it with --target cuda, or serve the model.pt)",
                      name, version, file.string(), artifact->target));
    return std::make_shared<const runtime::Artifact>(artifact.take());
  }

  // A TorchScript file: compile it, or take the compiled artifact from the cache.
  auto specs = resolvedInputSpecs(file, config, bounds, &variableSymbols);
  if (!specs) return specs.status();
  auto bytes = readFile(file);
  if (!bytes) return bytes.status();
  uint64_t key = fnv1a(*bytes);
  for (const std::string& s : *specs) key = fnv1a(s + "\n", key);
  key = fnv1a(runtime::compilerVersion(), key);
  if (target != "cpu") key = fnv1a("target " + target, key);  // CPU entries keep the keys they had
  fs::path cached;
  if (!options_.cacheDir.empty()) {
    cached = options_.cacheDir / fmt::format("{}-{:016x}.cocktail", name, key);
    if (fs::exists(cached, ec)) {
      auto artifact = runtime::loadArtifact(cached.string());
      if (artifact) {
        spdlog::info("model '{}' version {}: compiled artifact from the cache ({})", name, version, cached.string());
        return std::make_shared<const runtime::Artifact>(artifact.take());
      }
      spdlog::warn("model '{}': ignoring a bad cache entry: {}", name, artifact.status().str());
    }
  }
  std::string joined;
  for (const std::string& spec : *specs) joined += (joined.empty() ? "" : " ") + spec;
  spdlog::info("model '{}' version {}: compiling {} for {} (target {})", name, version, file.string(), joined, target);
  driver::CompileOptions options;
  options.inputSpecs = *specs;
  options.target = target;
  auto compiled = driver::compileTorchScript(file.string(), options);
  if (!compiled && target == "cuda") {
    const Status why = Status::fromIr(compiled.status(), Status::Code::Unavailable);
    return unavailable(fmt::format("model '{}' version {}: KIND_GPU: compiling for the GPU (target cuda) failed: {}",
                                   name, version, why.message()));
  }
  if (!compiled) return Status::fromIr(compiled.status(), Status::Code::Unavailable);
  for (const auto& f : compiled->fallbacks) spdlog::warn("model '{}': {}", name, driver::describeFallback(f, file.string()));
  if (!cached.empty()) {
    fs::create_directories(options_.cacheDir, ec);
    fs::path tmp = cached;
    tmp += fmt::format(".tmp{}", static_cast<const void*>(&cached));
    ir::Status saved = runtime::saveArtifact(compiled->artifact, tmp.string());
    if (saved.ok()) fs::rename(tmp, cached, ec);
    if (!saved.ok() || ec) spdlog::warn("model '{}': could not cache the compiled artifact in {}", name, cached.string());
  }
  return std::make_shared<const runtime::Artifact>(std::move(compiled->artifact));
}

StatusOr<ExecutorFactory> Repository::torchScriptExecutors(const std::string& name, int64_t version,
                                                           const fs::path& versionDir,
                                                           const inference::ModelConfig& config,
                                                           const runtime::TorchScriptOptions& options) {
  const fs::path file = versionDir / (config.default_model_filename().empty() ? "model.pt" : config.default_model_filename());
  std::error_code ec;
  if (file.extension() == ".cocktail")
    return invalidArgument(fmt::format("model '{}' version {}: parameter {} \"torchscript\" runs a TorchScript model.pt, "
                                       "but default_model_filename is {}",
                                       name, version, kBackendParameter, file.filename().string()));
  if (!fs::is_regular_file(file, ec))
    return unavailable(fmt::format("model '{}' version {}: no {} (parameter {} \"torchscript\" runs a model.pt)", name,
                                   version, file.string(), kBackendParameter));
  auto texts = resolvedInputSpecs(file, config, VariableDimBounds{options_.defaultDimBound, {}});
  if (!texts) return texts.status();
  std::vector<ir::Symbol> symbols;
  auto specs = ir::parseInputSpecs(*texts, &symbols);
  if (!specs) return Status::fromIr(specs.status(), Status::Code::InvalidArgument);
  // Each instance loads its own module, as Triton's instances do.
  return ExecutorFactory([path = file.string(), specs = specs.take(), symbols, options](const InstancePlacement&) {
    return runtime::createTorchScriptExecutor(path, specs, symbols, options);
  });
}

void Repository::grow(const std::shared_ptr<Model>& model, const std::map<std::string, int64_t>& needed,
                      std::function<void(Status)> then) {
  {
    std::lock_guard<std::mutex> lock(growMu_);
    if (!growStopping_) {
      Growth& g = growth_[model->name()];
      for (const auto& [symbol, value] : needed) {
        // The next power of two, so that a model grows a few times at most; never past the limit.
        int64_t bound = 1;
        while (bound < value) bound *= 2;
        bound = std::min(bound, options_.maxDimBound);
        g.bounds[symbol] = std::max(g.bounds[symbol], bound);
      }
      g.waiters.push_back(std::move(then));
      if (!growThread_.joinable()) growThread_ = std::thread([this] { growLoop(); });
      growCv_.notify_one();
      return;
    }
  }
  then(unavailable(fmt::format("model '{}': the server is shutting down", model->name())));
}

void Repository::growLoop() {
  std::unique_lock<std::mutex> lock(growMu_);
  for (;;) {
    growCv_.wait(lock, [&] { return growStopping_ || !growth_.empty(); });
    if (growStopping_) return;  // stopGrowing() answered the waiters
    std::string name = growth_.begin()->first;
    Growth g = std::move(growth_.begin()->second);
    growth_.erase(growth_.begin());
    // Requests arriving during the compile queue a Growth of their own; it
    // finds its bounds already there and only admits them again.
    compiling_ = std::move(g.waiters);
    lock.unlock();
    Status s = growNow(name, g.bounds);
    lock.lock();
    std::vector<std::function<void(Status)>> waiters = std::move(compiling_);  // empty once stopGrowing() ran
    compiling_.clear();
    lock.unlock();
    for (auto& then : waiters) then(s);
    lock.lock();
  }
}

void Repository::stopGrowing() {
  std::vector<std::function<void(Status)>> waiters;
  {
    std::lock_guard<std::mutex> lock(growMu_);
    growStopping_ = true;
    waiters = std::move(compiling_);
    compiling_.clear();
    for (auto& [name, g] : growth_)
      for (auto& then : g.waiters) waiters.push_back(std::move(then));
    growth_.clear();
  }
  growCv_.notify_all();
  for (auto& then : waiters) then(unavailable("the server is shutting down; the model was being recompiled for the request"));
}

Status Repository::growNow(const std::string& name, const std::map<std::string, int64_t>& bounds) {
  std::map<std::string, int64_t> before;
  std::string grown;
  {
    std::unique_lock lock(mu_);
    auto it = entries_.find(name);
    if (it == entries_.end() || it->second.versions.empty())
      return unavailable(fmt::format("model '{}' is not loaded", name));
    before = it->second.grownBounds;
    for (const auto& [symbol, bound] : bounds) {
      int64_t& b = it->second.grownBounds[symbol];
      if (bound > std::max(b, options_.defaultDimBound)) {
        b = bound;
        grown += fmt::format("{}{}<={}", grown.empty() ? "" : ", ", symbol, bound);
      } else if (b == 0) {
        it->second.grownBounds.erase(symbol);
      }
    }
  }
  if (grown.empty()) return Status::success();  // an earlier compile already covers these
  spdlog::info("model '{}': a request is above a -1 dim's compiled bound; recompiling for {}", name, grown);
  Status s = load(name);
  if (!s.ok()) {
    std::unique_lock lock(mu_);
    if (auto it = entries_.find(name); it != entries_.end()) it->second.grownBounds = before;
    return Status(s.code(), fmt::format("model '{}': recompiling for {} failed: {}", name, grown, s.message()));
  }
  return Status::success();
}

StatusOr<std::shared_ptr<Model>> Repository::find(const std::string& name, const std::string& version) const {
  std::shared_lock lock(mu_);
  auto it = entries_.find(name);
  if (it == entries_.end() || it->second.versions.empty()) {
    std::error_code ec;
    if (it == entries_.end() && !(isValidModelName(name) && fs::is_directory(options_.root / name, ec)))
      return notFound(fmt::format("unknown model '{}'", name));
    std::string why = it == entries_.end() ? "not loaded" : it->second.state == "LOADING" ? "loading" : it->second.reason;
    return unavailable(fmt::format("model '{}' is not ready: {}", name, why.empty() ? "unavailable" : why));
  }
  const auto& versions = it->second.versions;
  if (version.empty()) return versions.rbegin()->second;
  int64_t v = -1;
  if (version.size() <= 18 && std::all_of(version.begin(), version.end(), [](char c) { return c >= '0' && c <= '9'; }))
    v = std::stoll(version);
  else
    return invalidArgument(fmt::format("model_version '{}' is not a version number", version));
  auto vit = versions.find(v);
  if (vit == versions.end()) {
    std::string loaded;
    for (const auto& [n, m] : versions) loaded += (loaded.empty() ? "" : ", ") + std::to_string(n);
    return notFound(fmt::format("model '{}' has no version {} loaded (loaded: {})", name, version, loaded));
  }
  return vit->second;
}

std::vector<std::shared_ptr<Model>> Repository::loaded(const std::string& name) const {
  std::vector<std::shared_ptr<Model>> out;
  std::shared_lock lock(mu_);
  for (const auto& [n, e] : entries_)
    if (name.empty() || n == name)
      for (const auto& [v, m] : e.versions) out.push_back(m);
  return out;
}

std::vector<IndexEntry> Repository::index(bool readyOnly) const {
  std::vector<IndexEntry> out;
  std::vector<std::string> present = scan();
  std::shared_lock lock(mu_);
  for (const auto& [n, e] : entries_) {
    if (!e.versions.empty()) {
      for (const auto& [v, m] : e.versions) out.push_back({n, std::to_string(v), e.state, ""});
    } else if (!readyOnly) {
      out.push_back({n, "", e.state, e.reason});
    }
  }
  if (!readyOnly)
    for (const std::string& n : present)
      if (!entries_.count(n)) out.push_back({n, "", "UNAVAILABLE", "unloaded"});
  std::sort(out.begin(), out.end(), [](const IndexEntry& a, const IndexEntry& b) {
    return std::tie(a.name, a.version) < std::tie(b.name, b.version);
  });
  return out;
}

}  // namespace cocktail::server

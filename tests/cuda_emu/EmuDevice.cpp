//===- tests/cuda_emu/EmuDevice.cpp -------------------------------------------------------===//
#include "tests/cuda_emu/EmuDevice.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <fmt/format.h>

namespace cocktail::cuda_emu {

namespace fs = std::filesystem;

ir::Expected<std::unique_ptr<EmuDevice>> EmuDevice::create(const runtime::cuda::CudaPlan& plan,
                                                            const std::string& cudaSource, const EmuOptions& options) {
  if (options.blockThreads == 0 || options.blockThreads % 32 != 0)
    return ir::Status::error("the emulated block size must be a multiple of 32");
  std::unique_ptr<EmuDevice> d(new EmuDevice());
  d->options_ = options;
  std::string dir = options.workDir;
  if (dir.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "cocktail-emu-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) return ir::Status::error("cannot create a temporary folder for the emulated module");
    dir = tmpl;
  } else {
    std::error_code ec;
    fs::create_directories(dir, ec);
  }
  const std::string source = (fs::path(dir) / "module.cu").string();
  const std::string library = (fs::path(dir) / "module.so").string();
  std::ofstream(source) << cudaSource;
  // The same text NVRTC compiles, as C++ with the emulation header in front.
  std::string command =
      fmt::format("{} -std=c++17 -O1 -g0 -fPIC -shared -w -DCOCKTAIL_EMULATION -include {} -x c++ {} -o {} 2>&1",
                  COCKTAIL_EMU_CXX, COCKTAIL_EMU_HEADER, source, library);
  if (options.countPerformance) {
    // GCC's ThreadSanitizer instrumentation calls __tsan_read4 and the like at
    // every load and store; cuda_emu.h defines them to count. Compiled
    // apart and linked without libtsan, so nothing else of TSan comes in.
    const std::string object = (fs::path(dir) / "module.o").string();
    command = fmt::format(
        "{0} -std=c++17 -O2 -g0 -fPIC -w -DCOCKTAIL_EMULATION -DCOCKTAIL_PERF_COUNTERS -fsanitize=thread "
        "--param tsan-instrument-func-entry-exit=0 --param tsan-distinguish-volatile=1 -include {1} -x c++ {2} "
        "-c -o {3} 2>&1 && {0} -shared {3} -o {4} 2>&1",
        COCKTAIL_EMU_CXX, COCKTAIL_EMU_HEADER, source, object, library);
  }
  std::string log;
  if (FILE* p = popen(command.c_str(), "r")) {
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, p)) log.append(buf, n);
    if (pclose(p) != 0)
      return ir::Status::error(fmt::format("the emulated module does not compile:\n$ {}\n{}", command, log));
  } else {
    return ir::Status::error("cannot run the C++ compiler for the emulated module");
  }
  d->library_ = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!d->library_) return ir::Status::error(fmt::format("cannot load the emulated module: {}", dlerror()));
  d->launch_ = reinterpret_cast<Launch>(dlsym(d->library_, "cocktail_emu_launch"));
  if (!d->launch_) return ir::Status::error("the emulated module has no cocktail_emu_launch");
  if (options.countPerformance) {
    d->perfBegin_ = reinterpret_cast<PerfBegin>(dlsym(d->library_, "cocktail_emu_perf_begin"));
    d->perfStages_ = reinterpret_cast<PerfStages>(dlsym(d->library_, "cocktail_emu_perf_stages"));
    if (!d->perfBegin_ || !d->perfStages_)
      return ir::Status::error("the emulated module does not count (no cocktail_emu_perf_*)");
  }
  for (const runtime::cuda::KernelInfo& k : plan.kernels) {
    auto entry = reinterpret_cast<Entry>(dlsym(d->library_, ("cocktail_emu_" + k.name).c_str()));
    if (!entry) return ir::Status::error(fmt::format("the emulated module has no entry for kernel {}", k.name));
    d->entries_[k.name] = entry;
  }
  d->arenaBytes_ = plan.arenaBytes;
  // Aligned as cudaMalloc's memory is (256 bytes at least); aligned_alloc wants a multiple of it.
  constexpr size_t kArenaAlignment = 256;
  const size_t allocated = (static_cast<size_t>(std::max<int64_t>(d->arenaBytes_, 1)) + kArenaAlignment - 1) /
                           kArenaAlignment * kArenaAlignment;
  d->arena_ = static_cast<char*>(std::aligned_alloc(kArenaAlignment, allocated));
  if (!d->arena_) return ir::Status::error(fmt::format("cannot allocate the {}-byte arena", d->arenaBytes_));
  // Poison, so that a kernel reading what nobody wrote shows up as NaNs.
  std::memset(d->arena_, 0xff, static_cast<size_t>(d->arenaBytes_));
  return d;
}

std::string EmuDevice::description() const {
  return fmt::format("emulated CUDA device ({} blocks x {} threads, on the CPU)", options_.persistentBlocks,
                     options_.blockThreads);
}

EmuDevice::~EmuDevice() {
  std::free(arena_);
  if (library_) dlclose(library_);
}

ir::Status EmuDevice::write(int64_t offset, const void* src, int64_t bytes) {
  if (offset < 0 || offset + bytes > arenaBytes_) return ir::Status::error("write outside the arena");
  std::memcpy(arena_ + offset, src, static_cast<size_t>(bytes));
  return ir::Status::success();
}

ir::Status EmuDevice::read(int64_t offset, void* dst, int64_t bytes) {
  if (offset < 0 || offset + bytes > arenaBytes_) return ir::Status::error("read outside the arena");
  std::memcpy(dst, arena_ + offset, static_cast<size_t>(bytes));
  return ir::Status::success();
}

ir::Status EmuDevice::launch(const runtime::cuda::KernelInfo& kernel, int64_t grid, const std::vector<char>& frame) {
  const unsigned blocks = grid > 0 ? static_cast<unsigned>(grid) : options_.persistentBlocks;
  ++launches_;
  // The emulation's scheduler and built-in variables (cuda_emu.h) are
  // process-wide, shared by every loaded module (GCC makes inline variables
  // unique symbols across dlopen): one emulated launch at a time, whichever
  // device and thread it comes from (the server runs an instance per thread).
  static std::mutex oneLaunchAtATime;
  std::lock_guard<std::mutex> lock(oneLaunchAtATime);
  if (perfBegin_) perfBegin_(arena_, static_cast<unsigned long long>(arenaBytes_));
  if (launch_(entries_.at(kernel.name), frame.data(), blocks, options_.blockThreads,
              static_cast<unsigned long long>(kernel.sharedBytes), options_.switchLimit) != 0)
    return ir::Status::error(fmt::format("emulated kernel {} did not finish within {} fiber switches (a deadlock?)",
                                         kernel.name, options_.switchLimit));
  if (perfStages_) {
    auto it = std::find_if(counts_.begin(), counts_.end(), [&](const auto& c) { return c.first == kernel.name; });
    if (it == counts_.end()) it = counts_.insert(counts_.end(), {kernel.name, KernelCounts{}});
    const cocktail_emu::PerfStage* stages = nullptr;
    const size_t n = perfStages_(&stages);
    KernelCounts& c = it->second;
    ++c.launches;
    c.grids.push_back(blocks);
    c.stagesPerLaunch.push_back(n);
    c.stages.insert(c.stages.end(), stages, stages + n);
  }
  return ir::Status::success();
}

}  // namespace cocktail::cuda_emu

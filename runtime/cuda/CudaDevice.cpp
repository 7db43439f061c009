//===- runtime/cuda/CudaDevice.cpp ---------------------------------------------------------===//
#include "runtime/cuda/CudaDevice.h"

#include <cuda_runtime_api.h>
#include <fmt/format.h>

namespace cocktail::runtime::cuda {

namespace {

ir::Status check(cudaError_t err, const std::string& what) {
  if (err == cudaSuccess) return ir::Status::success();
  return ir::Status::error(fmt::format("CUDA: {}: {} ({})", what, cudaGetErrorString(err), cudaGetErrorName(err)));
}

}  // namespace

#define COCKTAIL_CUDA_CHECK(call, what) COCKTAIL_RETURN_IF_ERROR(check((call), (what)))

ir::Expected<std::unique_ptr<CudaDevice>> CudaDevice::create(const CudaPlan& plan, const TargetCode& code, int gpu) {
  int count = 0;
  if (cudaError_t err = cudaGetDeviceCount(&count); err != cudaSuccess || count == 0) {
    cudaGetLastError();
    return ir::Status::error(fmt::format("no GPU: {}", err != cudaSuccess ? cudaGetErrorString(err) : "no CUDA device"));
  }
  if (gpu < 0 || gpu >= count)
    return ir::Status::error(fmt::format("no GPU {}: this machine has {} (0 to {})", gpu, count, count - 1));
  std::unique_ptr<CudaDevice> d(new CudaDevice());
  d->gpu_ = gpu;
  COCKTAIL_CUDA_CHECK(cudaSetDevice(gpu), fmt::format("selecting GPU {}", gpu));
  cudaDeviceProp prop{};
  COCKTAIL_CUDA_CHECK(cudaGetDeviceProperties(&prop, gpu), fmt::format("reading the properties of GPU {}", gpu));
  if (!prop.cooperativeLaunch)
    return ir::Status::error(fmt::format("{} does not support cooperative launches, which persistent kernels need", prop.name));
  // The cubin built for this GPU, else PTX for the driver to JIT.
  const std::string arch = fmt::format("sm_{}{}", prop.major, prop.minor);
  auto cubin = code.binaries.find(arch);
  auto ptx = code.binaries.find("ptx");
  const std::string* image = cubin != code.binaries.end() ? &cubin->second : ptx != code.binaries.end() ? &ptx->second : nullptr;
  if (!image) return ir::Status::error(fmt::format("the artifact has no cubin for {} and no PTX", arch));
  cudaLibrary_t library = nullptr;
  COCKTAIL_CUDA_CHECK(cudaLibraryLoadData(&library, image->data(), nullptr, nullptr, 0, nullptr, nullptr, 0),
                      fmt::format("loading the {} of the artifact", cubin != code.binaries.end() ? arch + " cubin" : "PTX"));
  d->library_ = library;
  d->description_ =
      fmt::format("cuda:{} ({}, {}, {})", gpu, prop.name, arch, cubin != code.binaries.end() ? "cubin" : "PTX JIT");
  for (const KernelInfo& k : plan.kernels) {
    cudaKernel_t handle = nullptr;
    COCKTAIL_CUDA_CHECK(cudaLibraryGetKernel(&handle, library, k.name.c_str()), "finding kernel " + k.name);
    Kernel kernel;
    kernel.function = reinterpret_cast<const void*>(handle);
    kernel.sharedBytes = k.sharedBytes;
    kernel.blockThreads = k.blockThreads;
    if (k.blockThreads > prop.maxThreadsPerBlock)
      return ir::Status::error(fmt::format("kernel {} runs {} threads per block; {} allows {}", k.name, k.blockThreads,
                                           prop.name, prop.maxThreadsPerBlock));
    if (k.sharedBytes > 0) {
      // Resident weights' slices: above 48 KB a kernel must opt in.
      if (static_cast<size_t>(k.sharedBytes) > prop.sharedMemPerBlockOptin)
        return ir::Status::error(fmt::format("kernel {} keeps {} bytes of weights in shared memory per block; {} allows {}",
                                             k.name, k.sharedBytes, prop.name, prop.sharedMemPerBlockOptin));
      COCKTAIL_CUDA_CHECK(cudaFuncSetAttribute(kernel.function, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                               static_cast<int>(k.sharedBytes)),
                          fmt::format("allowing kernel {} {} bytes of dynamic shared memory", k.name, k.sharedBytes));
    }
    if (k.kind != KernelInfo::Kind::Operator) {
      int perSM = 0;
      COCKTAIL_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&perSM, kernel.function, k.blockThreads,
                                                                        static_cast<size_t>(k.sharedBytes)),
                          "the occupancy of kernel " + k.name);
      if (perSM == 0) return ir::Status::error(fmt::format("kernel {} cannot have one block resident per SM", k.name));
      // One block per SM, as the schedule's workers: more would only make every grid barrier wait for more.
      kernel.residentBlocks = prop.multiProcessorCount;
    }
    d->kernels_[k.name] = kernel;
  }
  cudaStream_t stream = nullptr;
  COCKTAIL_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "creating a stream");
  d->stream_ = stream;
  d->arenaBytes_ = plan.arenaBytes;
  void* arena = nullptr;
  COCKTAIL_CUDA_CHECK(cudaMalloc(&arena, static_cast<size_t>(d->arenaBytes_)),
                      fmt::format("allocating the {}-byte arena", d->arenaBytes_));
  d->arena_ = static_cast<char*>(arena);
  return d;
}

CudaDevice::~CudaDevice() {
  cudaSetDevice(gpu_);
  if (stream_) cudaStreamSynchronize(static_cast<cudaStream_t>(stream_));
  if (arena_) cudaFree(arena_);
  if (stream_) cudaStreamDestroy(static_cast<cudaStream_t>(stream_));
  if (library_) cudaLibraryUnload(static_cast<cudaLibrary_t>(library_));
}

ir::Status CudaDevice::write(int64_t offset, const void* src, int64_t bytes) {
  if (offset < 0 || offset + bytes > arenaBytes_) return ir::Status::error("write outside the arena");
  COCKTAIL_CUDA_CHECK(cudaSetDevice(gpu_), fmt::format("selecting GPU {}", gpu_));
  COCKTAIL_CUDA_CHECK(cudaMemcpyAsync(arena_ + offset, src, static_cast<size_t>(bytes), cudaMemcpyHostToDevice,
                                      static_cast<cudaStream_t>(stream_)),
                      "copying to the device");
  // The source is the caller's memory: done with it before returning.
  COCKTAIL_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream_)), "copying to the device");
  return ir::Status::success();
}

ir::Status CudaDevice::read(int64_t offset, void* dst, int64_t bytes) {
  if (offset < 0 || offset + bytes > arenaBytes_) return ir::Status::error("read outside the arena");
  COCKTAIL_CUDA_CHECK(cudaSetDevice(gpu_), fmt::format("selecting GPU {}", gpu_));
  COCKTAIL_CUDA_CHECK(cudaMemcpyAsync(dst, arena_ + offset, static_cast<size_t>(bytes), cudaMemcpyDeviceToHost,
                                      static_cast<cudaStream_t>(stream_)),
                      "copying from the device");
  COCKTAIL_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream_)), "a kernel before the copy from the device");
  return ir::Status::success();
}

ir::Status CudaDevice::launch(const KernelInfo& info, int64_t grid, const std::vector<char>& frame) {
  const Kernel& k = kernels_.at(info.name);
  COCKTAIL_CUDA_CHECK(cudaSetDevice(gpu_), fmt::format("selecting GPU {}", gpu_));
  void* args[] = {const_cast<char*>(frame.data())};  // the kernel's one parameter, CocktailFrame, by value
  auto stream = static_cast<cudaStream_t>(stream_);
  if (info.kind == KernelInfo::Kind::Operator) {
    COCKTAIL_CUDA_CHECK(cudaLaunchKernel(k.function, dim3(static_cast<unsigned>(grid)), dim3(static_cast<unsigned>(k.blockThreads)), args,
                                         static_cast<size_t>(k.sharedBytes), stream),
                        "launching " + info.name);
  } else {
    COCKTAIL_CUDA_CHECK(cudaLaunchCooperativeKernel(k.function, dim3(static_cast<unsigned>(k.residentBlocks)),
                                                    dim3(static_cast<unsigned>(k.blockThreads)), args,
                                                    static_cast<size_t>(k.sharedBytes),
                                                    stream),
                        "launching " + info.name + " cooperatively");
  }
  return check(cudaGetLastError(), "after launching " + info.name);
}

}  // namespace cocktail::runtime::cuda

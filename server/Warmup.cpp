//===- server/Warmup.cpp -----------------------------------------------------------===//
#include "server/Warmup.h"

#include <cstring>
#include <fstream>
#include <random>

#include <fmt/format.h>

#include "server/DataType.h"

namespace cocktail::server {
namespace {

/// A warm-up tensor larger than this is a mistake in the config, not a sample.
constexpr int64_t kMaxSampleBytes = int64_t{256} << 20;

/// Random values that are valid inputs for most models: floats in [-1, 1),
/// small non-negative integers (a trip count from a sample must not run for
/// long). Seeded, so that a failing warm-up fails the same way every time.
void randomBytes(ir::DType dtype, int64_t count, std::mt19937& rng, std::string& out) {
  std::uniform_real_distribution<float> real(-1.0f, 1.0f);
  std::uniform_int_distribution<int> small(0, 4);
  for (int64_t i = 0; i < count; ++i) {
    auto put = [&](auto v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); };
    switch (dtype) {
      case ir::DType::I1: out.push_back(static_cast<char>(small(rng) & 1)); break;
      case ir::DType::U8: out.push_back(static_cast<char>(small(rng))); break;
      case ir::DType::I32: put(static_cast<int32_t>(small(rng))); break;
      case ir::DType::I64: put(static_cast<int64_t>(small(rng))); break;
      case ir::DType::F32: put(real(rng)); break;
      case ir::DType::F64: put(static_cast<double>(real(rng))); break;
      case ir::DType::BF16: {
        float f = real(rng);
        uint32_t bits;
        std::memcpy(&bits, &f, sizeof bits);
        put(static_cast<uint16_t>(bits >> 16));
        break;
      }
      case ir::DType::F16: {
        static const uint16_t values[] = {0x0000, 0x3C00, 0xBC00, 0x3800, 0xB800};  // 0, 1, -1, 0.5, -0.5
        put(values[small(rng)]);
        break;
      }
    }
  }
}

/// A file name inside the warm-up folder: relative, no "..".
bool isPlainRelativePath(const std::filesystem::path& p) {
  if (p.empty() || p.is_absolute()) return false;
  for (const auto& part : p)
    if (part == "..") return false;
  return true;
}

Status readSampleFile(const std::filesystem::path& file, int64_t bytes, const std::string& where, std::string& out) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return invalidArgument(fmt::format("{}: cannot read input_data_file {}: {}", where, file.string(), ec.message()));
  if (static_cast<int64_t>(size) != bytes)
    return invalidArgument(fmt::format("{}: input_data_file {} has {} bytes, but the sample's shape needs {}", where,
                                       file.string(), size, bytes));
  std::ifstream in(file, std::ios::binary);
  out.resize(static_cast<size_t>(bytes));
  if (!in.read(out.data(), bytes))
    return invalidArgument(fmt::format("{}: cannot read input_data_file {}", where, file.string()));
  return Status::success();
}

}  // namespace

StatusOr<std::vector<inference::ModelInferRequest>> warmupRequests(const inference::ModelConfig& config,
                                                                   const std::vector<TensorInfo>& inputs,
                                                                   int64_t maxBatchSize,
                                                                   const std::filesystem::path& warmupDir) {
  std::vector<inference::ModelInferRequest> requests;
  std::mt19937 rng(0);
  for (int s = 0; s < config.model_warmup_size(); ++s) {
    const auto& sample = config.model_warmup(s);
    const std::string name = sample.name().empty() ? fmt::format("#{}", s) : sample.name();
    int64_t batch = 1;
    if (maxBatchSize > 0) {
      batch = sample.batch_size() == 0 ? 1 : sample.batch_size();
      if (batch > maxBatchSize)
        return invalidArgument(fmt::format("model_warmup '{}': batch_size {} is above max_batch_size {}", name, batch, maxBatchSize));
    }
    for (const auto& [key, value] : sample.inputs()) {
      bool known = false;
      for (const TensorInfo& t : inputs) known = known || t.name == key || t.alias == key;
      if (!known) return invalidArgument(fmt::format("model_warmup '{}': the model has no input '{}'", name, key));
    }
    inference::ModelInferRequest request;
    request.set_id("warmup:" + name);
    for (const TensorInfo& t : inputs) {
      if (t.role != TensorRole::Request) continue;  // a sequence control or state: the server fills it
      auto it = sample.inputs().find(t.name);
      if (it == sample.inputs().end()) it = sample.inputs().find(t.alias);
      if (it == sample.inputs().end()) continue;  // the shared validation reports the missing input
      const auto& in = it->second;
      const std::string where = fmt::format("model_warmup '{}' input '{}'", name, it->first);
      auto dtype = dtypeFromConfig(in.data_type());
      if (!dtype)
        return invalidArgument(fmt::format("{}: data_type {} is not one a model takes (the model's is {})", where,
                                           inference::DataType_Name(in.data_type()),
                                           inference::DataType_Name(configDataType(t.dtype))));
      auto* ri = request.add_inputs();
      ri->set_name(it->first);
      ri->set_datatype(std::string(tritonDatatype(*dtype)));
      if (maxBatchSize > 0) ri->add_shape(batch);
      int64_t count = batch;
      for (int64_t d : in.dims()) {
        if (d < 0) return invalidArgument(fmt::format("{}: dims must be fixed (>= 0), got {}", where, d));
        ri->add_shape(d);
        if (__builtin_mul_overflow(count, d, &count) || count > kMaxSampleBytes)
          return invalidArgument(fmt::format("{}: dims are too large for a warm-up sample", where));
      }
      const int64_t bytes = count * ir::dtypeSize(*dtype);
      std::string* raw = request.add_raw_input_contents();
      switch (in.input_data_type_case()) {
        case inference::ModelWarmup::Input::kZeroData: raw->assign(static_cast<size_t>(bytes), '\0'); break;
        case inference::ModelWarmup::Input::kRandomData: randomBytes(*dtype, count, rng, *raw); break;
        case inference::ModelWarmup::Input::kInputDataFile: {
          const std::filesystem::path file = in.input_data_file();
          if (!isPlainRelativePath(file))
            return invalidArgument(fmt::format("{}: input_data_file '{}' must be a file name inside {}", where,
                                               file.string(), warmupDir.string()));
          COCKTAIL_SERVE_RETURN_IF_ERROR(readSampleFile(warmupDir / file, bytes, where, *raw));
          break;
        }
        case inference::ModelWarmup::Input::INPUT_DATA_TYPE_NOT_SET:
          return invalidArgument(fmt::format("{}: give zero_data, random_data or input_data_file", where));
      }
    }
    requests.push_back(std::move(request));
  }
  return requests;
}

}  // namespace cocktail::server

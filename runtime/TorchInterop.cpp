//===- runtime/TorchInterop.cpp ---------------------------------------------------------===//
#include "runtime/TorchInterop.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/irparser.h>
#include <torch/csrc/jit/serialization/import.h>
#include <caffe2/serialize/versions.h>
#include <unistd.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <torch/csrc/jit/serialization/unpickler.h>
#include <torch/script.h>

#include "runtime/AtenTensor.h"
#include "runtime/PickleCompat.h"
#include "runtime/TorchSaveArchive.h"

namespace cocktail::runtime {

using ir::DType;

// ---- tensors -------------------------------------------------------------------------

namespace {
std::optional<DType> dtypeOf(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return DType::F32;
    case at::kDouble: return DType::F64;
    case at::kLong: return DType::I64;
    case at::kInt: return DType::I32;
    case at::kBool: return DType::I1;
    case at::kByte: return DType::U8;
    case at::kHalf: return DType::F16;
    case at::kBFloat16: return DType::BF16;
    default: return std::nullopt;
  }
}

at::ScalarType scalarTypeOf(DType t) {
  switch (t) {
    case DType::F32: return at::kFloat;
    case DType::F64: return at::kDouble;
    case DType::I64: return at::kLong;
    case DType::I32: return at::kInt;
    case DType::I1: return at::kBool;
    case DType::U8: return at::kByte;
    case DType::F16: return at::kHalf;
    case DType::BF16: return at::kBFloat16;
  }
  return at::kFloat;
}
}  // namespace

namespace {
/// Refuses a tensor whose storage cannot hold its shape and strides. A tensor
/// read from a file (torch.save's pickle says offset, sizes and strides apart
/// from the storage, and LibTorch does not check them against each other on
/// load) could otherwise make the copy below read past its storage.
void checkStorageHoldsTensor(const at::Tensor& t) {
  const int64_t offset = t.storage_offset();
  if (offset < 0) throw std::invalid_argument(fmt::format("its storage offset {} is negative", offset));
  // The last element's index, offset + sum((size - 1) * stride), in 128 bits:
  // sizes and strides read from a file may be anything an int64 holds.
  __int128 last = offset;
  for (int64_t d = 0; d < t.dim(); ++d) {
    const int64_t size = t.size(d), stride = t.stride(d);
    if (size < 0) throw std::invalid_argument(fmt::format("its size {} in dim {} is negative", size, d));
    if (size == 0) return;   // no element is read
    if (stride < 0) throw std::invalid_argument(fmt::format("its stride {} in dim {} is negative", stride, d));
    last += static_cast<__int128>(size - 1) * stride;
  }
  if (!t.has_storage()) throw std::invalid_argument("it has no storage");
  const size_t itemSize = t.element_size();
  const __int128 available = static_cast<__int128>(t.storage().nbytes() / itemSize);
  if (last >= available)
    throw std::invalid_argument(fmt::format(
        "its storage holds {} elements, but its shape {}, strides {} and storage offset {} reach past them",
        static_cast<int64_t>(available), c10::str(t.sizes()), c10::str(t.strides()), offset));
}
}  // namespace

Tensor fromAten(const at::Tensor& t) {
  auto dtype = dtypeOf(t.scalar_type());
  if (!dtype) throw std::invalid_argument(fmt::format("tensors of dtype {} are not supported", c10::toString(t.scalar_type())));
  if (t.device().is_cpu()) checkStorageHoldsTensor(t);
  at::Tensor c = t.to(at::kCPU).contiguous();
  return Tensor::fromBytes(*dtype, Shape(c.sizes().begin(), c.sizes().end()), c.data_ptr());
}

at::Tensor toAten(const Tensor& t) {
  at::Tensor out = at::empty(std::vector<int64_t>(t.shape().begin(), t.shape().end()), at::TensorOptions().dtype(scalarTypeOf(t.dtype())));
  if (t.nbytes() > 0) std::memcpy(out.data_ptr(), t.rawData(), static_cast<size_t>(t.nbytes()));
  return out;
}

ir::Expected<RuntimeValue> fromIValue(const c10::IValue& v) {
  try {
    if (v.isTensor()) return RuntimeValue(fromAten(v.toTensor()));
    if (v.isInt()) return RuntimeValue(v.toInt());
    if (v.isDouble()) return RuntimeValue(v.toDouble());
    if (v.isBool()) return RuntimeValue(v.toBool());
  } catch (const std::exception& e) {
    return ir::Status::error(e.what());
  }
  return ir::Status::error(fmt::format("values of type {} are not supported (only tensors, ints, floats and bools)",
                                       v.tagKind()));
}

c10::IValue toIValue(const RuntimeValue& v) {
  if (const Tensor* t = std::get_if<Tensor>(&v)) return toAten(*t);
  if (const int64_t* i = std::get_if<int64_t>(&v)) return *i;
  if (const double* d = std::get_if<double>(&v)) return *d;
  if (const bool* b = std::get_if<bool>(&v)) return *b;
  return c10::IValue();
}

// ---- files -----------------------------------------------------------------------------

namespace {
/// Tuples and lists flattened; None dropped, as the compiler drops an output
/// that is always None (googlenet's aux logits in eval mode).
void flatten(const c10::IValue& v, std::vector<c10::IValue>& out) {
  if (v.isTuple()) {
    for (const auto& e : v.toTupleRef().elements()) flatten(e, out);
  } else if (v.isList()) {
    for (const auto& e : v.toListRef()) flatten(e, out);
  } else if (!v.isNone()) {
    out.push_back(v);
  }
}
}  // namespace

namespace {
/// A LibTorch buffer holding a copy of a record's bytes, shared by every
/// storage that names the record: a pickle may name one record any number of
/// times (a memoized persistent id is three bytes), and a copy for each would
/// multiply a small file into gigabytes.
at::DataPtr sharedRecordPtr(const std::shared_ptr<const std::string>& bytes) {
  auto* owner = new std::shared_ptr<const std::string>(bytes);
  return at::DataPtr(const_cast<char*>((*owner)->data()), owner,
                     [](void* p) { delete static_cast<std::shared_ptr<const std::string>*>(p); }, at::kCPU);
}

uint64_t parseFormatVersion(std::string_view text) {
  uint64_t version = 0;
  size_t digits = 0;
  for (; digits < text.size() && digits < 4 && std::isdigit(static_cast<unsigned char>(text[digits])); ++digits)
    version = version * 10 + static_cast<uint64_t>(text[digits] - '0');
  if (digits == 0) throw std::invalid_argument(fmt::format("its version record '{}' is not a number", text.substr(0, 16)));
  if (version < caffe2::serialize::kMinSupportedFileFormatVersion ||
      version > caffe2::serialize::kMaxSupportedFileFormatVersion)
    throw std::invalid_argument(fmt::format("its format version {} is not one LibTorch 1.13 reads ({} to {})", version,
                                            caffe2::serialize::kMinSupportedFileFormatVersion,
                                            caffe2::serialize::kMaxSupportedFileFormatVersion));
  return version;
}

/// torch::jit::pickle_load, with nothing of the file trusted first: the zip
/// is read here (TorchSaveArchive) rather than by LibTorch's reader, which
/// allocates each record at the size its header declares; the pickle is
/// walked before LibTorch's unpickler sees it (PickleCompat: every length and
/// memo index it would trust is checked, and single-element lists are
/// rewritten into what LibTorch 1.13 reads).
c10::IValue unpickleTorchSave(const std::vector<char>& bytes) {
  auto archive = TorchSaveArchive::open(std::string_view(bytes.data(), bytes.size()));
  if (!archive) throw std::invalid_argument(archive.status().diagnostics().front().message);
  auto recordOrThrow = [&](std::string_view name) {
    auto r = archive->record(name);
    if (!r) throw std::invalid_argument(r.status().diagnostics().front().message);
    return *r;
  };
  // Newer writers put the version under .data/ (LibTorch's reader looks there first too).
  const uint64_t version =
      parseFormatVersion(recordOrThrow(archive->has(".data/version") ? ".data/version" : "version"));
  auto pickle = rewritePickleForLibTorch(recordOrThrow("data.pkl"));
  if (!pickle) throw std::invalid_argument(pickle.status().diagnostics().front().message);
  size_t offset = 0;
  auto read = [&](char* buffer, size_t len) -> size_t {
    size_t n = std::min(len, pickle->size() - offset);
    std::memcpy(buffer, pickle->data() + offset, n);  // NOLINT(bugprone-not-null-terminated-result): bytes, not a C string
    offset += n;
    return n;
  };
  // Each storage's record, copied once (so what the file makes us allocate
  // stays within its own size). LibTorch 1.13 sizes a storage by the element
  // count the pickle gives, not by its record, without allocating it; the
  // storages are checked against their records below.
  std::map<std::string, std::shared_ptr<const std::string>, std::less<>> records;
  std::map<const void*, std::string> recordAt;
  auto readRecord = [&](const std::string& key) {
    auto it = records.find(key);
    if (it == records.end()) {
      it = records.emplace(key, std::make_shared<const std::string>(recordOrThrow("data/" + key))).first;
      recordAt[it->second->data()] = key;
    }
    return sharedRecordPtr(it->second);
  };
  torch::jit::Unpickler unpickler(read, nullptr, nullptr, readRecord, c10::nullopt);
  unpickler.set_version(version);
  c10::IValue value = unpickler.parse_ivalue();
  std::vector<c10::IValue> values;
  flatten(value, values);
  for (const c10::IValue& v : values) {
    if (!v.isTensor() || !v.toTensor().has_storage()) continue;
    const c10::Storage& storage = v.toTensor().storage();
    auto it = recordAt.find(storage.data());
    const size_t held = it == recordAt.end() ? 0 : records.at(it->second)->size();
    if (storage.nbytes() > held)
      throw std::invalid_argument(fmt::format("a tensor's storage{} claims {} bytes, but the file holds {} for it",
                                              it == recordAt.end() ? "" : " 'data/" + it->second + "'",
                                              storage.nbytes(), held));
  }
  return value;
}

/// The bytes a tensor takes once contiguous (what fromAten allocates), or
/// nullopt past 2^63 or for a negative size: a stride-0 tensor from a file may
/// be any shape over a one-element storage.
std::optional<uint64_t> denseBytes(const at::Tensor& t) {
  const c10::IntArrayRef sizes = t.sizes();
  if (std::any_of(sizes.begin(), sizes.end(), [](int64_t n) { return n < 0; })) return std::nullopt;
  if (std::any_of(sizes.begin(), sizes.end(), [](int64_t n) { return n == 0; })) return 0;
  unsigned __int128 bytes = t.element_size();
  for (int64_t size : sizes) {
    bytes *= static_cast<uint64_t>(size);
    if (bytes > static_cast<unsigned __int128>(INT64_MAX)) return std::nullopt;
  }
  return static_cast<uint64_t>(bytes);
}
}  // namespace

ValuesFileLimits ValuesFileLimits::ofMachine() {
  const long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGE_SIZE);
  const uint64_t memory = pages > 0 && pageSize > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(pageSize)
                                                    : uint64_t{1} << 34;
  return ValuesFileLimits{memory, "this machine's memory"};
}

ir::Expected<std::vector<RuntimeValue>> loadValuesFile(const std::string& path, const ValuesFileLimits& limits) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return ir::Status::error(fmt::format("cannot read inputs '{}': it is a directory", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) return ir::Status::error(fmt::format("cannot open inputs '{}': {}", path, std::strerror(errno)));
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parseValuesFile(bytes, path, limits);
}

ir::Expected<std::vector<RuntimeValue>> parseValuesFile(const std::vector<char>& bytes, const std::string& path,
                                                        const ValuesFileLimits& limits) {
  c10::IValue value;
  try {
    value = unpickleTorchSave(bytes);
  } catch (const std::exception& e) {
    std::string what = e.what();
    return ir::Status::error(fmt::format("'{}' is not a file written by torch.save ({})", path, what.substr(0, what.find('\n'))));
  }
  if (!value.isList() && !value.isTuple())
    return ir::Status::error(fmt::format("'{}' must hold a list of inputs (torch.save([x, 3], path)), it holds a {}",
                                         path, value.tagKind()));
  std::vector<RuntimeValue> out;
  size_t i = 0;
  for (const c10::IValue& e : value.isList() ? value.toListRef().vec() : value.toTupleRef().elements().vec()) {
    if (e.isNone()) {  // an argument compiled as absent (NAME:none)
      out.push_back(std::monostate{});
      ++i;
      continue;
    }
    // Checked before fromAten makes the tensor contiguous, which allocates it
    // in full: first that the storage holds it, then, for a tensor larger
    // than its storage (stride 0, overlapping strides: more than the file
    // holds), that it fits the limit.
    if (e.isTensor()) {
      const at::Tensor& t = e.toTensor();
      try {
        if (t.device().is_cpu()) checkStorageHoldsTensor(t);
      } catch (const std::exception& error) {
        return ir::Status::error(fmt::format("'{}': element {}: {}", path, i, error.what()));
      }
      const std::optional<uint64_t> dense = denseBytes(t);
      const uint64_t stored = t.has_storage() ? t.storage().nbytes() : 0;
      if (!dense || (*dense > stored && *dense > limits.maxTensorBytes))
        return ir::Status::error(fmt::format(
            "'{}': element {}: a {} tensor of shape {} takes {} bytes, more than the limit of {} bytes ({})", path, i,
            c10::toString(t.scalar_type()), c10::str(t.sizes()), dense ? fmt::to_string(*dense) : "over 2^63",
            limits.maxTensorBytes, limits.maxTensorBytesReason));
    }
    auto rv = fromIValue(e);
    if (!rv)
      return ir::Status::error(fmt::format("'{}': element {}: {}", path, i, rv.status().diagnostics().front().message));
    out.push_back(rv.take());
    ++i;
  }
  return out;
}

ir::Status saveValuesFile(const std::vector<RuntimeValue>& values, const std::string& path) {
  c10::impl::GenericList list(c10::AnyType::get());
  for (const RuntimeValue& v : values) list.push_back(toIValue(v));
  std::vector<char> bytes = torch::jit::pickle_save(c10::IValue(list));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return ir::Status::error(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) return ir::Status::error(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  return ir::Status::success();
}

// ---- islands ------------------------------------------------------------------------------

namespace {
class TorchScriptIsland final : public IslandRunner {
 public:
  explicit TorchScriptIsland(const std::string& text) {
    auto graph = std::make_shared<torch::jit::Graph>();
    torch::jit::parseIR(text, graph.get());
    fn_ = std::make_unique<torch::jit::GraphFunction>("island", graph, nullptr);
  }

  std::vector<RuntimeValue> run(const std::vector<RuntimeValue>& inputs) override {
    torch::jit::Stack stack;
    for (const RuntimeValue& v : inputs) stack.push_back(toIValue(v));
    fn_->run(stack);
    // The island returns None (no result), one value, or a tuple of them.
    std::vector<c10::IValue> results;
    for (const c10::IValue& v : stack) {
      if (v.isNone()) continue;
      if (v.isTuple()) {
        for (const auto& e : v.toTupleRef().elements()) results.push_back(e);
      } else {
        results.push_back(v);
      }
    }
    std::vector<RuntimeValue> out;
    for (const c10::IValue& v : results) {
      auto rv = fromIValue(v);
      if (!rv) throw std::runtime_error(rv.status().str());
      out.push_back(rv.take());
    }
    return out;
  }

 private:
  std::unique_ptr<torch::jit::GraphFunction> fn_;
};
}  // namespace

IslandFactory torchScriptIslands() {
  return [](const std::string& text) -> std::unique_ptr<IslandRunner> { return std::make_unique<TorchScriptIsland>(text); };
}

// ---- reference -------------------------------------------------------------------------------

ir::Expected<std::vector<RuntimeValue>> runTorchScript(const std::string& modelPath, const std::vector<RuntimeValue>& inputs,
                                                       const std::string& method) {
  torch::jit::Module module;
  try {
    module = torch::jit::load(modelPath);
  } catch (const std::exception& e) {
    std::string what = e.what();
    return ir::Status::error(fmt::format("cannot load reference model '{}': {}", modelPath, what.substr(0, what.find('\n'))));
  }
  module.eval();
  std::vector<c10::IValue> args;
  for (const RuntimeValue& v : inputs) args.push_back(toIValue(v));  // toIValue copies tensors
  c10::IValue result;
  try {
    torch::NoGradGuard noGrad;
    result = module.get_method(method)(args);
  } catch (const std::exception& e) {
    std::string what = e.what();
    return ir::Status::error(fmt::format("the reference model failed: {}", what.substr(0, what.find('\n'))));
  }
  std::vector<c10::IValue> flat;
  flatten(result, flat);
  std::vector<RuntimeValue> out;
  for (const auto& v : flat) {
    auto rv = fromIValue(v);
    if (!rv) return rv.status();
    out.push_back(rv.take());
  }
  return out;
}

Difference compareOutputs(const std::vector<RuntimeValue>& actual, const std::vector<RuntimeValue>& expected) {
  Difference d;
  if (actual.size() != expected.size()) {
    d.mismatch = fmt::format("{} outputs, the reference has {}", actual.size(), expected.size());
    return d;
  }
  for (size_t i = 0; i < actual.size(); ++i) {
    const RuntimeValue& a = actual[i];
    const RuntimeValue& e = expected[i];
    if (a.index() != e.index()) {
      d.mismatch = fmt::format("output {} is {}, the reference's is {}", i, describe(a), describe(e));
      return d;
    }
    if (!isTensor(a)) {
      double x = std::holds_alternative<double>(a) ? std::get<double>(a) : std::holds_alternative<int64_t>(a) ? double(std::get<int64_t>(a)) : double(std::get<bool>(a));
      double y = std::holds_alternative<double>(e) ? std::get<double>(e) : std::holds_alternative<int64_t>(e) ? double(std::get<int64_t>(e)) : double(std::get<bool>(e));
      d.maxAbs = std::max(d.maxAbs, std::fabs(x - y));
      d.maxRel = std::max(d.maxRel, std::fabs(x - y) / std::max(std::fabs(y), 1e-12));
      continue;
    }
    at::Tensor ta = toAten(std::get<Tensor>(a)), te = toAten(std::get<Tensor>(e));
    if (ta.scalar_type() != te.scalar_type() || !ta.sizes().equals(te.sizes())) {
      d.mismatch = fmt::format("output {} is {}, the reference's is {}", i, describe(a), describe(e));
      return d;
    }
    if (ta.numel() == 0) continue;
    at::Tensor da = ta.to(at::kDouble), de = te.to(at::kDouble);
    // NaN where the reference has NaN is agreement, and so is the same
    // infinity (an attention mask's -inf, whose difference is NaN); anything
    // else that is not finite is infinitely wrong.
    at::Tensor agree = da.isnan().logical_and(de.isnan()).logical_or(da == de);
    at::Tensor diff = (da - de).abs().masked_fill(agree, 0.0).nan_to_num(INFINITY, INFINITY, INFINITY);
    double maxAbs = diff.max().item<double>();
    double scale = de.abs().nan_to_num(0.0, 0.0, 0.0).max().item<double>();
    d.maxAbs = std::max(d.maxAbs, maxAbs);
    d.maxRel = std::max(d.maxRel, maxAbs / std::max(scale, 1e-12));
  }
  return d;
}

}  // namespace cocktail::runtime

//===- tests/fuzz/infer_request_fuzzer.cpp - ModelInferRequest decoding and validation ----===//
//
// Any bytes as a serialized ModelInferRequest, as the gRPC server receives
// it, validated against a served model (server/InferRequest.h) exactly as
// the server does before enqueueing: names, datatypes, shapes against the
// bounds, byte sizes, raw and typed contents, parameters. A bad request
// must be refused with a status, never crash or read out of bounds.
//
//===----------------------------------------------------------------------===//
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <google/protobuf/stubs/logging.h>

#include "grpc_service.pb.h"
#include "ir/Parser.h"
#include "runtime/CpuExecutor.h"
#include "server/InferRequest.h"
#include "server/Model.h"

namespace {
/// A model with two symbolic dims shared by two inputs, a scalar and a second
/// dtype (not batched: a batched model takes no scalars).
constexpr char kProgram[] = R"(symbol B <= 4
symbol T <= 8
func @forward(%xs: f32[B,T,3], %mask: i64[B,T], %steps: i64) -> (f32[B,T,3], i64[B,T]) {
  %y = neg(%xs) : f32[B,T,3]
  return(%y, %mask)
}
)";

const cocktail::server::Model& model() {
  using namespace cocktail;
  static const std::shared_ptr<server::Model> m = [] {
    auto parsed = ir::parseProgram(kProgram, "infer_request_fuzzer");
    if (!parsed) std::abort();
    std::shared_ptr<const ir::Program> program(parsed.take());
    server::ModelSpec spec;
    spec.name = "model";
    spec.config.set_name("model");
    spec.createExecutor = [program](const server::InstancePlacement&) {
      return runtime::createCpuExecutor(program, nullptr);
    };
    auto created = server::Model::create(std::move(spec), nullptr);
    if (!created) {
      std::fprintf(stderr, "infer_request_fuzzer: its model does not load: %s\n", created.status().message().c_str());
      std::abort();
    }
    return *created;
  }();
  return *m;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Protobuf logs every bad string it parses; the fuzzer would print little else.
  static const google::protobuf::LogSilencer quiet;
  using namespace cocktail;
  const server::Model& m = model();
  inference::ModelInferRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  server::InferJob job;
  job.reset();
  (void)server::prepareJob(request, m, job);
  return 0;
}

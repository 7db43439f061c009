//===- tests/cuda/CudaPlanArtifactTest.cpp - The CUDA host plan stored in the artifact -===//
//
// The plan the generator makes is the plan the runtime loads (saved, loaded,
// compared field by field), for the CUDA FileCheck programs and for a host
// loop with a host branch inside; and a plan edited by hand, in every table
// it has, is refused at load with the entry it got wrong.
//
//===----------------------------------------------------------------------===//
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <functional>
#include <sstream>

#include <fmt/format.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "artifact.pb.h"
#include "codegen/CudaCodegen.h"
#include "ir/Parser.h"
#include "passes/Pass.h"
#include "runtime/Artifact.h"

namespace cocktail {
namespace {

using ::testing::HasSubstr;
using runtime::Artifact;
using runtime::cuda::CudaPlan;
using runtime::cuda::HostStep;

// A host loop whose body has a host branch, with a scalar output: every
// kind of host step and host scalar the plan has.
constexpr std::string_view kHostLoopWithBranch = R"(symbol T <= 8
weight @b : f32[4,256]
func @forward(%x: f32[T,256], %n: i64, %p: i1) -> (f32[T,256], i64) {
  %bias = weight {name = "b"} : f32[4,256]
  %true = constant true : i1
  %two = constant 2 : i64
  %r = loop(%n, %true, %x) {placement = "host"} : f32[T,256] {
  ^(%i: i64, %acc: f32[T,256]):
    %k = mul(%i, %two) : i64
    %a = add(%acc, %k) {sync = "none", tile_elems = 1024, tiles = 2} : f32[T,256]
    %c = if(%p) {placement = "host"} : f32[T,256] {
      %t = tanh(%a) {sync = "none", tile_elems = 1024, tiles = 2} : f32[T,256]
      yield(%t)
    } else {
      yield(%a)
    }
    yield(%true, %c)
  }
  %m = mul(%n, %two) : i64
  return(%r, %m)
}
)";

std::shared_ptr<ir::Program> parse(std::string_view text, const std::string& name) {
  auto p = ir::parseProgram(text, name);
  EXPECT_TRUE(p.ok()) << p.status().str();
  return p.ok() ? std::shared_ptr<ir::Program>(p.take()) : nullptr;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The program with its weights filled, its module generated, as an artifact
/// holding the module's source and plan (no binaries: nothing here runs them).
struct Compiled {
  Artifact artifact;
  codegen::CudaModule module;
};

Compiled compile(std::shared_ptr<ir::Program> program) {
  for (ir::WeightDecl& w : program->weights()) {
    int64_t bytes = ir::dtypeSize(w.type.dtype());
    for (const ir::Dim& d : w.type.dims()) bytes *= d.value();
    w.data.assign(static_cast<size_t>(bytes), std::byte{0x3f});
  }
  auto module = codegen::generateCuda(*program);
  EXPECT_TRUE(module.ok()) << module.status().str();
  Compiled c;
  c.artifact.target = "cuda";
  c.artifact.program = std::move(program);
  if (module.ok()) {
    c.module = module.take();
    c.artifact.code.push_back({"cuda", c.module.source, {}, c.module.plan});
  }
  return c;
}

Compiled compileHostLoop() { return compile(parse(kHostLoopWithBranch, "host-loop-branch.ir")); }

const CudaPlan& loadedPlan(const Artifact& a) { return *a.codeFor("cuda")->cudaPlan; }

// ---- round trips -----------------------------------------------------------------------------

TEST(CudaPlanArtifact, TheLoadedPlanIsTheGeneratorsForEveryHostStepKind) {
  Compiled c = compileHostLoop();
  const CudaPlan& plan = c.module.plan;
  // The program has what the test claims: a host loop holding a host branch, a scalar output.
  ASSERT_FALSE(plan.steps.empty());
  const auto loop = std::find_if(plan.steps.begin(), plan.steps.end(),
                                 [](const HostStep& s) { return s.kind == HostStep::Kind::Loop; });
  ASSERT_NE(loop, plan.steps.end());
  EXPECT_TRUE(std::any_of(loop->body.begin(), loop->body.end(),
                          [](const HostStep& s) { return s.kind == HostStep::Kind::If; }));
  EXPECT_EQ(plan.numLoopIndices, 1);
  ASSERT_EQ(plan.outputs.size(), 2u);
  EXPECT_TRUE(plan.outputs[1].isScalar);
  ASSERT_EQ(plan.weightRegions.size(), 1u);

  auto loaded = runtime::deserializeArtifact(runtime::serializeArtifact(c.artifact), "plan.cocktail");
  ASSERT_TRUE(loaded.ok()) << loaded.status().str();
  EXPECT_EQ(loadedPlan(*loaded), plan);
  EXPECT_EQ(loaded->codeFor("cuda")->source, c.module.source);
}

TEST(CudaPlanArtifact, TheLoadedPlanIsTheGeneratorsForTheCudaTestPrograms) {
  // Persistent loops, resident weights in shared memory, tile counters, the memory plan.
  for (const char* name : {"host-loop", "persistent-loop", "resident-weights", "resident-weights-short-tile",
                           "tile-counters", "planned-memory", "gathers", "device-checks"}) {
    SCOPED_TRACE(name);
    auto program = parse(readFile(fmt::format("{}/{}.ir", COCKTAIL_CUDA_TEST_DIR, name)), name);
    ASSERT_NE(program, nullptr);
    if (std::string_view(name) == "planned-memory") {
      passes::PassManager pm;
      ASSERT_TRUE(pm.addPipeline("plan-memory", passes::TargetModel::cuda()).ok());
      ASSERT_TRUE(pm.run(*program).ok());
    }
    Compiled c = compile(program);
    auto loaded = runtime::deserializeArtifact(runtime::serializeArtifact(c.artifact), "plan.cocktail");
    ASSERT_TRUE(loaded.ok()) << loaded.status().str();
    EXPECT_EQ(loadedPlan(*loaded), c.module.plan);
  }
}

TEST(CudaPlanArtifact, ACudaArtifactWithoutItsPlanIsRefused) {
  Compiled c = compileHostLoop();
  c.artifact.code[0].cudaPlan.reset();
  auto refused = runtime::deserializeArtifact(runtime::serializeArtifact(c.artifact), "plan.cocktail");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().str(), HasSubstr("its CUDA code has no host plan"));
}

// ---- hand-edited plans -----------------------------------------------------------------------

/// The artifact's bytes after `edit` changed its plan; the header's checksum
/// rewritten, as a tool that edits the file on purpose would.
std::string editedPlan(const Artifact& a, const std::function<void(artifact::CudaPlan&)>& edit) {
  const std::string bytes = runtime::serializeArtifact(a);
  constexpr size_t kHeaderSize = 8 + 4 + 8 + 4;
  artifact::Artifact pb;
  EXPECT_TRUE(pb.ParseFromString(bytes.substr(kHeaderSize)));
  edit(*pb.mutable_code(0)->mutable_cuda_plan());
  const std::string payload = pb.SerializeAsString();
  std::string out = bytes.substr(0, 12);
  const uint64_t size = payload.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((size >> (8 * i)) & 0xff));
  const auto crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(payload.data()), payload.size()));
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  return out + payload;
}

std::string refusal(const std::function<void(artifact::CudaPlan&)>& edit) {
  Compiled c = compileHostLoop();
  auto loaded = runtime::deserializeArtifact(editedPlan(c.artifact, edit), "edited.cocktail");
  EXPECT_FALSE(loaded.ok()) << "the edited plan loaded";
  return loaded.ok() ? "" : loaded.status().str();
}

TEST(CudaPlanArtifact, UneditedBytesLoad) {
  Compiled c = compileHostLoop();
  auto loaded = runtime::deserializeArtifact(editedPlan(c.artifact, [](artifact::CudaPlan&) {}), "same.cocktail");
  ASSERT_TRUE(loaded.ok()) << loaded.status().str();
}

TEST(CudaPlanArtifact, ARegionOutsideTheArena) {
  std::string e = refusal([](artifact::CudaPlan& p) { p.mutable_regions(1)->set_offset(p.arena_bytes()); });
  EXPECT_THAT(e, HasSubstr("cannot load 'edited.cocktail': its CUDA plan is invalid: region 1"));
  EXPECT_THAT(e, HasSubstr("is outside the"));
  EXPECT_THAT(refusal([](artifact::CudaPlan& p) { p.mutable_regions(0)->set_bytes(INT64_MAX); }),
              HasSubstr("region 0"));
  EXPECT_THAT(refusal([](artifact::CudaPlan& p) { p.mutable_regions(0)->set_offset(-256); }), HasSubstr("region 0"));
  EXPECT_THAT(refusal([](artifact::CudaPlan& p) { p.set_arena_bytes(0); }), HasSubstr("arena_bytes 0"));
}

TEST(CudaPlanArtifact, SlotsAndBarrierOutsideTheArenaOrMisaligned) {
  EXPECT_THAT(refusal([](artifact::CudaPlan& p) { p.set_num_slots(p.arena_bytes()); }), HasSubstr("num_slots"));
  EXPECT_THAT(refusal([](artifact::CudaPlan& p) { p.set_barrier_offset(p.arena_bytes() - 4); }),
              HasSubstr("the grid barrier"));
  EXPECT_THAT(refusal([](artifact::CudaPlan& p) { p.set_slots_offset(p.slots_offset() + 4); }),
              HasSubstr("multiples of 8"));
}

TEST(CudaPlanArtifact, AStepNamingAKernelThatIsNotThere) {
  std::string e = refusal([](artifact::CudaPlan& p) { p.mutable_steps(0)->set_init_kernel(99); });
  EXPECT_THAT(e, HasSubstr("steps[0].init_kernel: kernel 99 is not one of the"));
  // Inside the loop: the branch's then-steps.
  e = refusal([](artifact::CudaPlan& p) {
    for (auto& step : *p.mutable_steps(0)->mutable_body())
      if (step.kind() == artifact::HostStep::IF) step.mutable_body(0)->set_kernel(-1);
  });
  EXPECT_THAT(e, HasSubstr("kernel -1 is not one of the"));
  EXPECT_THAT(e, HasSubstr(".body[0]"));
}

TEST(CudaPlanArtifact, InvalidEnumValues) {
  EXPECT_THAT(refusal([](artifact::CudaPlan& p) { p.mutable_kernels(0)->set_kind(static_cast<artifact::CudaKernel::Kind>(7)); }),
              HasSubstr("kind 7 is not operator (0), persistent (1) or copy (2)"));
  EXPECT_THAT(refusal([](artifact::CudaPlan& p) { p.mutable_steps(0)->set_kind(static_cast<artifact::HostStep::Kind>(5)); }),
              HasSubstr("steps[0]: kind 5 is not launch (0), loop (1) or if (2)"));
  EXPECT_THAT(refusal([](artifact::CudaPlan& p) {
                p.mutable_steps(0)->mutable_trip()->set_kind(static_cast<artifact::HostScalar::Kind>(9));
              }),
              HasSubstr("steps[0].trip: kind 9"));
  EXPECT_THAT(refusal([](artifact::CudaPlan& p) { p.mutable_steps(0)->mutable_cond()->set_dtype("f32"); }),
              HasSubstr("steps[0].cond: dtype 'f32' is not a scalar dtype"));
}

TEST(CudaPlanArtifact, LaunchShapesOutOfRange) {
  EXPECT_THAT(refusal([](artifact::CudaPlan& p) { p.mutable_kernels(0)->set_block_threads(1000); }),
              HasSubstr("block_threads 1000 is not a multiple of 32"));
  EXPECT_THAT(refusal([](artifact::CudaPlan& p) { p.mutable_kernels(0)->set_tiles(-1); }), HasSubstr("tiles -1"));
  EXPECT_THAT(refusal([](artifact::CudaPlan& p) { p.mutable_kernels(0)->set_shared_bytes(int64_t{1} << 40); }),
              HasSubstr("shared_bytes"));
  EXPECT_THAT(refusal([](artifact::CudaPlan& p) { p.mutable_kernels(1)->set_name("k0; int evil"); }),
              HasSubstr("its name is not an identifier"));
  EXPECT_THAT(refusal([](artifact::CudaPlan& p) { p.mutable_kernels(1)->set_name(p.kernels(0).name()); }),
              HasSubstr("a second kernel of that name"));
}

TEST(CudaPlanArtifact, LoopIndicesSlotsAndSymbols) {
  EXPECT_THAT(refusal([](artifact::CudaPlan& p) { p.set_num_loop_indices(3); }), HasSubstr("belongs to no loop"));
  EXPECT_THAT(refusal([](artifact::CudaPlan& p) { p.mutable_steps(0)->set_loop_index(1); }),
              HasSubstr("loop_index 1 is not one of the 1"));
  EXPECT_THAT(refusal([](artifact::CudaPlan& p) { p.mutable_outputs(1)->set_slot(static_cast<int>(p.num_slots())); }),
              HasSubstr("output 1: slot"));
  EXPECT_THAT(refusal([](artifact::CudaPlan& p) { p.mutable_symbols(0)->assign("N"); }),
              HasSubstr("symbols [N] are not the program's [T]"));
}

TEST(CudaPlanArtifact, DeviceChecksNameTheirOpsAndBadEntriesAreRefused) {
  Compiled c = compile(parse(readFile(fmt::format("{}/device-checks.ir", COCKTAIL_CUDA_TEST_DIR)), "device-checks"));
  const CudaPlan& plan = c.module.plan;
  ASSERT_EQ(plan.checks.size(), 3u);
  EXPECT_EQ(plan.checks[0].kind, runtime::cuda::DeviceCheck::Kind::Index);
  EXPECT_EQ(plan.checks[0].op, "index_select");
  EXPECT_EQ(plan.checks[1].kind, runtime::cuda::DeviceCheck::Kind::Raise);
  EXPECT_EQ(plan.checks[1].message, "the state grew past the limit");
  EXPECT_EQ(plan.checks[1].file, "tree.py");
  EXPECT_EQ(plan.checks[1].line, 8);
  EXPECT_GE(plan.errorOffset, 0);
  auto refused = [&](const std::function<void(artifact::CudaPlan&)>& edit) {
    auto loaded = runtime::deserializeArtifact(editedPlan(c.artifact, edit), "edited.cocktail");
    EXPECT_FALSE(loaded.ok()) << "the edited plan loaded";
    return loaded.ok() ? "" : loaded.status().str();
  };
  EXPECT_THAT(refused([](artifact::CudaPlan& p) { p.mutable_device_errors()->set_offset(p.arena_bytes() - 8); }),
              HasSubstr("the device error word at offset"));
  EXPECT_THAT(
      refused([](artifact::CudaPlan& p) { p.mutable_device_errors()->set_offset(p.device_errors().offset() + 4); }),
      HasSubstr("is not a multiple of 8"));
  EXPECT_THAT(refused([](artifact::CudaPlan& p) {
                p.mutable_device_errors()->mutable_checks(0)->set_kind(static_cast<artifact::DeviceCheck::Kind>(4));
              }),
              HasSubstr("device check 0: kind 4 is not raise (0) or index (1)"));
  EXPECT_THAT(refused([](artifact::CudaPlan& p) { p.mutable_device_errors()->mutable_checks(2)->set_dim(-1); }),
              HasSubstr("device check 2: line 12 and dim -1 must not be negative"));

  // A module without checks has no error word: the host never reads one (as
  // in artifacts compiled before checks existed).
  Compiled plain = compileHostLoop();
  EXPECT_EQ(plain.module.plan.errorOffset, -1);
  EXPECT_TRUE(plain.module.plan.checks.empty());
  EXPECT_EQ(plain.module.source.find("COCKTAIL_ERROR_OFFSET"), std::string::npos);
  auto loaded = runtime::deserializeArtifact(runtime::serializeArtifact(plain.artifact), "plain.cocktail");
  ASSERT_TRUE(loaded.ok()) << loaded.status().str();
  EXPECT_EQ(loadedPlan(*loaded).errorOffset, -1);
}

TEST(CudaPlanArtifact, BoundaryValuesAgainstTheProgram) {
  // An input's region smaller than the input at its bounds: the runtime would copy past it.
  std::string e = refusal([](artifact::CudaPlan& p) { p.mutable_regions(p.inputs(0).region())->set_bytes(1024); });
  EXPECT_THAT(e, HasSubstr("input 0 (%x): f32[T,256] takes up to 8192 bytes, its region"));
  EXPECT_THAT(refusal([](artifact::CudaPlan& p) { p.mutable_inputs(1)->set_dtype("f64"); }),
              HasSubstr("input 1 (%n): scalar f64 does not match the program's i64"));
  EXPECT_THAT(refusal([](artifact::CudaPlan& p) { p.mutable_outputs(0)->set_rank(3); }),
              HasSubstr("output 0: rank 3"));
  EXPECT_THAT(refusal([](artifact::CudaPlan& p) { p.mutable_inputs()->RemoveLast(); }),
              HasSubstr("it has 2 inputs, the program 3"));
  EXPECT_THAT(refusal([](artifact::CudaPlan& p) { p.add_weight_regions(0); }),
              HasSubstr("it places 2 weights, the program has 1"));
  EXPECT_THAT(refusal([](artifact::CudaPlan& p) { p.mutable_regions(p.weight_regions(0))->set_bytes(4); }),
              HasSubstr("weight @b (f32[4,256]) has region"));
}

}  // namespace
}  // namespace cocktail

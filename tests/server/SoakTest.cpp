//===- tests/server/SoakTest.cpp - cocktail-serve under mixed traffic and churn --------===//
//
// A bounded soak (a fixed count of requests, a time cap, loopback only):
// eight clients send valid, invalid, deadline-bound and cancelled requests
// while a controller unloads and reloads a model through the repository API
// and corrupts another's model.pt on disk, reloads it (refused: the loaded
// version keeps serving), unloads it and loads it corrupted (UNAVAILABLE with
// the reason), then restores it. Every answer is checked: a success must carry
// the right outputs, a failure a status the request explains, with a
// message. The workload runs in rounds; the server's resident memory must not
// grow from one round to the next (a leak per request or per reload would),
// and SIGTERM at the end drains the requests in flight and exits 0 (under
// the asan preset that exit also reports any leak).
//
//===----------------------------------------------------------------------===//
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "tests/server/ServerHarness.h"

using namespace serve_harness;

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// ASan's quarantine and TSan's shadow memory grow the resident set by design;
// leaks are LeakSanitizer's to report there (at the SIGTERM exit).
constexpr bool kMeasureResidentMemory = false;
#else
constexpr bool kMeasureResidentMemory = true;
#endif

constexpr int kClients = 8;
constexpr int kRequestsPerClientPerRound = 24;
constexpr int kRounds = 4;
constexpr auto kTimeCap = std::chrono::seconds(45);

/// What the clients saw: counts per outcome, and every answer that was wrong.
class Tally {
 public:
  void count(const std::string& outcome) {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[outcome];
  }
  void wrong(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    if (wrong_.size() < 20) wrong_.push_back(what);
    ++wrongCount_;
  }
  int wrongCount() const { return wrongCount_; }
  int countOf(const std::string& outcome) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = counts_.find(outcome);
    return it == counts_.end() ? 0 : it->second;
  }
  std::string report() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::ostringstream out;
    for (const auto& [k, v] : counts_) out << k << ": " << v << "\n";
    for (const auto& w : wrong_) out << "WRONG: " << w << "\n";
    return out.str();
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, int> counts_;
  std::vector<std::string> wrong_;
  std::atomic<int> wrongCount_{0};
};

std::string describe(const grpc::Status& s) {
  return "code " + std::to_string(static_cast<int>(s.error_code())) + ": " + s.error_message();
}

class SoakTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("cocktail-soak-test-" + std::to_string(getpid()));
    fs::remove_all(root_);
    cases_ = writeRepository(root_ / "repo");
    ASSERT_EQ(cases_.size(), 4u);
    // The soak serves three models: `loop` (never touched), `addmul`
    // (unloaded and reloaded) and `victim` (a copy of loop whose file is
    // corrupted and restored).
    repo_ = root_ / "soak";
    fs::create_directories(repo_);
    for (const char* name : {"loop", "addmul"}) fs::copy(root_ / "repo" / name, repo_ / name, fs::copy_options::recursive);
    fs::copy(root_ / "repo" / "loop", repo_ / "victim", fs::copy_options::recursive);
    std::ifstream in(repo_ / "victim" / "config.pbtxt");
    std::stringstream config;
    config << in.rdbuf();
    std::string text = config.str();
    text.replace(text.find("name: \"loop\""), 12, "name: \"victim\"");
    std::ofstream(repo_ / "victim" / "config.pbtxt") << text;
    victimFile_ = repo_ / "victim" / "1" / "model.pt";
    std::ifstream model(victimFile_, std::ios::binary);
    victimBytes_.assign(std::istreambuf_iterator<char>(model), std::istreambuf_iterator<char>());
  }
  void TearDown() override { fs::remove_all(root_); }

  void writeVictim(bool corrupt) {
    // Half a zip archive: TorchScript cannot load it.
    const std::string bytes = corrupt ? victimBytes_.substr(0, victimBytes_.size() / 2) : victimBytes_;
    const fs::path tmp = victimFile_.string() + ".tmp";
    std::ofstream(tmp, std::ios::binary | std::ios::trunc) << bytes;
    fs::rename(tmp, victimFile_);
  }

  /// One client's request, chosen by `kind`, sent and its answer checked.
  void clientRequest(GRPCInferenceService::Stub& stub, std::mt19937& rng, int kind, Tally& tally) {
    ModelInferResponse resp;
    switch (kind) {
      case 0: {  // valid, on the model nobody touches: must succeed, exactly
        const LoopCase& c = cases_[rng() % cases_.size()];
        grpc::Status s = infer(stub, loopRequest(c), &resp);
        if (!s.ok()) return tally.wrong("loop: " + describe(s));
        if (!near(floats(resp.raw_output_contents(0)), c.out)) return tally.wrong("loop: wrong outputs");
        return tally.count("loop ok");
      }
      case 1: {  // valid, on the model being unloaded and reloaded
        const int64_t b = 1 + rng() % 8;
        const float x = static_cast<float>(rng() % 100) / 10, y = static_cast<float>(rng() % 100) / 10;
        grpc::Status s = infer(stub, addmulRequest(b, x, y), &resp);
        if (s.error_code() == grpc::StatusCode::UNAVAILABLE && !s.error_message().empty())
          return tally.count("addmul unavailable");
        if (!s.ok()) return tally.wrong("addmul: " + describe(s));
        if (resp.raw_output_contents_size() != 2 ||
            !near(floats(resp.raw_output_contents(0)), std::vector<float>(b * 4, x + y)) ||
            !near(floats(resp.raw_output_contents(1)), std::vector<float>(b * 4, x * y)))
          return tally.wrong("addmul: wrong outputs");
        return tally.count("addmul ok");
      }
      case 2: {  // invalid: each must be refused with a message naming the problem
        ModelInferRequest req = loopRequest(cases_[0]);
        std::string expected;
        grpc::StatusCode code = grpc::StatusCode::INVALID_ARGUMENT;
        switch (rng() % 4) {
          case 0: req.mutable_inputs(0)->set_datatype("FP64"), expected = "xs"; break;
          case 1: req.mutable_inputs(0)->set_shape(1, 5), expected = "xs"; break;
          case 2: req.mutable_raw_input_contents(1)->resize(3), expected = "steps"; break;
          default: req.set_model_name("nope"), expected = "nope", code = grpc::StatusCode::NOT_FOUND;
        }
        grpc::Status s = infer(stub, req, &resp);
        if (s.error_code() != code || s.error_message().find(expected) == std::string::npos)
          return tally.wrong("invalid request answered " + describe(s));
        return tally.count("invalid refused");
      }
      case 3: {  // a runaway loop with a 100 ms deadline
        LoopCase runaway = cases_[0];
        runaway.steps = int64_t{1} << 31;
        grpc::Status s = infer(stub, loopRequest(runaway), &resp, 100);
        if (s.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) return tally.wrong("runaway: " + describe(s));
        return tally.count("deadline exceeded");
      }
      case 4: {  // a runaway loop the client cancels
        LoopCase runaway = cases_[0];
        runaway.steps = int64_t{1} << 31;
        grpc::ClientContext ctx;
        // No deadline: only the cancel stops this run. A run that went on
        // would hold one of loop's two instances for good, and the valid
        // loop requests behind it would then time out (counted as wrong).
        std::thread canceller([&] {
          std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 30));
          ctx.TryCancel();
        });
        grpc::Status s = stub.ModelInfer(&ctx, loopRequest(runaway), &resp);
        canceller.join();
        if (s.error_code() != grpc::StatusCode::CANCELLED) return tally.wrong("cancelled: " + describe(s));
        return tally.count("cancelled");
      }
      default: {  // the model whose file is corrupted: right answer or UNAVAILABLE
        const LoopCase& c = cases_[rng() % cases_.size()];
        grpc::Status s = infer(stub, loopRequest(c, "victim"), &resp);
        if (s.error_code() == grpc::StatusCode::UNAVAILABLE && !s.error_message().empty())
          return tally.count("victim unavailable");
        if (!s.ok()) return tally.wrong("victim: " + describe(s));
        if (!near(floats(resp.raw_output_contents(0)), c.out)) return tally.wrong("victim: wrong outputs");
        return tally.count("victim ok");
      }
    }
  }

  static bool near(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!(std::fabs(a[i] - b[i]) <= 1e-5f * (1 + std::fabs(b[i])))) return false;
    return true;
  }

  fs::path root_, repo_, victimFile_;
  std::string victimBytes_;
  std::vector<LoopCase> cases_;
};

grpc::Status control(GRPCInferenceService::Stub& stub, bool load, const std::string& name) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  if (load) {
    inference::RepositoryModelLoadRequest r;
    r.set_model_name(name);
    inference::RepositoryModelLoadResponse resp;
    return stub.RepositoryModelLoad(&ctx, r, &resp);
  }
  inference::RepositoryModelUnloadRequest r;
  r.set_model_name(name);
  inference::RepositoryModelUnloadResponse resp;
  return stub.RepositoryModelUnload(&ctx, r, &resp);
}

/// The index's (state, reason) of `name`.
std::pair<std::string, std::string> indexEntry(GRPCInferenceService::Stub& stub, const std::string& name) {
  grpc::ClientContext ctx;
  inference::RepositoryIndexResponse index;
  if (!stub.RepositoryIndex(&ctx, {}, &index).ok()) return {"", "no index"};
  for (const auto& m : index.models())
    if (m.name() == name) return {m.state(), m.reason()};
  return {"", "not in the index"};
}

TEST_F(SoakTest, MixedTrafficDuringReloadsAndCorruptionIsAnsweredAndNothingLeaks) {
  ServerProcess server(repo_, {"--model-control-mode", "explicit", "--load-model", "*", "--cache-dir", cacheDir(),
                               "--exit-timeout-secs", "30"});
  ASSERT_GT(server.grpcPort, 0) << "the server did not start";
  auto stub = server.stub();
  const auto start = std::chrono::steady_clock::now();
  Tally tally;
  std::vector<int64_t> resident;

  for (int round = 0; round < kRounds && std::chrono::steady_clock::now() - start < kTimeCap; ++round) {
    std::atomic<int> clientsDone{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c)
      clients.emplace_back([&, c] {
        auto own = server.stub();
        std::mt19937 rng(1000 * round + c);
        for (int i = 0; i < kRequestsPerClientPerRound && std::chrono::steady_clock::now() - start < kTimeCap; ++i)
          clientRequest(*own, rng, static_cast<int>(rng() % 6), tally);
        ++clientsDone;
      });
    // The controller: churn until the clients are done (at least one cycle).
    for (bool first = true; first || clientsDone.load() < kClients; first = false) {
      grpc::Status s = control(*stub, false, "addmul");
      EXPECT_TRUE(s.ok()) << describe(s);
      s = control(*stub, true, "addmul");
      EXPECT_TRUE(s.ok()) << describe(s);

      // A corrupted file on reload: refused, the loaded version keeps serving.
      writeVictim(true);
      s = control(*stub, true, "victim");
      EXPECT_FALSE(s.ok()) << "a corrupted model.pt was loaded";
      EXPECT_EQ(indexEntry(*stub, "victim").first, "READY");
      // Unloaded, then loaded corrupted: UNAVAILABLE with the reason.
      EXPECT_TRUE(control(*stub, false, "victim").ok());
      s = control(*stub, true, "victim");
      EXPECT_FALSE(s.ok());
      auto [state, reason] = indexEntry(*stub, "victim");
      EXPECT_EQ(state, "UNAVAILABLE");
      EXPECT_NE(reason.find("model.pt"), std::string::npos) << "reason: " << reason;
      writeVictim(false);
      s = control(*stub, true, "victim");
      EXPECT_TRUE(s.ok()) << describe(s);
    }
    for (auto& t : clients) t.join();
    resident.push_back(server.residentBytes());
  }

  EXPECT_EQ(tally.wrongCount(), 0) << tally.report();
  for (const char* outcome : {"loop ok", "addmul ok", "invalid refused", "deadline exceeded", "cancelled", "victim ok"})
    EXPECT_GT(tally.countOf(outcome), 0) << outcome << " never happened\n" << tally.report();
  EXPECT_LT(std::chrono::steady_clock::now() - start, kTimeCap + std::chrono::seconds(15));

  // Round 0 warms caches and pools; from round 1 on, memory must stay level.
  ASSERT_GE(resident.size(), 3u) << "too few rounds within the time cap";
  if (kMeasureResidentMemory) {
    const int64_t growth = resident.back() - resident[1];
    EXPECT_LT(growth, int64_t{24} << 20) << "resident memory grew by " << growth << " bytes from round 1 ("
                                         << resident[1] << ") to round " << resident.size() - 1 << " ("
                                         << resident.back() << ")";
  }

  // SIGTERM with requests in flight: they are answered, then the process exits 0.
  LoopCase slow = cases_[1];
  slow.steps = 800;
  std::atomic<int> drained{0};
  std::vector<std::thread> inFlight;
  for (int i = 0; i < 4; ++i)
    inFlight.emplace_back([&] {
      ModelInferResponse resp;
      grpc::Status s = infer(*server.stub(), loopRequest(slow), &resp, 60000);
      if (s.ok()) ++drained;
      else ADD_FAILURE() << "in flight at SIGTERM: " << describe(s);
    });
  std::this_thread::sleep_for(settleTime(100));
  EXPECT_EQ(server.terminate(), 0);
  for (auto& t : inFlight) t.join();
  EXPECT_EQ(drained.load(), 4);
}

}  // namespace

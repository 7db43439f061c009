//===- tests/tools/ExitCodeTest.cpp - The tools' exit statuses by error kind -----------===//
//
// Each ir::ErrorKind has a status of its own, none of them 0 or the command
// line's 2, and --help's table names every status there is. The command-line
// statuses are checked through a real CLI11 parse. (tests/e2e/test_cli_exit_statuses.py
// checks the tools end to end; no command line reaches an internal error on
// purpose, so its status is checked here.)
//
//===----------------------------------------------------------------------===//
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tools/ExitCode.h"

namespace cocktail::tools {
namespace {

using ::testing::HasSubstr;

TEST(ExitCode, EachErrorKindHasItsOwnStatus) {
  EXPECT_EQ(exitStatus(ir::ErrorKind::User), 1);
  EXPECT_EQ(exitStatus(ir::ErrorKind::Unsupported), 3);
  EXPECT_EQ(exitStatus(ir::ErrorKind::Internal), 4);
  const std::set<int> statuses = {exitStatus(ir::ErrorKind::User), exitStatus(ir::ErrorKind::Unsupported),
                                  exitStatus(ir::ErrorKind::Internal), exitStatus(ExitCode::Usage),
                                  exitStatus(ExitCode::Mismatch), exitStatus(ExitCode::Success)};
  EXPECT_EQ(statuses.size(), 6u);
}

TEST(ExitCode, AStatusKeepsTheKindOfItsFirstError) {
  // What the tools exit with: a Status built from an internal error and given more detail stays internal.
  ir::Status bug = ir::Status::error("internal error: pass 'x' produced an invalid program", {}, ir::ErrorKind::Internal);
  bug.append(ir::Status::error("'tanh' op expects 1 operand"));
  EXPECT_EQ(exitStatus(bug.kind()), 4);
  ir::Status unsupported = ir::Status::success();
  unsupported.append(ir::Status::error("aten::cumprod is not supported", {}, ir::ErrorKind::Unsupported));
  EXPECT_EQ(exitStatus(unsupported.kind()), 3);
}

TEST(ExitCode, HelpNamesEveryStatus) {
  const std::string help = exitStatusHelp();
  for (const char* line : {"  0  success", "  1  user error", "  2  a bad command line", "  3  unsupported",
                           "  4  internal error"})
    EXPECT_THAT(help, HasSubstr(line));
  EXPECT_THAT(help, ::testing::Not(HasSubstr("  5  ")));
  EXPECT_THAT(exitStatusHelp(/*withMismatch=*/true), HasSubstr("  5  the outputs differ from --reference"));
}

int parse(std::vector<std::string> args, std::string* value = nullptr) {
  CLI::App app{"test", "tool"};
  std::string option;
  app.add_option("--name", option)->required();
  std::vector<char*> argv = {const_cast<char*>("tool")};
  for (std::string& a : args) argv.push_back(a.data());
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  const std::optional<int> done = parseCommandLine(app, static_cast<int>(argv.size()), argv.data());
  testing::internal::GetCapturedStdout();
  testing::internal::GetCapturedStderr();
  if (value) *value = option;
  return done ? *done : -1;
}

TEST(ExitCode, TheCommandLine) {
  std::string value;
  EXPECT_EQ(parse({"--name", "x"}, &value), -1);  // go on
  EXPECT_EQ(value, "x");
  EXPECT_EQ(parse({"--help"}), 0);
  EXPECT_EQ(parse({}), 2);                            // a required option missing
  EXPECT_EQ(parse({"--name", "x", "--bogus"}), 2);    // an unknown one
}

}  // namespace
}  // namespace cocktail::tools

//===- tools/opt/cocktail-opt.cpp - Parse, verify and print uTask IR --------===//
//
// The driver behind the IR's text tests, in the manner of mlir-opt: reads a
// file (or stdin), parses and verifies it, and prints it back. With
// --split-input-file each `// -----` chunk is a separate program; with
// --verify-diagnostics the errors must be exactly the ones announced by
// `// expected-error {{...}}` comments in the input, which makes tests of
// invalid IR self-describing.
//
//===----------------------------------------------------------------------===//
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "ir/DotPrinter.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/Pass.h"
#include "tools/ExitCode.h"
#if COCKTAIL_HAVE_CUDA
#include "codegen/CudaCodegen.h"
#endif

using namespace cocktail::ir;

namespace {

struct Options {
  std::string input;
  bool noLocations = false;
  bool verifyDiagnostics = false;
  bool splitInputFile = false;
  std::string passes;
  bool printAfterAll = false;
  bool timing = false;
  bool emitCuda = false;
  bool emitDot = false;
  std::string target = "cpu";
};

/// A piece of the input and the line it starts on (1-based).
struct Chunk {
  std::string text;
  int64_t firstLine = 1;
};

bool isSplitMarker(std::string_view line) {
  size_t b = line.find_first_not_of(" \t");
  return b != std::string_view::npos && line.substr(b).rfind("// -----", 0) == 0;
}

std::vector<Chunk> splitInput(const std::string& text, bool split) {
  if (!split) return {Chunk{text, 1}};
  std::vector<Chunk> chunks(1);
  int64_t line = 1;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    size_t next = end == std::string::npos ? text.size() : end + 1;
    std::string_view l(text.data() + pos, next - pos);
    if (isSplitMarker(l)) {
      chunks.push_back(Chunk{"", line + 1});
    } else {
      chunks.back().text += l;
    }
    pos = next;
    ++line;
  }
  return chunks;
}

/// One `// expected-error @+N {{message}}` annotation.
struct Expectation {
  int64_t line;  // the line the error must be reported on
  int64_t annotationLine;
  std::string substring;
  bool matched = false;
};

std::vector<Expectation> findExpectations(const Chunk& chunk) {
  static const std::regex kPattern(R"(expected-error\s*(@([+-][0-9]+))?\s*\{\{(.*?)\}\})");
  std::vector<Expectation> out;
  std::istringstream in(chunk.text);
  std::string line;
  for (int64_t n = chunk.firstLine; std::getline(in, line); ++n) {
    for (std::sregex_iterator it(line.begin(), line.end(), kPattern), end; it != end; ++it) {
      int64_t offset = (*it)[2].matched ? std::stoll((*it)[2].str()) : 0;
      out.push_back(Expectation{n + offset, n, (*it)[3].str()});
    }
  }
  return out;
}

/// Parses and verifies one chunk; fills `printed` on success.
Status process(const Chunk& chunk, const std::string& bufferName, const Options& opts, std::string& printed) {
  // Leading newlines keep line numbers those of the whole file.
  std::string text(static_cast<size_t>(chunk.firstLine - 1), '\n');
  text += chunk.text;
  SourceMap sourceMap;
  auto parsed = parseProgram(text, bufferName, &sourceMap);
  if (!parsed) return parsed.status();
  VerifyOptions vopts;
  vopts.sourceMap = &sourceMap;
  Status st = verifyProgram(**parsed, vopts);
  if (!st.ok()) return st;
  if (!opts.passes.empty()) {
    cocktail::passes::PassManagerOptions pmo;
    pmo.verifyEachPass = true;
    pmo.printAfterAll = opts.printAfterAll;
    pmo.timing = opts.timing;
    pmo.dump = &std::cerr;
    cocktail::passes::PassManager pm(pmo);
    COCKTAIL_RETURN_IF_ERROR(pm.addPipeline(
        opts.passes, opts.target == "cuda" ? cocktail::passes::TargetModel::cuda() : cocktail::passes::TargetModel::cpu()));
    COCKTAIL_RETURN_IF_ERROR(pm.run(**parsed));
  }
#if COCKTAIL_HAVE_CUDA
  if (opts.emitCuda) {
    cocktail::codegen::CudaCodegenOptions copts;
    copts.locations = !opts.noLocations;
    auto module = cocktail::codegen::generateCuda(**parsed, copts);
    if (!module) return module.status();
    printed = module->source;
    return Status::success();
  }
#endif
  if (opts.emitDot) {
    printed = cocktail::ir::printDot(**parsed);
    return Status::success();
  }
  PrintOptions popts;
  popts.locations = !opts.noLocations;
  printed = printProgram(**parsed, popts);
  return Status::success();
}

/// Matches produced diagnostics against the chunk's annotations; reports
/// every mismatch on stderr and returns whether there was none.
bool checkDiagnostics(const Chunk& chunk, const std::string& bufferName, const Status& produced) {
  std::vector<Expectation> expected = findExpectations(chunk);
  bool ok = true;
  for (const Diagnostic& d : produced.diagnostics()) {
    bool found = false;
    for (Expectation& e : expected) {
      if (e.matched || d.loc.file != bufferName || d.loc.line != e.line) continue;
      if (d.message.find(e.substring) == std::string::npos) continue;
      e.matched = found = true;
      break;
    }
    if (!found) {
      std::cerr << d.str() << "\n  note: the error above was not expected\n";
      ok = false;
    }
  }
  for (const Expectation& e : expected) {
    if (e.matched) continue;
    std::cerr << bufferName << ":" << e.annotationLine << ": error: expected error \"" << e.substring
              << "\" on line " << e.line << " was not produced\n";
    ok = false;
  }
  return ok;
}

bool readInput(const std::string& path, std::string& out) {
  std::ostringstream ss;
  if (path == "-") {
    ss << std::cin.rdbuf();
  } else {
    std::ifstream f(path, std::ios::binary);
    if (!f) return false;
    ss << f.rdbuf();
  }
  out = ss.str();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  CLI::App app{
      "cocktail-opt: parse, verify and print uTask IR.\n"
      "Reads a program in the IR's textual form, checks it with the verifier and prints it\n"
      "back (the printed form round-trips exactly). Errors go to stderr; the exit status says\n"
      "their kind (below)."};
  app.add_option("input", opts.input, "IR file to read, or - for stdin.\n  example: cocktail-opt model.ir");
  app.add_flag("--no-locations", opts.noLocations,
               "Print ops without their loc(\"file.py\":line) suffix.\n"
               "  example: cocktail-opt model.ir --no-locations");
  app.add_flag("--split-input-file", opts.splitInputFile,
               "Treat each part between lines '// -----' as a separate program; outputs are\n"
               "separated by '// -----' too.\n"
               "  example: cocktail-opt cases.ir --split-input-file");
  app.add_flag("--verify-diagnostics", opts.verifyDiagnostics,
               "Instead of reporting errors, check that they are exactly those announced in the\n"
               "input by '// expected-error {{substring}}' (error on that line) or\n"
               "'// expected-error @+1 {{substring}}' (on the next line; @-N, @+N in general).\n"
               "Exit 0 when they match.\n"
               "  example: cocktail-opt invalid.ir --split-input-file --verify-diagnostics");
  app.add_option("--passes", opts.passes,
                 "Run these passes, comma-separated, before printing; the program is verified after\n"
                 "each. See --list-passes.\n"
                 "  example: cocktail-opt model.ir --passes=dce");
  app.add_option("--target", opts.target,
                 "The target model the target-aware passes (place-control-flow, partition,\n"
                 "plan-memory) weigh: cpu (default) or cuda, as cocktail-compile --target does.\n"
                 "  example: cocktail-opt model.ir --passes=partition,plan-memory --target cuda")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_flag("--print-after-all", opts.printAfterAll, "Print the program to stderr after every pass.");
  app.add_flag("--timing", opts.timing, "Print each pass's time to stderr.");
#if COCKTAIL_HAVE_CUDA
  app.add_flag("--emit-cuda", opts.emitCuda,
               "Print the CUDA C++ generated from the (scheduled) program instead of the IR.\n"
               "  example: cocktail-opt model.ir --passes=partition --emit-cuda");
#endif
  app.add_flag("--emit-dot", opts.emitDot,
               "Print the (scheduled) program as a Graphviz graph instead of the IR.\n"
               "  example: cocktail-opt model.ir --passes=licm,partition --emit-dot | dot -Tsvg > model.svg");
  bool listPasses = false;
  app.add_flag("--list-passes", listPasses, "List the registered passes and exit.");
  app.footer(
      "Examples:\n"
      "  cocktail-opt model.ir | cocktail-opt -                # round trip\n"
      "  cocktail-opt tests/ir/invalid.ir --split-input-file --verify-diagnostics\n\n" +
      cocktail::tools::exitStatusHelp());
  if (auto done = cocktail::tools::parseCommandLine(app, argc, argv)) return *done;
  if (listPasses) {
    for (const auto& [name, description] : cocktail::passes::registeredPasses())
      std::cout << name << "  " << description << "\n";
    return 0;
  }
  if (opts.input.empty()) {
    std::cerr << "cocktail-opt: error: no input file (give a path, or - for stdin; see --help)\n";
    return cocktail::tools::exitStatus(cocktail::tools::ExitCode::Usage);
  }

  std::string text;
  if (!readInput(opts.input, text)) {
    std::cerr << "cocktail-opt: error: cannot read '" << opts.input << "'\n";
    return cocktail::tools::exitStatus(cocktail::tools::ExitCode::UserError);
  }
  std::string bufferName = opts.input == "-" ? "<stdin>" : opts.input;

  // The first failure's kind decides the exit status; a diagnostics check that fails is a user error.
  std::optional<ErrorKind> failed;
  std::string out;
  std::vector<Chunk> chunks = splitInput(text, opts.splitInputFile);
  for (size_t i = 0; i < chunks.size(); ++i) {
    std::string printed;
    Status st = process(chunks[i], bufferName, opts, printed);
    if (opts.verifyDiagnostics) {
      if (!checkDiagnostics(chunks[i], bufferName, st) && !failed) failed = ErrorKind::User;
    } else if (!st.ok()) {
      std::cerr << st.str() << "\n";
      if (!failed) failed = st.kind();
    }
    if (i) out += "// -----\n";
    out += printed;
  }
  std::cout << out;
  return failed ? cocktail::tools::exitStatus(*failed) : 0;
}

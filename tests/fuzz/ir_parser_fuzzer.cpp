//===- tests/fuzz/ir_parser_fuzzer.cpp - IR text through parser and verifier ----===//
//
// Any bytes as IR text: the parser and the verifier must answer with a
// diagnostic, never crash, leak or hang. A program that parses must also
// round-trip: its printed form parses again and prints identically
// (ir/Parser.h's promise), so a printer/parser mismatch is a finding too.
//
//===----------------------------------------------------------------------===//
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cocktail::ir;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  SourceMap sourceMap;
  auto program = parseProgram(text, "<fuzz>", &sourceMap);
  if (!program) return 0;
  VerifyOptions options;
  options.sourceMap = &sourceMap;
  (void)verifyProgram(**program, options);

  const std::string printed = printProgram(**program);
  auto again = parseProgram(printed, "<printed>");
  if (!again) {
    std::fprintf(stderr, "printed program does not parse:\n%s\n--- printed:\n%s\n", again.status().str().c_str(),
                 printed.c_str());
    std::abort();
  }
  if (printProgram(**again) != printed) {
    std::fprintf(stderr, "round trip changed the program:\n%s\n--- then:\n%s\n", printed.c_str(),
                 printProgram(**again).c_str());
    std::abort();
  }
  return 0;
}

//===- tests/fuzz/input_spec_fuzzer.cpp - `--input NAME:f32[B<=4,3]` specs ------===//
//
// Each line of the input is one spec, as cocktail-compile's --input and the
// server's `cocktail.inputs` give them. Parsing must answer with an error,
// never crash; a spec that parses prints (InputSpec::str) to text that parses
// to the same spec.
//
//===----------------------------------------------------------------------===//
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ir/InputSpec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cocktail::ir;
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
    lines.push_back(text.substr(start, end - start));
  lines.push_back(text.substr(start));

  for (const std::string& line : lines) {
    auto spec = parseInputSpec(line);
    if (!spec) continue;
    const std::string printed = spec->str();
    auto again = parseInputSpec(printed);
    if (!again || again->str() != printed) {
      std::fprintf(stderr, "spec '%s' prints as '%s', which %s\n", line.c_str(), printed.c_str(),
                   again ? ("reads back as '" + again->str() + "'").c_str() : again.status().str().c_str());
      std::abort();
    }
  }
  std::vector<Symbol> symbols;
  (void)parseInputSpecs(lines, &symbols);
  return 0;
}

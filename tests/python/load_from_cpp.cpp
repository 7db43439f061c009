//===- tests/python/load_from_cpp.cpp - A scripted model with a compiled child, from C++ ---===//
//
//   load_from_cpp MODEL.pt INPUTS.pt OUTPUTS.pt
//
// Loads a torch.jit.save'd module (which may hold torch.classes.cocktail.Model
// objects: libcocktail_torch is linked in, so the class is registered), runs
// forward on the inputs and saves the outputs for the Python test to compare.
//
//===----------------------------------------------------------------------===//
#include <dlfcn.h>

#include <cstdio>
#include <fstream>

#include <torch/script.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include "runtime/AtenTensor.h"
#include "runtime/TorchInterop.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: load_from_cpp MODEL.pt INPUTS.pt OUTPUTS.pt\n");
    return 2;
  }
  using namespace cocktail::runtime;
  auto inputs = loadValuesFile(argv[2]);
  if (!inputs) {
    std::fprintf(stderr, "%s\n", inputs.status().str().c_str());
    return 1;
  }
  try {
    torch::jit::Module m = torch::jit::load(argv[1]);
    std::vector<c10::IValue> args;
    for (const auto& v : *inputs) args.push_back(toIValue(v));
    c10::IValue out = m.forward(args);
    std::vector<RuntimeValue> outputs;
    if (out.isTuple()) {
      for (const auto& e : out.toTupleRef().elements()) outputs.push_back(fromAten(e.toTensor()));
    } else {
      outputs.push_back(fromAten(out.toTensor()));
    }
    if (auto st = saveValuesFile(outputs, argv[3]); !st.ok()) {
      std::fprintf(stderr, "%s\n", st.str().c_str());
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "load_from_cpp: %s\n", e.what());
    return 1;
  }
  return 0;
}

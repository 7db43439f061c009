//===- codegen/DevicePrelude.h - The helpers every generated module starts with -===//
//
// Plain CUDA C++ (no headers, so NVRTC needs no include path): integer
// helpers with TorchScript's semantics, ir/ElementwiseMath.h's text (what
// every elementwise op computes, as on the CPU), the grid barrier, warp
// reductions.
// Everything a kernel uses beyond the CUDA built-ins is defined here, which
// is what lets the CPU emulation harness (tests/cuda_emu) compile the same
// text: it supplies the built-ins and `COCKTAIL_SPIN_WAIT`, nothing else.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string_view>

namespace cocktail::codegen {

/// The prelude text, emitted verbatim at the top of every module.
std::string_view devicePrelude();

}  // namespace cocktail::codegen

//===- runtime/ArtifactCudaPlan.h - The CUDA host plan in the artifact ----------------===//
//
// Writes a CudaPlan into the artifact's message and reads it back. Reading
// trusts nothing: every kernel index, loop index, slot and region is checked
// against the plan's own tables, every region and slot against the arena,
// and the weights, inputs, outputs and symbols against the program the
// artifact holds, so that a hand-edited plan is refused at load with the
// field it got wrong instead of making the runtime read or write outside the
// arena. Private to runtime/Artifact.cpp (it names the generated protobuf types).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "artifact.pb.h"
#include "ir/Program.h"
#include "ir/Status.h"
#include "runtime/cuda/CudaPlan.h"

namespace cocktail::runtime {

void writeCudaPlan(const cuda::CudaPlan& plan, artifact::CudaPlan& out);

/// The plan in `in`, checked against itself and `program`; an error says
/// which entry is wrong ("kernel 2 ('k2_tanh'): block_threads 1000 is ...").
ir::Expected<cuda::CudaPlan> readCudaPlan(const artifact::CudaPlan& in, const ir::Program& program);

}  // namespace cocktail::runtime

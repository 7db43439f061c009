//===- frontend/PoolLowering.cpp - adaptive_max_pool2d to IR ------------------------===//
//
// aten::adaptive_max_pool2d(x, output_size) -> (values, indices), the IR op
// of the same name; nn.AdaptiveMaxPool2d without return_indices uses only
// the values (the kernel makes both either way).
//
//===----------------------------------------------------------------------===//
#include "frontend/Lowering.h"

namespace cocktail::frontend::lowering {

void lowerAdaptiveMaxPool2d(Lowering& L) {
  std::vector<int64_t> size = L.cints(1, "output_size");
  if (size.size() == 1) size.push_back(size[0]);
  if (size.size() != 2) throw NotLowered{"its output_size must have two elements"};
  ir::Op* op = L.b().create(OpKind::AdaptiveMaxPool2d, {L.in(0)}, {L.outType(0), L.outType(1)},
                            attrs({{"output_size", size}}));
  L.out(op->result(0), 0);
  L.out(op->result(1), 1);
}

}  // namespace cocktail::frontend::lowering

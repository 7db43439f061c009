# An op the compiler does not lower (aten::cumprod) becomes an `island` op
# holding the TorchScript graph of that node and the op name, with a warning
# that names the op and this file's line; with --strict it is an error that
# names them, and nothing is written.
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --input 'xs:f32[T<=8,4]' --emit ir --no-locations 2>%t.err | FileCheck %s
# RUN: FileCheck %s --check-prefix=WARN < %t.err
# RUN: not cocktail-compile %t.pt -q --input 'xs:f32[T<=8,4]' -o %t.cocktail --strict 2>&1 | FileCheck %s --check-prefix=STRICT
# RUN: test ! -e %t.cocktail
# The island (its graph string with quotes and newlines) round-trips through cocktail-opt:
# RUN: cocktail-compile %t.pt -q --input 'xs:f32[T<=8,4]' --emit ir 2>/dev/null > %t.ir && cocktail-opt %t.ir | diff %t.ir -
#
# CHECK:      loop(
# CHECK:        [[X:%[0-9]+]] = select(%xs, {{%[^)]+}}) {dim = 0}
# CHECK-NEXT:   [[I:%[0-9]+]] = island([[X]]) {graph = "graph(%0 : Tensor):{{.*}}aten::cumprod(%0, {{.*}})\n  return ({{.*}})\n", op = "aten::cumprod"}
# CHECK-NEXT:   add({{%[^,]+}}, [[I]])
#
# STRICT-NOT: warning
# STRICT-NOT: wrote
import sys

import torch
from torch import Tensor, nn


class Island(nn.Module):
    def forward(self, xs: Tensor):
        h = torch.zeros(4)
        for t in range(xs.size(0)):
            # WARN:   island.py:[[@LINE+2]]: warning: aten::cumprod runs as a TorchScript island on the host ({{.*}}); --strict makes this an error
            # STRICT: island.py:[[@LINE+1]]: error: aten::cumprod: aten::cumprod is not supported by the compiler
            h = h + torch.cumprod(xs[t], 0)
        return h


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(Island()), sys.argv[1])

# `--input NAME:none` declares an Optional argument absent: it reaches the
# graph as the constant None, its `is None` / `is not None` tests fold, the
# branch that needed it goes away, and the program does not take it. Given
# its element's spec instead, the argument is compiled for not being None:
# the tests fold the other way and the branch stays. A spec of none for an
# argument that is not Optional, none with dims, or a spec that is not the
# Optional's element are errors that say so.
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --emit ir --no-locations --strict --input 'x:f32[3,4]' --input bias:none --input scale:f64 | FileCheck %s
# RUN: not cocktail-compile %t.pt -q --emit ir --input 'x:none' --input bias:none --input scale:f64 2>&1 | FileCheck %s --check-prefix=NOT-OPTIONAL
# RUN: not cocktail-compile %t.pt -q --emit ir --input 'x:f32[3,4]' --input 'bias:none[4]' --input scale:f64 2>&1 | FileCheck %s --check-prefix=DIMS
# RUN: cocktail-compile %t.pt -q --emit ir --no-locations --strict --input 'x:f32[3,4]' --input 'bias:f32[3,4]' --input scale:f64 | FileCheck %s --check-prefix=GIVEN
# RUN: not cocktail-compile %t.pt -q --emit ir --input 'x:f32[3,4]' --input 'bias:i64' --input scale:f64 2>&1 | FileCheck %s --check-prefix=NOT-ELEMENT
# RUN: not cocktail-compile %t.pt -q --emit ir --input 'x:f32[3,4]' --input scale:f64 2>&1 | FileCheck %s --check-prefix=MISSING
#
# CHECK:      func @forward(%x: f32[3,4], %scale: f64) -> (f32[3,4], i1) {
# CHECK-NEXT:   [[Y:%[^ ]+]] = mul(%x, %scale) : f32[3,4]
# CHECK-NEXT:   [[T:%[0-9]+]] = constant true : i1
# CHECK-NEXT:   return([[Y]], [[T]])
#
# NOT-OPTIONAL: error: --input x:none: argument 'x' of forward(x: Tensor, bias: Optional[Tensor], scale: float) has type Tensor, which is not Optional
# DIMS:         error: invalid input spec 'bias:none[4]': 'none' takes no dims
# GIVEN:      func @forward(%x: f32[3,4], %bias: f32[3,4], %scale: f64) -> (f32[3,4], i1) {
# GIVEN-NEXT:   [[Y:%[^ ]+]] = mul(%x, %scale) : f32[3,4]
# GIVEN-NEXT:   [[B:%[^ ]+]] = add([[Y]], %bias) : f32[3,4]
# GIVEN-NEXT:   [[F:%[0-9]+]] = constant false : i1
# GIVEN-NEXT:   return([[B]], [[F]])
# NOT-ELEMENT:  error: --input bias:i64: {{.*}}has type Optional[Tensor], but the spec says i64 (an Optional argument takes a spec of its element type, or bias:none)
# MISSING:      error: missing --input for argument 'bias' of {{.*}}; for example --input bias:none
import sys
from typing import Optional

import torch
from torch import Tensor, nn


class OptionalBias(nn.Module):
    def forward(self, x: Tensor, bias: Optional[Tensor], scale: float):
        y = x * scale
        if bias is not None:
            y = y + bias
        return y, bias is None


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(OptionalBias()), sys.argv[1])

# Input spec errors name the argument and the method's signature: a missing
# --input suggests a spec for it, an unknown name says so, and a spec whose
# kind does not match the argument (a tensor for an int, a scalar for a
# tensor) says what the argument is.
#
# RUN: %python %s %t.pt
# RUN: not cocktail-compile %t.pt -q --emit ir --input 'xs:f32[4]' 2>&1 | FileCheck %s --check-prefix=MISSING
# RUN: not cocktail-compile %t.pt -q --emit ir --input 'xs:f32[4]' --input steps:i64 --input bogus:i64 2>&1 | FileCheck %s --check-prefix=UNKNOWN
# RUN: not cocktail-compile %t.pt -q --emit ir --input 'xs:f32[4]' --input 'steps:f32[2]' 2>&1 | FileCheck %s --check-prefix=TENSOR-FOR-INT
# RUN: not cocktail-compile %t.pt -q --emit ir --input xs:i64 --input steps:i64 2>&1 | FileCheck %s --check-prefix=SCALAR-FOR-TENSOR
# RUN: not cocktail-compile %t.pt -q --emit ir --input 'xs:f32[4' --input steps:i64 2>&1 | FileCheck %s --check-prefix=SYNTAX
# RUN: cocktail-compile %t.pt -q --emit ir --input 'xs:f32[N<=8]' --input steps:i64 | FileCheck %s --check-prefix=OK
#
# MISSING:           error: missing --input for argument 'steps' of forward(xs: Tensor, steps: int){{.*}}--input steps:i64
# UNKNOWN:           error: --input bogus:i64: {{.*}}forward(xs: Tensor, steps: int){{.*}}no argument named 'bogus'
# TENSOR-FOR-INT:    error: --input steps:f32[2]: argument 'steps' of forward(xs: Tensor, steps: int) {{.*}}int{{.*}}f32[2]
# SCALAR-FOR-TENSOR: error: --input xs:i64: argument 'xs' of forward(xs: Tensor, steps: int) {{.*}}Tensor{{.*}}i64
# SYNTAX:            error: invalid input spec 'xs:f32[4'
# OK:                func @forward(%xs: f32[N], %steps: i64)
import sys

import torch
from torch import Tensor, nn


class Specs(nn.Module):
    def forward(self, xs: Tensor, steps: int):
        return xs * steps


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(Specs()), sys.argv[1])

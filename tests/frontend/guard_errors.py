# A value that stays a string (or a dtype, a device) after specialising on the
# specs cannot be used as a tensor or scalar: the error names the construct
# that made it and the op that uses it, with the user's source line, never
# only "value %27 of type int". Inside PyTorch's own code (pack_sequence, which
# makes its lengths with torch.as_tensor of a list) it names the user's line
# and the line inside PyTorch.
#
# RUN: %python %s %t.pt %t.packed.pt
# RUN: not cocktail-compile %t.pt -q --input 'x:f32[3]' --input n:i64 --emit ir 2>&1 | FileCheck %s --check-prefix=STRING
# RUN: not cocktail-compile %t.packed.pt -q --input 'x:f32[6,4]' --input 'y:f32[3,4]' --emit ir --strict 2>&1 | FileCheck %s --check-prefix=PACKED
#
# STRING: guard_errors.py:[[# @LINE + 11]]: error: aten::eq: the string 's' (from aten::format at {{.*}}guard_errors.py:[[# @LINE + 10]]) cannot be used as a single tensor or scalar here: it is not a constant after specialising on the input specs
# PACKED: guard_errors.py:[[# @LINE + 21]]: error: aten::[[OP:[a-z_]+]]: aten::[[OP]] is not supported by the compiler{{.*}} (inlined from {{.*}}torch/nn/utils/rnn.py:{{[0-9]+}})
import sys

import torch
from torch import Tensor, nn


class StringUse(nn.Module):
    def forward(self, x: Tensor, n: int):
        s = f"{n}"
        if s == "3":
            return x * 3.0
        return x


class Packed(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(4, 5)

    def forward(self, x: Tensor, y: Tensor):
        packed = nn.utils.rnn.pack_sequence([x, y])
        z, _ = self.rnn(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(z)
        return out


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(StringUse()), sys.argv[1])
    torch.jit.save(torch.jit.script(Packed()), sys.argv[2])

# pack_padded_sequence -> nn.GRU -> pad_packed_sequence is the padded
# recurrence with a mask: PyTorch's checks of the lengths at run time, the
# padding mask [T, B, 1] (t >= lengths[b]), a time loop in which a padded row
# keeps its state (where) and outputs zero (masked_fill), and the output cut
# to the longest length (a run-time slice: its time dim is `?`).
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --input 'x:f32[T<=6,B<=2,4]' --input 'lengths:i64[B]' --emit ir --strict --no-locations | FileCheck %s
#
# CHECK:      func @forward(%x: f32[T,B,4], %lengths: i64[B]) -> (f32[?,B,6], f32[1,B,6])
# CHECK:      raise {message = "pack_padded_sequence: Length of all samples has to be greater than 0
# CHECK:      raise {message = "pack_padded_sequence: `lengths` array must be sorted in decreasing order
# CHECK:      raise {message = "pack_padded_sequence: a length is greater than the padded input's sequence length
# CHECK:      [[TIME:%[0-9]+]] = arange({{.*}}) {dtype = i64} : i64[T]
# CHECK:      [[COLUMN:%[0-9]+]] = unsqueeze([[TIME]]) {dim = 1} : i64[T,1]
# CHECK:      [[ROW:%[0-9]+]] = unsqueeze(%lengths{{.*}}) {dim = 0} : i64[1,B]
# CHECK:      [[PAST:%[0-9]+]] = ge([[COLUMN]], [[ROW]]) : i1[T,B]
# CHECK:      [[PADDING:%[0-9]+]] = unsqueeze([[PAST]]) {dim = 2} : i1[T,B,1]
# CHECK:      = loop(
# CHECK-NEXT: ^(%t: i64, [[H:%[0-9]+]]: f32[B,6], [[OUT:%[0-9]+]]: f32[T,B,6]):
# CHECK:        [[PADDED:%[0-9]+]] = select([[PADDING]], %t) {dim = 0} : i1[B,1]
# CHECK:        [[ZERO:%[0-9]+]] = constant 0.0 : f64
# CHECK-NEXT:   [[ROWOUT:%[0-9]+]] = masked_fill([[NEW:%[0-9]+]], [[PADDED]], [[ZERO]]) : f32[B,6]
# CHECK-NEXT:   [[KEPT:%[0-9]+]] = where([[PADDED]], [[H]], [[NEW]]) : f32[B,6]
# CHECK-NEXT:   [[WRITTEN:%[0-9]+]] = select_scatter([[OUT]], [[ROWOUT]], %t) {dim = 0}
# CHECK-NEXT:   yield({{%[0-9]+}}, [[KEPT]], [[WRITTEN]])
# CHECK:      %max_seq_length{{.*}} = size(%batch_sizes
# CHECK:      = slice({{%[0-9]+}}, {{%[0-9]+}}, %max_seq_length{{.*}}) {dim = 0, step = 1} : f32[?,B,6]
import sys

import torch
from torch import Tensor, nn


class PackedGru(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(4, 6)

    def forward(self, x: Tensor, lengths: Tensor):
        y, h = self.rnn(nn.utils.rnn.pack_padded_sequence(x, lengths))
        return nn.utils.rnn.pad_packed_sequence(y)[0], h


if __name__ == "__main__":
    torch.manual_seed(0)
    torch.jit.save(torch.jit.script(PackedGru().eval()), sys.argv[1])

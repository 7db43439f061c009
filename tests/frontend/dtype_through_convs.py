# `mask.to(dtype=features.dtype)` where the features come out of a conv1d, a
# group norm and gelu (torchaudio wav2vec2's encoder, components.py:484): the
# dtype is known through those ops, so `prim::dtype` folds to f32 and the
# cast is a plain IR cast, not an island. `lengths.cpu()` of a tensor the
# compiled program holds on the host is `lengths` itself (Tacotron2).
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --strict --emit ir --no-locations --input 'wave:f32[B<=2,40]' --input 'lengths:i64[B]' | FileCheck %s
#
# CHECK:      func @forward(%wave: f32[B,40], %lengths: i64[B]) -> (f32[B,18,8], f32[B,1,1,18], i64[B]) {
# CHECK-NOT:  island
# CHECK:      cast({{.*}}) {dtype = f32} : f32[B,1,1,18]
# CHECK-NOT:  island
# CHECK:      return({{.*}}, %lengths)
import sys

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class FeatureMask(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 8, 5, stride=2)
        self.norm = nn.GroupNorm(4, 8)

    def forward(self, wave: Tensor, lengths: Tensor):
        x = F.gelu(self.norm(self.conv(wave.unsqueeze(1)))).transpose(1, 2)
        batch, frames, _ = x.shape
        mask = torch.arange(frames).expand(batch, frames) >= lengths[:, None]
        bias = -10000.0 * mask[:, None, None, :].to(dtype=x.dtype)
        return x, bias, lengths.cpu()


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(FeatureMask().eval()), sys.argv[1])

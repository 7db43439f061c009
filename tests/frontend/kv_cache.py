# KV-cache writes into an input: `cache[pos:pos+1] = ...` is a slice_scatter
# into the cache argument; `cache[pos, :, 0:2] = ...` writes through
# select -> slice -> slice views, so the new value is scattered back up the
# chain (slice_scatter, slice_scatter, select_scatter) into the cache as it
# is after the first write, and the read after both sees the second one.
#
# RUN: %python %s %t.pt
# RUN: cocktail-compile %t.pt -q --input 'k:f32[2,8]' --input 'cache:f32[16,2,8]' --input pos:i64 --emit ir --no-locations | FileCheck %s
# RUN: cocktail-compile %t.pt -q --input 'k:f32[2,8]' --input 'cache:f32[16,2,8]' --input pos:i64 --emit ir > %t.ir && cocktail-opt %t.ir | diff %t.ir -
#
# CHECK:      func @forward(%k: f32[2,8], %cache: f32[16,2,8], %pos: i64) -> ({{.*}}) {
# CHECK:        [[K1:%[0-9]+]] = unsqueeze(%k) {dim = 0}
# CHECK-NEXT:   [[END:%[0-9]+]] = add(%pos, {{%[0-9]+}}) : i64
# CHECK-NEXT:   [[V1:%[0-9]+]] = slice(%cache, %pos, [[END]]) {dim = 0, step = 1}
# CHECK-NEXT:   [[W1:%[0-9]+]] = copy_into([[V1]], [[K1]])
# CHECK-NEXT:   [[CACHE1:%[0-9]+]] = slice_scatter(%cache, [[W1]], %pos, [[END]]) {dim = 0, step = 1}
# CHECK:        [[SRC:%[0-9]+]] = mul({{%[0-9]+}}, {{%[0-9]+}})
# CHECK-NEXT:   [[ROW:%[0-9]+]] = select([[CACHE1]], %pos) {dim = 0}
# CHECK:        [[ALL:%[0-9]+]] = slice([[ROW]], {{%[0-9]+}}, {{%[0-9]+}}) {dim = 0, step = 1}
# CHECK-NEXT:   [[COLS:%[0-9]+]] = slice([[ALL]], {{%[0-9]+}}, {{%[0-9]+}}) {dim = 1, step = 1}
# CHECK-NEXT:   [[W2:%[0-9]+]] = copy_into([[COLS]], [[SRC]])
# CHECK-NEXT:   [[ALL2:%[0-9]+]] = slice_scatter([[ALL]], [[W2]], {{%[0-9]+}}, {{%[0-9]+}}) {dim = 1, step = 1}
# CHECK:        [[ROW2:%[0-9]+]] = slice_scatter([[ROW]], [[ALL2]], {{%[0-9]+}}, {{%[0-9]+}}) {dim = 0, step = 1}
# CHECK-NEXT:   [[CACHE2:%[0-9]+]] = select_scatter([[CACHE1]], [[ROW2]], %pos) {dim = 0}
# CHECK-NEXT:   [[PREFIX:%[0-9]+]] = slice([[CACHE2]], {{%[0-9]+}}, [[END]]) {dim = 0, step = 1}
# CHECK-NEXT:   [[R:%[0-9]+]] = sum([[PREFIX]]) {dims = [0], keepdim = false}
# CHECK-NEXT:   return([[R]])
import sys

import torch
from torch import Tensor, nn


class KVCache(nn.Module):
    def forward(self, k: Tensor, cache: Tensor, pos: int):
        cache[pos:pos + 1] = k.unsqueeze(0)
        cache[pos, :, 0:2] = k[:, 0:2] * 0.5
        return cache[0:pos + 1].sum(0)


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(KVCache()), sys.argv[1])

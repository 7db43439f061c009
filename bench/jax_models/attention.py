"""Incremental attention with a KV cache: lax.fori_loop over the decoding steps (dynamic trip
count 64 - start), lax.dynamic_update_slice into the caches at slot start + t."""
import numpy as np
import jax
import jax.numpy as jnp
from jax import lax

from ._common import np_arg

HEADS = 12
HEAD_DIM = 64


def build(sd):
    p = {}
    for n in ("q", "k", "v", "o"):
        p[n + "_w"] = np.ascontiguousarray(sd[f"{n}_proj.weight"].T)
        p[n + "_b"] = sd[f"{n}_proj.bias"]
    return p, apply


def apply(p, x, k_cache, v_cache, start):
    B = x.shape[0]
    S = k_cache.shape[2]
    hidden = HEADS * HEAD_DIM
    scale = 1.0 / float(HEAD_DIM) ** 0.5
    positions = jnp.arange(S).reshape(1, 1, 1, S)

    def body(t, state):
        x, kc, vc = state
        pos = start + t
        q = (x @ p["q_w"] + p["q_b"]).reshape(B, HEADS, 1, HEAD_DIM)
        k = (x @ p["k_w"] + p["k_b"]).reshape(B, HEADS, 1, HEAD_DIM)
        v = (x @ p["v_w"] + p["v_b"]).reshape(B, HEADS, 1, HEAD_DIM)
        zero = jnp.zeros((), pos.dtype)
        kc = lax.dynamic_update_slice(kc, k, (zero, zero, pos, zero))
        vc = lax.dynamic_update_slice(vc, v, (zero, zero, pos, zero))
        scores = jnp.matmul(q, jnp.swapaxes(kc, 2, 3)) * scale       # [B, h, 1, S]
        scores = jnp.where(positions > pos, jnp.float32(-1e9), scores)
        probs = jax.nn.softmax(scores, axis=3)
        ctx = jnp.matmul(probs, vc)                                   # [B, h, 1, d]
        x = ctx.reshape(B, hidden) @ p["o_w"] + p["o_b"]
        return x, kc, vc

    x, k_cache, v_cache = lax.fori_loop(0, S - start, body, (x, k_cache, v_cache))
    return [x, k_cache, v_cache]


def inputs(args):
    return tuple(np_arg(a) for a in args)

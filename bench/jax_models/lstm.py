"""Stacked LSTM: lax.scan over time; the 10 layers inside each step.

The layer loop is unrolled in Python over per-layer weight arrays rather than
a lax.scan/fori_loop over the stacked [L, ...] weights: XLA's CPU backend
copies the indexed weight slice ([256, 1024], 1 MiB) element by element on
every layer of every step when the weights are indexed inside the loop (2.0 s
per forward at batch 1 on 2 cores with a fori_loop over layers, 3.9 s with a
scan, vs ~0.1 s unrolled). The model's layer count is a constant, so this is
what a JAX programmer would write. The time loop stays a lax.scan.
"""
import numpy as np
import jax
import jax.numpy as jnp
from jax import lax

from ._common import np_arg


def build(sd):
    L = sd["w_ih"].shape[0]
    layers = [(np.ascontiguousarray(sd["w_ih"][l].T),   # [in, 4H]
               np.ascontiguousarray(sd["w_hh"][l].T),   # [H, 4H]
               np.ascontiguousarray(sd["bias"][l]))     # [4H]
              for l in range(L)]
    return {"layers": layers}, apply


def apply(p, xs):
    layers = p["layers"]
    H = layers[0][1].shape[0]
    B = xs.shape[1]

    def step(state, x):
        hs, cs = state
        new_h, new_c = [], []
        for (w_ih, w_hh, b), h, c in zip(layers, hs, cs):
            gates = (x @ w_ih + b) + h @ w_hh
            i, f, g, o = jnp.split(gates, 4, axis=1)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            h = jax.nn.sigmoid(o) * jnp.tanh(c)
            new_h.append(h)
            new_c.append(c)
            x = h
        return (tuple(new_h), tuple(new_c)), x

    zeros = tuple(jnp.zeros((B, H), xs.dtype) for _ in layers)
    _, out = lax.scan(step, (zeros, zeros), xs)
    return [out]


def inputs(args):
    return tuple(np_arg(a) for a in args)

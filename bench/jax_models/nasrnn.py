"""NAS-RNN cell: lax.scan over time; the 8 gate projections as one [in, 8H] matmul each for x and h."""
import numpy as np
import jax
import jax.numpy as jnp
from jax import lax

from ._common import np_arg


def build(sd):
    def cat_gates(w):  # [8, in, H] -> [in, 8H], gate-major columns
        g, i, h = w.shape
        return np.ascontiguousarray(w.transpose(1, 0, 2).reshape(i, g * h))
    return {"w_ih": cat_gates(sd["weight_ih"]), "w_hh": cat_gates(sd["weight_hh"])}, apply


def apply(p, xs):
    B = xs.shape[1]
    H = p["w_hh"].shape[0]
    sig, tanh, relu = jax.nn.sigmoid, jnp.tanh, jax.nn.relu

    def step(state, x):
        c, m = state
        s = (x @ p["w_ih"]).reshape(B, 8, H) + (m @ p["w_hh"]).reshape(B, 8, H)
        l1 = [sig(s[:, 0]), relu(s[:, 1]), sig(s[:, 2]), relu(s[:, 3]),
              tanh(s[:, 4]), sig(s[:, 5]), tanh(s[:, 6]), sig(s[:, 7])]
        l2_0 = tanh(l1[0] * l1[1])
        l2_1 = tanh(l1[2] + l1[3])
        l2_2 = tanh(l1[4] * l1[5])
        l2_3 = sig(l1[6] + l1[7])
        l2_0 = tanh(l2_0 + c)
        c = l2_0 * l2_1
        l3_1 = tanh(l2_2 + l2_3)
        m = tanh(c * l3_1)
        return (c, m), None

    zeros = jnp.zeros((B, H), xs.dtype)
    (c, m), _ = lax.scan(step, (zeros, zeros), xs)
    return [c + m]


def inputs(args):
    return tuple(np_arg(a) for a in args)

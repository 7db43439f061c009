"""Recursive autoencoder: lax.fori_loop over the internal nodes in post-order, gathering the
children's states by index and writing the parent's into the node buffer."""
import numpy as np
import jax.numpy as jnp
from jax import lax

from ._common import np_arg


def build(sd):
    return {"w": np.ascontiguousarray(sd["encoder.weight"].T), "b": sd["encoder.bias"]}, apply


def apply(p, leaves, left, right):
    N, B, H = leaves.shape
    M = left.shape[0]
    states = jnp.zeros((N + M, B, H), leaves.dtype).at[:N].set(leaves)

    def body(i, states):
        h_l = lax.dynamic_index_in_dim(states, left[i], keepdims=False)
        h_r = lax.dynamic_index_in_dim(states, right[i], keepdims=False)
        h = jnp.tanh(jnp.concatenate([h_l, h_r], axis=1) @ p["w"] + p["b"])
        return lax.dynamic_update_index_in_dim(states, h, N + i, axis=0)

    states = lax.fori_loop(0, M, body, states)
    return [states[N + M - 1]]


def inputs(args):
    return tuple(np_arg(a) for a in args)

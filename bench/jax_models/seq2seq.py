"""Greedy seq2seq decoder: lax.while_loop until every row emitted EOS or min(max_len, 50) steps."""
import numpy as np
import jax
import jax.numpy as jnp
from jax import lax

from ._common import np_arg

MAX_LEN = 50
PAD, EOS, SOS = 0, 1, 2


def build(sd):
    p = {
        "w_ih": np.ascontiguousarray(sd["w_ih"].T), "w_hh": np.ascontiguousarray(sd["w_hh"].T),
        "bias": sd["bias"], "emb": sd["embedding.weight"],
        "out_w": np.ascontiguousarray(sd["out.weight"].T), "out_b": sd["out.bias"],
    }
    return p, apply


def apply(p, h0, c0, max_len):
    B = h0.shape[0]
    tokens = jnp.full((MAX_LEN, B), PAD, jnp.int32)
    token = jnp.full((B,), SOS, jnp.int32)
    alive = jnp.ones((B,), jnp.int32)
    limit = jnp.minimum(max_len, MAX_LEN)

    def cond(s):
        t, _, _, _, alive, _ = s
        return (t < limit) & (alive.sum() > 0)

    def body(s):
        t, h, c, token, alive, tokens = s
        x = p["emb"][token]
        gates = (x @ p["w_ih"] + p["bias"]) + h @ p["w_hh"]
        i, f, g, o = jnp.split(gates, 4, axis=1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        logits = h @ p["out_w"] + p["out_b"]
        token = jnp.argmax(logits, axis=1).astype(jnp.int32)
        tokens = tokens.at[t].set(jnp.where(alive > 0, token, PAD))
        alive = jnp.where(token == EOS, 0, alive)
        return t + 1, h, c, token, alive, tokens

    state = (jnp.zeros((), jnp.int32), h0, c0, token, alive, tokens)
    tokens = lax.while_loop(cond, body, state)[5]
    return [tokens]


def inputs(args):
    return tuple(np_arg(a) for a in args)

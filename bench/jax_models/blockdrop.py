"""BlockDrop ResNet-32: the 15 blocks unrolled, each behind lax.cond(policy[:, i].sum() > 0)."""
import jax
import jax.numpy as jnp
from jax import lax

from ._common import conv, fold_bn, nchw_to_nhwc, np_arg

STAGES = ((16, 1), (32, 2), (64, 2))


def build(sd):
    p = {"stem": fold_bn(sd["conv1.weight"], sd, "bn1"), "blocks": [],
         "fc_w": sd["fc.weight"].T.copy(), "fc_b": sd["fc.bias"]}
    for i in range(15):
        pre = f"blocks.{i}.body"
        p["blocks"].append((fold_bn(sd[pre + ".conv1.weight"], sd, pre + ".bn1"),
                            fold_bn(sd[pre + ".conv2.weight"], sd, pre + ".bn2")))
    return p, apply


def _strides():
    out, cin = [], 16
    for cout, stride in STAGES:
        for b in range(5):
            s = stride if b == 0 else 1
            out.append((s, s != 1 or cin != cout))
            cin = cout
    return out


def apply(p, x, policy):
    x = nchw_to_nhwc(x)
    relu = jax.nn.relu
    x = relu(conv(x, *p["stem"], pad=1))
    for i, ((w1, b1), (w2, b2)) in enumerate(p["blocks"]):
        stride, down = _strides()[i]
        if down:
            B, H, W, C = x.shape
            r = x.reshape(B, H // 2, 2, W // 2, 2, C).mean(axis=(2, 4))
            residual = jnp.concatenate([r, jnp.zeros_like(r)], axis=3)
        else:
            residual = x
        action = policy[:, i]

        def run(ops, w1=w1, b1=b1, w2=w2, b2=b2, stride=stride):
            x, residual, action = ops
            out = relu(conv(x, w1, b1, stride=stride, pad=1))
            fx = relu(residual + conv(out, w2, b2, pad=1))
            mask = action.reshape(-1, 1, 1, 1)
            return fx * mask + residual * (1.0 - mask)

        x = lax.cond(action.sum() > 0.0, run, lambda ops: ops[1], (x, residual, action))
    x = x.mean(axis=(1, 2))
    return [x @ p["fc_w"] + p["fc_b"]]


def inputs(args):
    return tuple(np_arg(a) for a in args)

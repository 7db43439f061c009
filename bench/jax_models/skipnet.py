"""SkipNet ResNet-101: 33 bottlenecks unrolled; the 29 gated ones behind
lax.cond(sigmoid(gate(mean_hw(x)))[0, 0] > 0.5)."""
import jax
import jax.numpy as jnp
from jax import lax

from ._common import conv, fold_bn, nchw_to_nhwc, np_arg

LAYERS = (3, 4, 23, 3)


def _plan():
    """(stride, has_downsample, gated) per block, as SkipNetResNet101 builds them."""
    out, cin = [], 64
    for stage, (planes, n) in enumerate(zip((64, 128, 256, 512), LAYERS)):
        stride = 1 if stage == 0 else 2
        out.append((stride, stride != 1 or cin != planes * 4, False))
        cin = planes * 4
        out += [(1, False, True)] * (n - 1)
    return out


def build(sd):
    p = {"stem": fold_bn(sd["conv1.weight"], sd, "bn1"), "blocks": [],
         "fc_w": sd["fc.weight"].T.copy(), "fc_b": sd["fc.bias"]}
    for i, (stride, down, gated) in enumerate(_plan()):
        pre = f"blocks.{i}.block" if gated else f"blocks.{i}"
        blk = {"c1": fold_bn(sd[pre + ".conv1.weight"], sd, pre + ".bn1"),
               "c2": fold_bn(sd[pre + ".conv2.weight"], sd, pre + ".bn2"),
               "c3": fold_bn(sd[pre + ".conv3.weight"], sd, pre + ".bn3")}
        if down:
            blk["down"] = fold_bn(sd[pre + ".downsample.0.weight"], sd, pre + ".downsample.1")
        if gated:
            blk["gate_w"] = sd[f"blocks.{i}.gate.weight"].T.copy()
            blk["gate_b"] = sd[f"blocks.{i}.gate.bias"]
        p["blocks"].append(blk)
    return p, apply


def _bottleneck(x, blk, stride):
    relu = jax.nn.relu
    out = relu(conv(x, *blk["c1"]))
    out = relu(conv(out, *blk["c2"], stride=stride, pad=1))
    out = conv(out, *blk["c3"])
    short = conv(x, *blk["down"], stride=stride) if "down" in blk else x
    return relu(out + short)


def apply(p, x):
    x = nchw_to_nhwc(x)
    x = jax.nn.relu(conv(x, *p["stem"], stride=2, pad=3))
    x = lax.reduce_window(x, -jnp.inf, lax.max, (1, 3, 3, 1), (1, 2, 2, 1),
                          [(0, 0), (1, 1), (1, 1), (0, 0)])
    for blk, (stride, _, gated) in zip(p["blocks"], _plan()):
        if gated:
            prob = jax.nn.sigmoid(x.mean(axis=(1, 2)) @ blk["gate_w"] + blk["gate_b"])
            x = lax.cond(prob[0, 0] > 0.5, lambda x, blk=blk: _bottleneck(x, blk, 1), lambda x: x, x)
        else:
            x = _bottleneck(x, blk, stride)
    x = x.mean(axis=(1, 2))
    return [x @ p["fc_w"] + p["fc_b"]]


def inputs(args):
    return tuple(np_arg(a) for a in args)

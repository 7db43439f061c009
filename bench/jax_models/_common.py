"""Helpers shared by the JAX ports."""
import numpy as np
import jax.numpy as jnp
from jax import lax

BN_EPS = 1e-5


def np_arg(v):
    """A forward argument (torch tensor or python number) as a numpy array / jnp scalar."""
    if hasattr(v, "numpy"):
        return np.ascontiguousarray(v.numpy())
    if isinstance(v, bool):
        return np.bool_(v)
    if isinstance(v, int):
        return np.int32(v)
    return np.float32(v)


def fold_bn(w, sd, bn):
    """Fold batch norm `bn` (prefix into sd) into the OIHW conv weight w; returns (HWIO weight, bias)."""
    scale = sd[bn + ".weight"] / np.sqrt(sd[bn + ".running_var"] + BN_EPS)
    wf = w * scale[:, None, None, None]
    b = sd[bn + ".bias"] - sd[bn + ".running_mean"] * scale
    return np.ascontiguousarray(wf.transpose(2, 3, 1, 0)).astype(np.float32), b.astype(np.float32)


def conv(x, w, b=None, stride=1, pad=0):
    """NHWC conv with an HWIO weight."""
    y = lax.conv_general_dilated(x, w, (stride, stride), [(pad, pad), (pad, pad)],
                                 dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return y if b is None else y + b


def nchw_to_nhwc(x):
    return jnp.transpose(x, (0, 2, 3, 1))

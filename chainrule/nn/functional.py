"""Neural-network functions with PyTorch's semantics: activations, losses, normalization, ...

Smooth functions that are short compositions of ops stay compositions. Where speed or
numerical stability needs it (softmax, cross entropy, the norms, every activation with a
kink) a dedicated node holds the forward and its derivative side by side. Each backward is
written once: on NumPy arrays in a plain backward, on Tensors under ``create_graph=True``
(masks are computed from the data and enter as constants, the smooth parts call ops that
exist in both namespaces or this module's own differentiable functions).
The spatial kernels (conv, pooling, padding, resampling) live in ``chainrule/ops/conv.py``.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _dtype
from ..autograd.function import CONST, NO_EDGE, OUTPUT, Node, edge
from ..autograd.grad_mode import grad_state
from ..ops import conv as _conv
from ..ops import elementwise as _ew
from ..ops._broadcast import broadcast_error, canon_dim, shape_str, sum_to, xp
from ..ops._broadcast import sum_rows as _sum_rows
from ..ops.conv import (  # noqa
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    adaptive_max_pool3d,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
    fold,
    lp_pool1d,
    lp_pool2d,
    max_pool1d,
    max_pool2d,
    max_pool3d,
    pad,
    pixel_shuffle,
    pixel_unshuffle,
    unfold,
)
from ..tensor import Tensor, _make

_new = object.__new__  # a node without calling its class (no __init__ to run)

sigmoid = _ew.sigmoid
tanh = _ew.tanh


# ======================================================================================
# Helpers
# ======================================================================================
def _is_array(g) -> bool:
    return type(g) is np.ndarray or isinstance(g, np.generic)


def _arr(x):
    """The data of a Tensor or array: a constant inside a backward formula."""
    return x if _is_array(x) else x._data


def _const(a: np.ndarray) -> Tensor:
    return _make(np.asarray(a), False, None)


def _tensor_like(value, ref: Tensor) -> Tensor:
    if isinstance(value, Tensor):
        return value
    return _make(np.asarray(value, dtype=ref._data.dtype), False, None)


def _node(node_cls, inputs, out, saved, **attrs) -> Tensor:
    """Wrap ``out``; record ``node_cls`` over ``inputs`` (Tensors or None) if needed."""
    if grad_state.enabled and out.dtype.kind in "fc":
        edges = []  # a plain loop: generator expressions cost ~1 us more per call
        wanted = False
        for t in inputs:
            if t is not None and t._requires_grad:
                wanted = True
                fn = t.grad_fn
                edges.append((fn, t._output_nr) if fn is not None else edge(t))
            else:
                edges.append(NO_EDGE)
        if wanted:
            node = node_cls()
            node.next_functions = tuple(edges)
            node.saved = saved
            for k, v in attrs.items():
                setattr(node, k, v)
            return _make(out, True, node)
    return _make(out, False, None)


def _inplace(input: Tensor, fn, *args, **kwargs) -> Tensor:
    """Run ``fn`` out of place and write the result into ``input`` (``inplace=True``)."""
    from ..tensor import inplace

    return inplace(input, fn, *args, **kwargs)


def _float(x: np.ndarray) -> np.ndarray:
    return x if x.dtype.kind in "fc" else x.astype(_dtype.get_default_dtype().np)


def _sigmoid_np(x):
    return _ew._sigmoid_array(x)


def _softplus_np(x):
    """log(1 + exp(x)), stable for any x."""
    return np.logaddexp(0, x).astype(x.dtype, copy=False)


_erf_np = _ew._erf_np  # NumPy-only erf (Chebyshev fit); chainrule does not depend on SciPy


def _ncdf_np(x):
    return (0.5 * (1.0 + np.asarray(_erf_np(x * (1 / math.sqrt(2))), dtype=np.float64))
            ).astype(x.dtype, copy=False)


def _diagonal_jvp(self, tangents, *saved):
    """jvp of an op with a symmetric Jacobian (elementwise ops, softmax): J t = J^T t, so the
    tangent is the backward formula applied to the input's tangent."""
    return self.backward(tangents[0], *saved)[0]


# ======================================================================================
# Activations with a kink: out = f(x), dx = g * c with c a constant (mask or slope)
# ======================================================================================
class _ConstGradNode(Node):
    """dx = g * c, where c (a mask or slopes) is a constant array."""

    __slots__ = ()
    saved_spec = (CONST,)

    def backward(self, g, c):
        return (g * c,)

    jvp = _diagonal_jvp


def _const_grad(name: str):
    return type(name, (_ConstGradNode,), {"__slots__": (), "__module__": __name__})


HardtanhBackward0 = _const_grad("HardtanhBackward0")
LeakyReluBackward0 = _const_grad("LeakyReluBackward0")
ThresholdBackward0 = _const_grad("ThresholdBackward0")
SoftshrinkBackward0 = _const_grad("SoftshrinkBackward0")
HardshrinkBackward0 = _const_grad("HardshrinkBackward0")
HardsigmoidBackward0 = _const_grad("HardsigmoidBackward0")
RreluWithNoiseBackward0 = _const_grad("RreluWithNoiseBackward0")


def _kinked(node_cls, input, out, grad_factor):
    """Record a constant-gradient node; ``grad_factor`` is called only when one is needed."""
    if input._requires_grad and grad_state.enabled and out.dtype.kind in "fc":
        node = node_cls()
        node.next_functions = (edge(input),)
        node.saved = (grad_factor(),)
        return _make(out, True, node)
    return _make(out, False, None)


def relu(input, inplace=False):
    """max(x, 0)."""
    if inplace:
        return _inplace(input, _ew.relu)
    return _ew.relu(input)


def relu_(input):
    return relu(input, inplace=True)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """Clamp to [min_val, max_val]; the gradient is 1 strictly inside."""
    if inplace:
        return _inplace(input, hardtanh, min_val, max_val)
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if input._data.dtype == np.bool_:
        raise RuntimeError("Bool inputs not supported for hardtanh")
    if input._data.dtype.kind in "iu":  # integers stay integers: the bounds are truncated
        xi = input._data
        return _make(np.clip(xi, int(min_val), int(max_val)).astype(xi.dtype), False, None)
    x = _float(input._data)
    out = np.clip(x, min_val, max_val).astype(x.dtype, copy=False)
    return _kinked(HardtanhBackward0, input, out, lambda: (x > min_val) & (x < max_val))


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, negative_slope * x otherwise."""
    if inplace:
        return _inplace(input, leaky_relu, negative_slope)
    x = _float(input._data)
    pos = x > 0
    out = np.where(pos, x, x * negative_slope).astype(x.dtype, copy=False)
    return _kinked(LeakyReluBackward0, input, out,
                   lambda: np.where(pos, 1, negative_slope).astype(x.dtype))


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value."""
    if inplace:
        return _inplace(input, globals()["threshold"], threshold, value)
    x = input._data
    keep = x > threshold
    out = np.where(keep, x, np.asarray(value, dtype=x.dtype)).astype(x.dtype, copy=False)
    return _kinked(ThresholdBackward0, input, out, lambda: keep)


def threshold_(input, threshold, value):
    return globals()["threshold"](input, threshold, value, inplace=True)


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    x = _float(input._data)
    out = np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, 0)).astype(
        x.dtype, copy=False)
    return _kinked(SoftshrinkBackward0, input, out, lambda: (x > lambd) | (x < -lambd))


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    x = _float(input._data)
    keep = (x > lambd) | (x < -lambd)
    out = np.where(keep, x, 0).astype(x.dtype, copy=False)
    return _kinked(HardshrinkBackward0, input, out, lambda: keep)


def hardsigmoid(input, inplace=False):
    """clamp(x / 6 + 1/2, 0, 1)."""
    if inplace:
        return _inplace(input, hardsigmoid)
    x = _float(input._data)
    out = np.clip(x / 6 + 0.5, 0, 1).astype(x.dtype, copy=False)
    return _kinked(HardsigmoidBackward0, input, out,
                   lambda: ((x > -3) & (x < 3)).astype(x.dtype) / 6)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Leaky ReLU with a random slope in [lower, upper] (training) or their mean (eval)."""
    if inplace:
        return _inplace(input, rrelu, lower, upper, training)
    x = _float(input._data)
    if training:
        from ..ops.creation import rng

        slope = rng().uniform(lower, upper, size=x.shape).astype(x.dtype)
        slope = np.where(x >= 0, 1, slope).astype(x.dtype)
    else:
        slope = np.where(x >= 0, 1, (lower + upper) / 2).astype(x.dtype)
    return _kinked(RreluWithNoiseBackward0, input, x * slope, lambda: slope)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)


# ======================================================================================
# Smooth activations
# ======================================================================================
class EluBackward0(Node):
    """out = s*x (x > 0), s*a*(exp(i*x) - 1) (else):  dx = g*s, or g*s*a*i*exp(i*x)"""

    __slots__ = ("alpha", "in_scale", "scale")
    saved_spec = (0,)

    def backward(self, g, x):
        a, s, i = self.alpha, self.scale, self.in_scale
        pos = _arr(x) > 0
        if _is_array(g):
            return (g * np.where(pos, s, (s * a * i) * np.exp(np.minimum(x, 0) * i)),)
        neg = (~pos).astype(_arr(x).dtype)
        return (g * (pos * s + neg * (s * a * i) * _ew.exp(x * (neg * i))),)

    jvp = _diagonal_jvp


CeluBackward0 = type("CeluBackward0", (EluBackward0,), {"__slots__": ()})


def _elu(input, alpha, scale, in_scale, node_cls=EluBackward0):
    x = _float(input._data)
    neg = (scale * alpha) * np.expm1(np.minimum(x, 0) * in_scale)
    out = np.where(x > 0, x * scale, neg).astype(x.dtype, copy=False)
    return _node(node_cls, (input,), out, (x,), alpha=alpha, scale=scale, in_scale=in_scale)


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    if inplace:
        return _inplace(input, elu, alpha)
    return _elu(input, alpha, 1.0, 1.0)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalizing constants."""
    if inplace:
        return _inplace(input, selu)
    return _elu(input, _SELU_ALPHA, _SELU_SCALE, 1.0)


def selu_(input):
    return selu(input, inplace=True)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if inplace:
        return _inplace(input, celu, alpha)
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _elu(input, alpha, 1.0, 1.0 / alpha, CeluBackward0)


class SoftplusBackward0(Node):
    """out = log(1 + exp(b x)) / b (x itself where b x > threshold):  dx = g * sigmoid(b x)"""

    __slots__ = ("beta", "threshold")
    saved_spec = (0,)

    def backward(self, g, x):
        b = self.beta
        lin = _arr(x) * b > self.threshold
        if _is_array(g):
            return (g * np.where(lin, 1, _sigmoid_np(x * b)).astype(x.dtype, copy=False),)
        return (g * (lin + (~lin) * _ew.sigmoid(x * b)),)

    jvp = _diagonal_jvp


def softplus(input, beta=1.0, threshold=20.0):
    """Smooth ReLU: log(1 + exp(beta * x)) / beta."""
    x = _float(input._data)
    bx = x * beta
    out = np.where(bx > threshold, x, _softplus_np(bx) / beta).astype(x.dtype, copy=False)
    return _node(SoftplusBackward0, (input,), out, (x,), beta=beta, threshold=threshold)


class LogSigmoidBackward0(Node):
    """out = -softplus(-x):  dx = g * sigmoid(-x)"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        if _is_array(g):
            return (g * _sigmoid_np(-x),)
        return (g * _ew.sigmoid(-x),)

    jvp = _diagonal_jvp


def logsigmoid(input):
    """log(sigmoid(x)), stable for any x."""
    x = _float(input._data)
    return _node(LogSigmoidBackward0, (input,), -_softplus_np(-x), (x,))


class SiluBackward0(Node):
    """out = x * sigmoid(x):  dx = g * s * (1 + x (1 - s))"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        s = _sigmoid_np(x) if _is_array(g) else _ew.sigmoid(x)
        return (g * (s * (1 + x * (1 - s))),)

    jvp = _diagonal_jvp


def silu(input, inplace=False):
    """x * sigmoid(x)."""
    if inplace:
        return _inplace(input, silu)
    x = _float(input._data)
    return _node(SiluBackward0, (input,), x * _sigmoid_np(x), (x,))


class MishBackward0(Node):
    """out = x tanh(softplus(x)):  dx = g * (t + x sigmoid(x) (1 - t^2)), t = tanh(softplus(x))"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        if _is_array(g):
            t = np.tanh(_softplus_np(x))
            return (g * (t + x * _sigmoid_np(x) * (1 - t * t)),)
        t = _ew.tanh(softplus(x))
        return (g * (t + x * _ew.sigmoid(x) * (1 - t * t)),)

    jvp = _diagonal_jvp


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    if inplace:
        return _inplace(input, mish)
    x = _float(input._data)
    return _node(MishBackward0, (input,), x * np.tanh(_softplus_np(x)), (x,))


class _NormalCdfBackward(Node):
    """out = Phi(x) (standard normal CDF):  dx = g * exp(-x^2 / 2) / sqrt(2 pi)"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        ns = xp(g)
        return (g * (ns.exp(x * x * -0.5) * (1 / math.sqrt(2 * math.pi))),)

    jvp = _diagonal_jvp


def _normal_cdf(x: Tensor) -> Tensor:
    return _node(_NormalCdfBackward, (x,), _ncdf_np(x._data), (x._data,))


_GELU_K = math.sqrt(2 / math.pi)


class GeluBackward0(Node):
    """'none': out = x Phi(x), dx = g (Phi + x phi);
    'tanh': out = x (1 + t) / 2 with t = tanh(k (x + 0.044715 x^3)),
            dx = g ((1 + t) / 2 + x (1 - t^2) k (1 + 3 * 0.044715 x^2) / 2)"""

    __slots__ = ("approximate",)
    saved_spec = (0, CONST)

    def backward(self, g, x, cdf):
        ns = xp(g)
        if self.approximate == "tanh":
            inner = (x + x * x * x * 0.044715) * _GELU_K
            t = ns.tanh(inner)
            d = (1 + t) * 0.5 + x * (1 - t * t) * (1 + x * x * (3 * 0.044715)) * (0.5 * _GELU_K)
            return (g * d,)
        if ns is not np:  # create_graph: Phi(x) as recorded ops, so that it is differentiated
            cdf = _normal_cdf(x)
        return (g * (cdf + x * ns.exp(x * x * -0.5) * (1 / math.sqrt(2 * math.pi))),)

    jvp = _diagonal_jvp


def gelu(input, approximate="none"):
    """x * Phi(x) (``approximate='tanh'``: the tanh approximation)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    x = _float(input._data)
    cdf = None
    if approximate == "tanh":
        out = 0.5 * x * (1 + np.tanh(_GELU_K * (x + 0.044715 * x ** 3)))
    else:
        # Phi(x) is kept for the backward: NumPy has no erf, and computing ours again costs
        # more than the forward's product (PyTorch keeps only x and recomputes).
        cdf = _ncdf_np(x)
        out = x * cdf
    return _node(GeluBackward0, (input,), out.astype(x.dtype, copy=False), (x, cdf),
                 approximate=approximate)


class HardswishBackward0(Node):
    """out = x relu6(x + 3) / 6:  dx = 0 (x < -3), g (x/3 + 1/2) (x <= 3), g (x > 3)"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        xa = _arr(x)
        mid = (xa >= -3) & (xa <= 3)
        return (g * (mid * (x * (1 / 3) + 0.5) + (xa > 3)),)

    jvp = _diagonal_jvp


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6."""
    if inplace:
        return _inplace(input, hardswish)
    x = _float(input._data)
    out = (x * np.clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)
    return _node(HardswishBackward0, (input,), out, (x,))


def softsign(input):
    """x / (1 + |x|)."""
    sign = _const(np.sign(input._data))
    return input / (input * sign + 1)


def tanhshrink(input):
    """x - tanh(x)."""
    return input - _ew.tanh(input)


class PreluKernelBackward0(Node):
    """out = x (x > 0), w x (else), w per channel (dim 1):  dx = g (1 or w),  dw = sum g x [x<=0]"""

    __slots__ = ("w_shape",)
    saved_spec = (0, 1)

    def backward(self, g, x, w):
        fx, fw = self.next_functions
        neg = _arr(x) <= 0
        wb = w.reshape(_prelu_bshape(int(np.prod(self.w_shape)), x.ndim))
        gx = gw = None
        if fx[0] is not None:
            gx = g * ((~neg) + neg * wb)
        if fw[0] is not None:
            gw = sum_to(g * (x * neg), wb.shape).reshape(self.w_shape)
        return gx, gw

    def jvp(self, tangents, x, w):
        tx, tw = tangents
        neg = _arr(x) <= 0
        out = None
        if tx is not None:
            wb = w.reshape(_prelu_bshape(int(np.prod(self.w_shape)), x.ndim))
            out = tx * ((~neg) + neg * wb)
        if tw is not None:
            tb = x * neg * tw.reshape(_prelu_bshape(int(np.prod(self.w_shape)), x.ndim))
            out = tb if out is None else out + tb
        return out


def _prelu_bshape(n: int, ndim: int) -> tuple:
    """How the prelu weight broadcasts: a scalar, or along dim 1 (dim 0 for 1-D input)."""
    if n == 1:
        return ()
    return (n,) if ndim == 1 else (1, n) + (1,) * (ndim - 2)


def prelu(input, weight):
    """x for x > 0, weight * x otherwise; weight has 1 or C (= input.shape[1]) entries."""
    x, w = input._data, weight._data
    n = w.size
    if w.ndim > 1:
        raise RuntimeError("prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {w.ndim}")
    c = x.shape[1] if x.ndim >= 2 else 1
    if n != 1 and n != c:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {n} and channel size = {c}.")
    wb = w.reshape(_prelu_bshape(n, x.ndim))
    out = np.where(x > 0, x, x * wb).astype(np.result_type(x, w), copy=False)
    return _node(PreluKernelBackward0, (input, weight), out, (x, w), w_shape=w.shape)


# ======================================================================================
# Softmax family
# ======================================================================================
def _softmax_dim(name: str, ndim: int, dim):
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the "
                      "call to include dim=X as an argument.", UserWarning, stacklevel=3)
        dim = 0 if ndim in (0, 1, 3) else 1
    return canon_dim(dim, ndim)


class SoftmaxBackward0(Node):
    """out = softmax(x, d):  dx = out * (g - sum(g * out, d))"""

    __slots__ = ("dim",)
    saved_spec = (OUTPUT,)

    def backward(self, g, out):
        d = self.dim
        go = g * out
        return (go - out * go.sum(axis=d, keepdims=True),)

    jvp = _diagonal_jvp


class LogSoftmaxBackward0(Node):
    """out = log_softmax(x, d):  dx = g - exp(out) * sum(g, d)"""

    __slots__ = ("dim",)
    saved_spec = (OUTPUT,)

    def backward(self, g, out):
        ns = xp(g)
        return (g - ns.exp(out) * g.sum(axis=self.dim, keepdims=True),)

    def jvp(self, tangents, out):
        (t,) = tangents
        return t - (xp(t).exp(out) * t).sum(axis=self.dim, keepdims=True)


def _softmax_prep(input, dim, dtype, name):
    x = input
    if dtype is not None:
        x = x.to(dtype)
    xd = _float(x._data)
    d = _softmax_dim(name, xd.ndim, dim) if xd.ndim else 0
    return x, xd, d


def _log_softmax_np(xd, d, with_probs=False):
    """log_softmax along d (and softmax too if ``with_probs``), shifted by the max: finite
    for any finite logits; rows that are all -inf give nan, like PyTorch."""
    if xd.ndim == 0:
        z = np.zeros_like(xd)
        return (z, np.ones_like(xd)) if with_probs else z
    m = xd.max(axis=d, keepdims=True)
    finite = np.isfinite(m)
    if finite.all():
        z = xd - m
        e = np.exp(z)
        s = e.sum(axis=d, keepdims=True)
        logp = z - np.log(s)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            z = xd - np.where(finite, m, 0)
            e = np.exp(z)
            s = e.sum(axis=d, keepdims=True)
            logp = z - np.log(s)
    if with_probs:
        return logp, e / s
    return logp


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x), dim), computed without overflow.

    >>> import chainrule as torch
    >>> torch.nn.functional.softmax(torch.tensor([0.0, 0.0]), dim=0)
    tensor([0.5000, 0.5000])
    """
    x, xd, d = _softmax_prep(input, dim, dtype, "softmax")
    if xd.ndim == 0:
        out = np.ones_like(xd)
    else:
        m = xd.max(axis=d, keepdims=True)
        e = np.exp(xd - np.where(np.isfinite(m), m, 0))
        out = e / e.sum(axis=d, keepdims=True)
    return _node(SoftmaxBackward0, (x,), out, (out,), dim=d)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x - logsumexp(x, dim), finite even for logits of +-1000.

    >>> import chainrule as torch
    >>> torch.nn.functional.log_softmax(torch.tensor([1000.0, -1000.0]), dim=0)
    tensor([    0., -2000.])
    """
    x, xd, d = _softmax_prep(input, dim, dtype, "log_softmax")
    out = _log_softmax_np(xd, d)
    return _node(LogSoftmaxBackward0, (x,), out, (out,), dim=d)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x, dim)."""
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim, None)
    x = input if dtype is None else input.to(dtype)
    return softmax(-x, dim)


class GluBackward0(Node):
    """out = a * sigmoid(b) (halves along dim):  da = g s,  db = g a s (1 - s)"""

    __slots__ = ("dim",)
    saved_spec = (0,)

    def backward(self, g, x):
        d = self.dim
        h = x.shape[d] // 2
        sa = (slice(None),) * d + (slice(0, h),)
        sb = (slice(None),) * d + (slice(h, None),)
        if _is_array(g):
            a, b = x[sa], x[sb]
            s = _sigmoid_np(b)
            return (np.concatenate([g * s, g * a * s * (1 - s)], axis=d),)
        a, b = _slice(x, sa), _slice(x, sb)
        s = _ew.sigmoid(b)
        return (_embed(g * s, sa, x.shape) + _embed(g * a * s * (1 - s), sb, x.shape),)

    def jvp(self, tangents, x):
        (t,) = tangents
        d = self.dim
        h = x.shape[d] // 2
        sa = (slice(None),) * d + (slice(0, h),)
        sb = (slice(None),) * d + (slice(h, None),)
        if _is_array(t):
            a, b, ta, tb = x[sa], x[sb], t[sa], t[sb]
            s = _sigmoid_np(b)
        else:
            a, b, ta, tb = _slice(x, sa), _slice(x, sb), _slice(t, sa), _slice(t, sb)
            s = _ew.sigmoid(b)
        return ta * s + a * s * (1 - s) * tb


def glu(input, dim=-1):
    """First half of ``dim`` times sigmoid of the second half."""
    x = input._data
    if x.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = canon_dim(dim, x.ndim)
    if x.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size "
                           f"{x.shape[d]}")
    h = x.shape[d] // 2
    a = np.take(x, np.arange(h), axis=d)
    b = np.take(x, np.arange(h, 2 * h), axis=d)
    return _node(GluBackward0, (input,), a * _sigmoid_np(b), (x,), dim=d)


def _slice(x: Tensor, index: tuple) -> Tensor:
    """x[index] for basic slices, differentiable to any order (its adjoint is _embed)."""
    shape = x._data.shape
    return _conv._linear(x, lambda a: a[index], lambda g: _embed_np(g, index, shape))


def _embed_np(g, index, shape):
    out = np.zeros(shape, g.dtype)
    out[index] = g
    return out


def _embed(g: Tensor, index: tuple, shape) -> Tensor:
    """zeros(shape) with g written at ``index`` (the adjoint of _slice)."""
    return _conv._linear(g, lambda a: _embed_np(a, index, shape), lambda h: h[index])


# ======================================================================================
# Linear layers
# ======================================================================================
class AddmmBackward0(Node):
    """out = x @ w.T + b (x of any shape (..., in)):  dx = g @ w,  dw = g.T @ x,  db = sum(g)"""

    __slots__ = ("has_bias",)
    saved_spec = (0, 1)

    def backward(self, g, x, w):
        fx, fw = self.next_functions[:2]
        k = x.shape[-1]
        x2 = x if x.ndim == 2 else x.reshape(-1, k)
        g2 = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])
        gx = gw = gb = None
        arrays = type(g2) is np.ndarray  # ndarray.dot: as @ for 2-D, ~0.5 us faster
        if fx[0] is not None:
            gx = g2.dot(w) if arrays else g2 @ w
            if x.ndim != 2:
                gx = gx.reshape(x.shape)
        if fw[0] is not None:
            gw = g2.T.dot(x2) if arrays else g2.T @ x2
        if self.has_bias:
            if self.next_functions[2][0] is not None:
                gb = _sum_rows(g2) if arrays else g2.sum(axis=0)
            return gx, gw, gb
        return gx, gw

    def jvp(self, tangents, x, w):
        """Bilinear in (x, w): t_x @ w.T + x @ t_w.T (+ t_b)."""
        tx, tw = tangents[:2]
        tb = tangents[2] if self.has_bias else None
        out = None
        for u, v in ((tx, w), (x, tw)):
            if u is not None and v is not None:
                y = u @ v.T
                out = y if out is None else out + y
        if tb is not None:
            out = (x @ w.T) * 0 + tb if out is None else out + tb  # 0 *: the output shape
        return out


MmBackward0 = type("MmBackward0", (AddmmBackward0,), {"__slots__": ()})


def linear(input, weight, bias=None):
    """x @ weight.T + bias, over the last dim of x.

    >>> import chainrule as torch
    >>> torch.nn.functional.linear(torch.ones(2, 3), torch.ones(4, 3)).shape
    torch.Size([2, 4])
    """
    x, w = input._data, weight._data
    if w.ndim != 2 or x.ndim == 0:
        from ..ops.linalg import matmul

        out = matmul(input, weight.t() if w.ndim == 2 else weight)
        return out if bias is None else out + bias
    k = x.shape[-1]
    if k != w.shape[1]:
        rows = x.size // k if x.ndim > 1 and k else (1 if x.ndim == 1 else x.shape[0])
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k} and "
                           f"{w.shape[1]}x{w.shape[0]})")
    if x.dtype != w.dtype:  # torch's two kernels word it differently (addmm with a bias)
        from ..ops.linalg import _C_NAMES, _scalar_name

        if bias is not None:
            raise RuntimeError("mat1 and mat2 must have the same dtype, but got "
                               f"{_scalar_name(x.dtype)} and {_scalar_name(w.dtype)}")
        raise RuntimeError("expected m1 and m2 to have the same dtype, but got: "
                           f"{_C_NAMES.get(x.dtype.name, x.dtype.name)} != "
                           f"{_C_NAMES.get(w.dtype.name, w.dtype.name)}")
    x2 = x if x.ndim == 2 else x.reshape(-1, k)
    out = x2.dot(w.T)  # for 2-D the same BLAS call as @, with ~0.5 us less overhead
    if bias is not None:
        b = bias._data
        if b.dtype != out.dtype:
            out = out + b
        else:
            out += b  # the product is a fresh buffer: add in place
    if x.ndim != 2:
        out = out.reshape(x.shape[:-1] + (w.shape[0],))
    if bias is None:
        return _node(MmBackward0, (input, weight), out, (x, w), has_bias=False)
    if grad_state.enabled and weight._requires_grad and bias._requires_grad and \
            out.dtype.kind == "f":  # a layer being trained: _node written out for it
        node = _new(AddmmBackward0)
        fn = input.grad_fn
        node.next_functions = (
            (fn, input._output_nr) if fn is not None else edge(input),
            edge(weight), edge(bias))
        node.saved = (x, w)
        node.has_bias = True
        return _make(out, True, node)
    return _node(AddmmBackward0, (input, weight, bias), out, (x, w), has_bias=True)


def bilinear(input1, input2, weight, bias=None):
    """out[..., o] = x1 @ weight[o] @ x2 + bias[o]."""
    a, b, w = input1._data, input2._data, weight._data
    if a.shape[:-1] != b.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got "
                           f"{shape_str(a.shape[:-1])} and {shape_str(b.shape[:-1])}")
    if w.ndim != 3 or w.shape[1] != a.shape[-1] or w.shape[2] != b.shape[-1]:
        raise RuntimeError(f"bilinear(): input size does not match weight size: got "
                           f"{a.shape[-1]} and {b.shape[-1]} but expected {shape_str(w.shape)}")
    from ..ops.linalg import matmul

    # (.., 1, 1, i) @ (o, i, j) -> (.., o, 1, j); then @ (.., 1, j, 1) -> (.., o, 1, 1)
    t = matmul(input1.unsqueeze(-2).unsqueeze(-2), weight)
    out = matmul(t, input2.unsqueeze(-2).unsqueeze(-1)).squeeze(-1).squeeze(-1)
    return out if bias is None else out + bias


# ======================================================================================
# Dropout
# ======================================================================================
def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _masked(input, mask_shape, p, inplace):
    """x * mask / (1 - p) with a Bernoulli(1 - p) mask of ``mask_shape`` (broadcast)."""
    from ..ops.creation import rng

    x = input._data
    if p == 1.0:
        scale = np.zeros(mask_shape, x.dtype)
    else:
        scale = (rng().random(mask_shape) >= p).astype(x.dtype) * np.asarray(1 / (1 - p),
                                                                               x.dtype)
    fn = lambda t: t * _const(scale)
    return _inplace(input, fn) if inplace else fn(input)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p (training), scaling the rest by 1 / (1 - p).

    >>> import chainrule as torch
    >>> x = torch.ones(4)
    >>> torch.nn.functional.dropout(x, 0.5, training=False) is x
    True
    """
    _check_p(p)
    if not training or p == 0.0:
        return input
    return _masked(input, input._data.shape, p, inplace)


def _feature_dropout(input, p, training, inplace, nd):
    _check_p(p)
    if not training or p == 0.0:
        return input
    x = input._data
    batched = x.ndim == nd + 2
    shape = x.shape[:2] + (1,) * nd if batched else x.shape[:1] + (1,) * (x.ndim - 1)
    return _masked(input, shape, p, inplace)


def dropout1d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, inplace, 1)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels (dim 1) with probability p."""
    return _feature_dropout(input, p, training, inplace, 2)


def dropout3d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, inplace, 3)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU's self-normalizing mean and variance."""
    return _alpha_dropout(input, p, training, inplace, False)


def _alpha_dropout(input, p, training, inplace, feature):
    _check_p(p)
    if not training or p == 0.0:
        return input
    from ..ops.creation import rng

    x = input._data
    if p == 1.0:
        return input * 0
    alpha = -_SELU_ALPHA * _SELU_SCALE * -1  # 1.7580993408...: the negative saturation of SELU
    a = 1 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    shape = x.shape
    if feature:  # one draw per (sample, channel), as torch's feature noise
        if x.ndim < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        shape = x.shape[:2] + (1,) * (x.ndim - 2)
    keep = (rng().random(shape) >= p).astype(x.dtype)
    mul = _const(keep * np.asarray(a, x.dtype))
    add = _const(((keep - 1) * (alpha * a) + alpha * a * p).astype(x.dtype))
    fn = lambda t: t * mul + add
    return _inplace(input, fn) if inplace else fn(input)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels: one keep/drop draw per (sample, channel)."""
    return _alpha_dropout(input, p, training, inplace, True)


# ======================================================================================
# Embedding, one_hot
# ======================================================================================
class EmbeddingBackward0(_conv._LinearNode):
    """out = weight[idx]:  dweight = rows of g summed into idx (padding_idx row gets none)"""

    __slots__ = ()


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` picked by the integer tensor ``input``.

    ``max_norm`` renormalizes the picked rows of ``weight`` in place, like PyTorch;
    ``scale_grad_by_freq`` divides each row's gradient by its count in the batch.
    """
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    w = weight._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                           "following scalar types: Long, Int; but got "
                           f"torch.{_type_name(idx)}Tensor instead (while checking "
                           "arguments for embedding)")
    n = w.shape[0]
    if idx.size and (idx.max() >= n or idx.min() < -n):
        raise IndexError("index out of range in self")
    idx = np.where(idx < 0, idx + n, idx)
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = padding_idx % n
    if max_norm is not None:
        rows = np.unique(idx)
        norms = np.linalg.norm(w[rows], ord=norm_type, axis=1, keepdims=True)
        scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1)
        w[rows] = w[rows] * scale
    keep = None if padding_idx is None else (idx != padding_idx)
    flat = idx.ravel()
    d = w.shape[1:]
    scale = None
    if scale_grad_by_freq:
        counts = np.bincount(flat, minlength=n)
        scale = (1.0 / np.maximum(counts[idx], 1)).astype(w.dtype)

    def gather(a):  # the derivative's forward: picked rows, zero where padding_idx
        out = a[idx]
        m = keep if scale is None else (scale if keep is None else scale * keep)
        return out if m is None else out * m.reshape(m.shape + (1,) * len(d))

    def scatter(g):
        g2 = g.reshape((flat.size, math.prod(d)))  # not -1: idx may be empty
        if keep is not None or scale is not None:
            m = np.ones(flat.size, g.dtype) if keep is None else keep.ravel().astype(g.dtype)
            if scale is not None:
                m = m * scale.ravel()
            g2 = g2 * m[:, None]
        cols = g2.shape[1]
        out = _conv._scatter_rows(g2.T.reshape(cols, flat.size), flat, n)
        return out.T.reshape((n,) + d)

    return _conv._linear(weight, gather, scatter, EmbeddingBackward0, out=w[idx])


class EmbeddingBagBackward0(_conv._LinearNode):
    """out[b] = reduction over bag b of the gathered rows (sum, mean or max, each linear
    in the rows once the bags and the max positions are fixed):  drows = g spread back"""

    __slots__ = ()


def _bag_ids(idx, offsets, include_last_offset):
    """Flat indices and the bag of each (bags in order), and the number of bags."""
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a "
                "mini-batch of fixed length sequences. However, found offsets of type "
                f"{type(offsets)}")
        b, length = idx.shape
        return idx.ravel(), np.repeat(np.arange(b), length), b
    if idx.ndim != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{idx.ndim}")
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    if offsets.dim() != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    off = np.asarray(offsets._data, dtype=np.int64)
    if off.size and off[0] != 0:
        raise RuntimeError(
            "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
            f"from position 0. However, got {off[0]}\n[ torch."
            f"{'Int' if offsets._data.dtype == np.int32 else 'Long'}Tensor{{}} ]")
    if off.size and off[-1] > idx.size:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {idx.size} but "
                           f"got offsets[-1] of {off[-1]}")
    starts = off[:-1] if include_last_offset else off
    # entry j belongs to the last bag starting at or before j (the last bag runs to the end
    # of the input, as in PyTorch's CPU kernel, even past a last offset that stops short)
    bag = np.searchsorted(starts, np.arange(idx.size), side="right") - 1
    return idx, bag, len(starts)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2.0,
                  scale_grad_by_freq=False, mode="mean", sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """Sum, mean or max of the rows of ``weight`` picked by each bag of indices.

    Bags are the rows of a 2-D ``input``, or ``input[offsets[i]:offsets[i + 1]]`` of a 1-D
    one. Entries equal to ``padding_idx`` are left out (a mean divides by the rest); an empty
    bag gives zeros. ``per_sample_weights`` (mode 'sum' only) scales each entry.

    >>> import chainrule as torch
    >>> w = torch.arange(8.0).reshape(4, 2)
    >>> torch.nn.functional.embedding_bag(torch.tensor([0, 1, 3]), w, torch.tensor([0, 2]))
    tensor([[1., 2.],
            [6., 7.]])
    """
    w = weight._data
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    if w.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {w.ndim}")
    if idx.dtype.kind not in "iu":
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                           "following scalar types: Long, Int; but got "
                           f"torch.{_type_name(idx)}Tensor instead (while checking "
                           "arguments for embedding_bag)")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(
                "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                f"supported for mode='sum' (got mode='{mode}'). Please open a feature request "
                "on GitHub.")
        if tuple(per_sample_weights.shape) != idx.shape:
            raise ValueError(
                f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not "
                f"None, then it must have the same shape as the input ({input.shape})")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    flat, bag, nbags = _bag_ids(idx, offsets, include_last_offset)
    n = w.shape[0]
    if flat.size and (flat.min() < 0 or flat.max() >= n):
        j = int(np.flatnonzero((flat < 0) | (flat >= n))[0])
        if w.dtype == np.float32 and mode != "max" and padding_idx is None:  # torch's fast path
            raise RuntimeError(f"Index {j} of input takes value {flat[j]} which is not in the "
                               f"valid range [0, {n})")
        raise RuntimeError("embedding_bag: Expected idx >= 0 && idx < num_embeddings but found "
                           f"idx to be {flat[j]}")
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise AssertionError("padding_idx must be within num_embeddings")
        keep = flat != padding_idx % n
    else:
        keep = np.ones(flat.shape, bool)
    count = np.bincount(bag[keep], minlength=nbags)
    rows = embedding(_const(flat), weight, None, max_norm, norm_type, scale_grad_by_freq)
    if mode == "max":
        return _bag_max(rows, bag, keep, count, nbags)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape(-1, 1)
    c = keep.astype(w.dtype)
    if mode == "mean":
        c = (c / np.maximum(count, 1)[bag]).astype(w.dtype)
    c = c[:, None]

    def bag_sum(a):  # (N, D) rows -> (B, D): each row times c, summed into its bag
        return _conv._scatter_rows(np.ascontiguousarray((a * c).T), bag, nbags).T

    return _conv._linear(rows, bag_sum, lambda g: g[bag] * c, EmbeddingBagBackward0)


def _bag_max(rows, bag, keep, count, nbags):
    """Each bag's elementwise max of its kept rows (zeros for an empty bag); the gradient
    goes to the first row holding the max, as in PyTorch."""
    a = rows._data
    n, dim = a.shape
    if not keep.any():  # no row in any bag: zeros (and no gradient flows anywhere)
        return _conv._linear(rows, lambda x: np.zeros((nbags, dim), x.dtype),
                             lambda g: np.zeros((n, dim), g.dtype), EmbeddingBagBackward0)
    width = max(int(count.max()) if count.size else 0, 1)
    kept = np.flatnonzero(keep)
    kbag = bag[kept]
    # slot of each kept entry in its bag: its rank among the kept entries of that bag
    first = np.searchsorted(kbag, np.arange(nbags))
    slot = np.arange(kept.size) - first[kbag]
    pos = np.full((nbags, width), -1)
    pos[kbag, slot] = kept
    vals = np.where((pos >= 0)[..., None], a[np.maximum(pos, 0)], -np.inf)  # (B, L, D)
    best = vals.argmax(1)  # (B, D): the first maximal slot
    full = (count > 0)[:, None]
    src = np.where(full, np.take_along_axis(pos, best, 1), 0)  # (B, D): the entry per column
    lin = src * dim + np.arange(dim)

    def pick(x):
        return np.where(full, x.reshape(-1)[lin], 0).astype(x.dtype, copy=False)

    def spread(g):
        gw = np.where(full, g, 0).ravel()
        return np.bincount(lin.ravel(), gw, minlength=n * dim).reshape(n, dim).astype(
            g.dtype, copy=False)

    return _conv._linear(rows, pick, spread, EmbeddingBagBackward0)


def _type_name(a: np.ndarray) -> str:
    return {"f": "Float", "b": "Bool"}.get(a.dtype.kind, "Long") if a.dtype != np.float64 \
        else "Double"


def one_hot(tensor, num_classes=-1):
    """(..., ) int64 class indices -> (..., num_classes) int64 one-hot rows.

    >>> import chainrule as torch
    >>> torch.nn.functional.one_hot(torch.tensor([0, 2]), 3)
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    idx = tensor._data
    if idx.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if idx.size and idx.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    elif idx.size and idx.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = (idx[..., None] == np.arange(num_classes)).astype(np.int64)
    return _make(out, False, None)


# ======================================================================================
# Interpolation: the kernels of ops/conv.py (nearest 1-D/2-D, linear, bilinear), plus the
# modes it lacks, each separable: one (out, in) matrix (or index) per spatial dim
# ======================================================================================
_INTERP_MODES = ("nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
                 "nearest-exact")
_INTERP_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
UpsampleBicubic2DBackward0 = _conv._linear_node("UpsampleBicubic2DBackward0")
UpsampleTrilinear3DBackward0 = _conv._linear_node("UpsampleTrilinear3DBackward0")
UpsampleBilinear2DAaBackward0 = _conv._linear_node("UpsampleBilinear2DAaBackward0")
UpsampleBicubic2DAaBackward0 = _conv._linear_node("UpsampleBicubic2DAaBackward0")


def _cubic_matrix(n_in, n_out, scale, align_corners, dtype):
    """(n_out, n_in) matrix of PyTorch's bicubic rule: Keys' cubic convolution with
    A = -0.75 over the taps floor(src) - 1 .. floor(src) + 2, clamped to the borders."""
    dst = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        src = (dst + 0.5) * scale - 0.5  # unlike linear, not clamped at 0
    i0 = np.floor(src)
    t = src - i0
    a = -0.75

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    w = np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], 1)
    cols = np.clip(i0.astype(np.int64)[:, None] + np.arange(-1, 3), 0, n_in - 1)
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.repeat(np.arange(n_out), 4), cols.ravel()), w.ravel())
    return m.astype(dtype)


def _antialias_matrix(n_in, n_out, scale, mode, dtype):
    """(n_out, n_in) matrix of PyTorch's antialiased resampling: output i averages the
    inputs within the filter's support around ``scale * (i + 0.5)`` (the triangle for
    bilinear, Keys' cubic with A = -0.5 for bicubic), the filter stretched by ``scale``
    when downsampling, the weights normalized to sum to one."""
    half = 1.0 if mode == "bilinear" else 2.0
    support = half * scale if scale >= 1 else half
    invscale = 1 / scale if scale >= 1 else 1.0
    center = scale * (np.arange(n_out) + 0.5)
    lo = np.maximum((center - support + 0.5).astype(np.int64), 0)
    hi = np.minimum((center + support + 0.5).astype(np.int64), n_in)
    cols = lo[:, None] + np.arange(max(int((hi - lo).max()), 0) if n_out else 0)
    x = np.abs((cols - center[:, None] + 0.5) * invscale)
    if mode == "bilinear":
        w = np.maximum(0.0, 1 - x)
    else:
        a = -0.5
        w = np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                     np.where(x < 2, (((x - 5) * x + 8) * x - 4) * a, 0.0))
    w = np.where(cols < hi[:, None], w, 0.0)
    total = w.sum(1, keepdims=True)
    w = np.divide(w, total, out=np.zeros_like(w), where=total != 0)
    m = np.zeros((n_out, n_in))
    keep = cols < hi[:, None]
    m[np.nonzero(keep)[0], cols[keep]] = w[keep]
    return m.astype(dtype)


def _along_spatial(a, mats):
    """Apply ``mats[i]`` (out_i, in_i) along spatial dim i of the (N, C, ...) array ``a``."""
    for i, m in enumerate(mats):
        a = np.moveaxis(np.moveaxis(a, 2 + i, -1) @ m.T, -1, 2 + i)
    return a


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of an (N, C, d1[, d2[, d3]]) tensor.

    Modes: 'nearest', 'nearest-exact', 'area' (any of 1-3 spatial dims), 'linear' (1),
    'bilinear' and 'bicubic' (2, also ``antialias=True``), 'trilinear' (3), with
    PyTorch's source-index rules.

    >>> import chainrule as torch
    >>> x = torch.tensor([[[[0.0, 1.0], [2.0, 3.0]]]])
    >>> torch.nn.functional.interpolate(x, scale_factor=2, mode="bicubic").shape
    torch.Size([1, 1, 4, 4])
    """
    x = input._data
    nd = x.ndim - 2
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    else:
        align_corners = bool(align_corners)
    sp = list(x.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)) and len(size) != nd:
            raise ValueError(
                "Input and output must have the same number of spatial dimensions, but got "
                f"input with spatial dimensions of {sp} and output size of {size}. Please "
                "provide input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                "(o1, o2, ...,oK) format.")
        out = [int(v) for v in size] if isinstance(size, (list, tuple)) else [int(size)] * nd
        sf = None
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)) and len(scale_factor) != nd:
            raise ValueError(
                "Input and scale_factor must have the same number of spatial dimensions, but "
                f"got input with spatial dimensions of {sp} and scale_factor of shape "
                f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                "and scale_factor in (s1, s2, ...,sK) format.")
        sf = [float(v) for v in scale_factor] if isinstance(scale_factor, (list, tuple)) \
            else [float(scale_factor)] * nd
        out = [math.floor(sp[i] * sf[i]) for i in range(nd)]
        if recompute_scale_factor or mode == "area":
            sf = None  # the kernels then use in / out
    else:
        raise ValueError("either size or scale_factor should be defined")
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and x.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")
    need = _INTERP_DIMS.get(mode)
    if need is not None and nd in (1, 2, 3) and nd != need and mode != "bicubic":
        raise NotImplementedError(f"Got {x.ndim}D input, but {mode} mode needs {need + 2}D "
                                  "input")
    if nd not in (1, 2, 3) or (need is None and mode not in ("nearest", "nearest-exact", "area")) \
            or (mode == "bicubic" and nd != 2):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {x.ndim}D) for the modes: {_INTERP_MODES} (got {mode})")
    if mode == "area":
        pool = (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[nd - 1]
        return pool(input, out if nd > 1 else out[0])
    if mode in ("nearest", "nearest-exact") or nd < 3 and (
            mode == "linear" or mode == "bilinear" and not antialias):
        return _conv.interpolate(input, size, scale_factor, mode, align_corners,
                                 recompute_scale_factor)
    # per-dim scale (in / out, or 1 / scale_factor when one was given and kept)
    scales = [1.0 / sf[i] if sf is not None and sf[i] > 0 else sp[i] / out[i] if out[i] else 0.0
              for i in range(nd)]
    if x.dtype.kind not in "fc":
        kind = "cubic" if mode == "bicubic" else "linear"
        raise NotImplementedError(f'"compute_indices_weights_{kind}" not implemented for '
                                  f"'{_type_name(x)}'")
    if antialias:
        # the source scale as the plain modes compute it ((in - 1) / (out - 1) with
        # align_corners), the filter centred without the align_corners shift, like torch
        aa = [((sp[i] - 1) / (out[i] - 1) if out[i] > 1 else 0.0) if align_corners
              else scales[i] for i in range(nd)]
        mats = [_antialias_matrix(sp[i], out[i], aa[i], mode, x.dtype) for i in range(nd)]
        cls = UpsampleBilinear2DAaBackward0 if mode == "bilinear" \
            else UpsampleBicubic2DAaBackward0
        return _conv._linear(input, lambda a: _along_spatial(a, mats),
                             lambda g: _along_spatial(g, [m.T for m in mats]), cls)
    build = _cubic_matrix if mode == "bicubic" else _conv._linear_matrix
    mats = [build(sp[i], out[i], scales[i], align_corners, x.dtype) for i in range(nd)]
    cls = UpsampleBicubic2DBackward0 if mode == "bicubic" else UpsampleTrilinear3DBackward0
    return _conv._linear(input, lambda a: _along_spatial(a, mats),
                         lambda g: _along_spatial(g, [m.T for m in mats]), cls)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated spelling of ``interpolate``."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode="nearest")``."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode="bilinear", align_corners=True)``."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# The explicit ``*_with_indices`` spellings: (values, indices) always.
def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    return adaptive_max_pool3d(input, output_size, True)


# ======================================================================================
# Spatial transformers: affine_grid builds sampling grids, grid_sample reads the input at
# them. Compositions of ops: each coordinate is the grid times a constant slope plus a
# constant offset (padding modes clip and reflect it), and bilinear weights multiply the
# gathered corners, so gradients reach both the input and the grid.
# ======================================================================================
def _default_align_corners(align_corners):
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to "
                      "align_corners=False since 1.3.0. Please specify align_corners=True if "
                      "the old behavior is desired. See the documentation of grid_sample for "
                      "details.", UserWarning, stacklevel=3)
        return False
    return align_corners


def _base_coords(n: int, align_corners: bool) -> np.ndarray:
    if n <= 1:
        return np.zeros(n)
    c = np.linspace(-1.0, 1.0, n)
    return c if align_corners else c * (n - 1) / n


def affine_grid(theta, size, align_corners=None):
    """Sampling grid (N, H, W, 2) or (N, D, H, W, 3) of the affine maps ``theta``.

    >>> import chainrule as torch
    >>> grid = torch.nn.functional.affine_grid(torch.eye(2, 3)[None], (1, 1, 2, 2), False)
    >>> grid[0, 0].tolist()
    [[-0.5, -0.5], [0.5, -0.5]]
    """
    align_corners = _default_align_corners(align_corners)
    size = tuple(int(s) for s in size)
    if not theta.dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    nd = len(size) - 2
    if nd not in (2, 3):
        raise NotImplementedError(
            f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
            f"respectively. Got size {size}.")
    if theta.dim() != 3 or tuple(theta.shape[1:]) != (nd, nd + 1):
        raise ValueError(
            f"Expected a batch of {nd}D affine matrices of shape Nx{nd}x{nd + 1} for size "
            f"{size}. Got {theta.shape}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    sp = size[2:]
    axes = [_base_coords(n, align_corners) for n in reversed(sp)]  # x (W), y (H), z (D)
    mesh = np.meshgrid(*reversed(axes), indexing="ij")  # each of shape sp
    base = np.stack([m for m in reversed(mesh)] + [np.ones(sp)], -1).reshape(-1, nd + 1)
    base = _const(base.astype(theta._data.dtype))
    grid = base.matmul(theta.transpose(1, 2))  # (N, prod(sp), nd)
    return grid.reshape((size[0],) + sp + (nd,))


def _unnormalize(c: Tensor, n: int, align_corners: bool) -> Tensor:
    if align_corners:
        return (c + 1) * ((n - 1) / 2)
    return ((c + 1) * n - 1) / 2


def _reflect_np(x: np.ndarray, twice_low: int, twice_high: int):
    """Reflect ``x`` into [low, high]: the reflected value and its slope (+1 or -1)."""
    if twice_low == twice_high:
        return np.zeros_like(x), np.zeros_like(x)
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    slope = np.where(x < low, -1.0, 1.0)
    d = np.abs(x - low)
    flips = np.floor(d / span)
    extra = np.fmod(d, span)
    odd = (flips % 2) == 1
    return np.where(odd, span - extra + low, extra + low), np.where(odd, -slope, slope)


def _pad_coord_np(x: np.ndarray, n: int, padding_mode: str, align_corners: bool):
    """Pixel positions ``x`` moved inside [0, n - 1] by border or reflection padding: the new
    positions and their slopes (0 where clipped: torch counts the border as outside)."""
    slope = np.ones_like(x)
    if padding_mode == "reflection":
        twice = (0, 2 * (n - 1)) if align_corners else (-1, 2 * n - 1)
        x, slope = _reflect_np(x, *twice)
    inside = (x > 0) & (x < n - 1)
    return np.clip(x, 0, n - 1), np.where(inside, slope, 0.0).astype(x.dtype)


def _source_coord(c: Tensor, n: int, padding_mode: str, align_corners: bool) -> Tensor:
    """The grid coordinate ``c`` in [-1, 1] as a pixel position, padded like torch."""
    x = _unnormalize(c, n, align_corners)
    if padding_mode == "zeros":
        return x
    padded, slope = _pad_coord_np(x._data, n, padding_mode, align_corners)
    # x * slope + offset has the padded value and the padded slope
    return x * _const(slope) + _const(padded - x._data * slope)


def _cubic_weights(t: Tensor) -> list:
    """The four cubic-convolution weights (A = -0.75) of taps at -1, 0, 1, 2 from ``t``."""
    a = -0.75

    def near(x):  # |x| <= 1
        return ((x * (a + 2) - (a + 3)) * x) * x + 1

    def far(x):  # 1 < |x| < 2
        return ((x * a - 5 * a) * x + 8 * a) * x - 4 * a
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` (N, C, H, W) or (N, C, D, H, W) at ``grid`` (N, ..., 2 or 3) in [-1, 1]
    (``mode`` bilinear, nearest, or bicubic for 4-D inputs).

    >>> import chainrule as torch
    >>> F = torch.nn.functional
    >>> x = torch.arange(4.0).reshape(1, 1, 2, 2)
    >>> grid = F.affine_grid(torch.eye(2, 3)[None], (1, 1, 2, 2), align_corners=False)
    >>> F.grid_sample(x, grid, align_corners=False).flatten().tolist()  # identity: x back
    [0.0, 1.0, 2.0, 3.0]
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    align_corners = _default_align_corners(align_corners)
    nd = input.dim() - 2
    sizes = f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}"
    if grid.shape[-1] != nd:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {nd} in last "
                           f"dimension, but got grid with sizes {list(grid.shape)}")
    if grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, "
                           f"but got {sizes}")
    if nd not in (2, 3) or grid.dim() != input.dim():
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number "
                           f"of dimensions, but got {sizes}")
    if mode == "bicubic" and nd != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    n, ch, *sp = input.shape
    out_sp = tuple(grid.shape[1:-1])
    q = math.prod(out_sp)
    g = grid.reshape(n, q, nd)
    # spatial dim i (D, H, W order) is read from grid component nd - 1 - i (x is W)
    comps = [g[:, :, nd - 1 - i] for i in range(nd)]
    flat_in = input.reshape(n, ch, -1)
    strides = [math.prod(sp[i + 1:]) for i in range(nd)]

    def corner(idx, weight):
        ok = np.logical_and.reduce([(k >= 0) & (k < sp[i]) for i, k in enumerate(idx)])
        flat = sum(np.where(ok, k, 0) * strides[i] for i, k in enumerate(idx))
        vals = flat_in.gather(2, _const(np.broadcast_to(flat[:, None, :], (n, ch, q))))
        w = weight * _const(ok.astype(input._data.dtype))
        return vals * w.unsqueeze(1)

    if mode == "bicubic":  # 4 x 4 taps around the unpadded position; each tap is padded
        raw = [_unnormalize(c, sp[i], align_corners) for i, c in enumerate(comps)]
        lo = [np.floor(c._data) for c in raw]
        wts = [_cubic_weights(c - _const(f)) for c, f in zip(raw, lo)]

        def tap(pos, i):
            if padding_mode != "zeros":
                pos = _pad_coord_np(pos, sp[i], padding_mode, align_corners)[0]
            return pos.astype(np.int64)
        out = None
        for a, b in np.ndindex(4, 4):
            term = corner([tap(lo[0] + a - 1, 0), tap(lo[1] + b - 1, 1)], wts[0][a] * wts[1][b])
            out = term if out is None else out + term
        return out.reshape((n, ch) + out_sp)
    coords = [_source_coord(c, sp[i], padding_mode, align_corners) for i, c in enumerate(comps)]
    if mode == "nearest":
        idx = [np.rint(c._data).astype(np.int64) for c in coords]  # half to even, as torch
        out = corner(idx, sum(c * 0 for c in coords) + 1)  # the grid's gradient is zero
    else:
        lo = [np.floor(c._data) for c in coords]
        frac = [c - _const(f) for c, f in zip(coords, lo)]
        out = None
        for bits in np.ndindex(*(2,) * nd):
            idx = [f.astype(np.int64) + b for f, b in zip(lo, bits)]
            w = None
            for fr, b in zip(frac, bits):
                wi = fr if b else 1 - fr
                w = wi if w is None else w * wi
            term = corner(idx, w)
            out = term if out is None else out + term
    return out.reshape((n, ch) + out_sp)


# ======================================================================================
# Losses
# ======================================================================================
def _reduction_arg(reduction, size_average=None, reduce=None):
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce_np(loss: np.ndarray, reduction: str, dtype) -> np.ndarray:
    if reduction == "mean":
        return np.asarray(loss.mean(), dtype=dtype)
    if reduction == "sum":
        return np.asarray(loss.sum(), dtype=dtype)
    return loss.astype(dtype, copy=False)


def _reduce_t(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


class _PointwiseLossNode(Node):
    """l = reduce(f(x, t)):  dx = g * df/dx,  dt = g * df/dt (summed back over broadcasting)"""

    __slots__ = ("count", "grads", "reduction", "shapes")
    saved_spec = (0, 1)

    def backward(self, g, x, t):
        fx, ft = self.next_functions
        if self.reduction == "mean":
            g = g / self.count
        dx, dt = self.grads(x, t, fx[0] is not None, ft[0] is not None)
        sx, st = self.shapes
        gx = None if dx is None else _sum_to_shape(g * dx, sx)
        gt = None if dt is None else _sum_to_shape(g * dt, st)
        return gx, gt

    def jvp(self, tangents, x, t):
        tx, tt = tangents
        dx, dt = self.grads(x, t, tx is not None, tt is not None)
        return _reduce_tangent(_tangent_sum(None if tx is None else dx * tx,
                                            None if tt is None else dt * tt),
                               self.reduction, self.count)


def _tangent_sum(*terms):
    """Sum of the tangent terms that are not None (None if all are)."""
    out = None
    for t in terms:
        if t is not None:
            out = t if out is None else out + t
    return out


def _reduce_tangent(t, reduction, count):
    """The loss reduction applied to an elementwise tangent."""
    if reduction == "none":
        return t
    t = t.sum()
    return t / count if reduction == "mean" else t


def _sum_to_shape(g, shape):
    return sum_to(g, shape) if tuple(g.shape) != tuple(shape) else g


def _loss_node(name: str):
    return type(name, (_PointwiseLossNode,), {"__slots__": (), "__module__": __name__})


MseLossBackward0 = _loss_node("MseLossBackward0")
L1LossBackward0 = _loss_node("L1LossBackward0")
SmoothL1LossBackward0 = _loss_node("SmoothL1LossBackward0")
HuberLossBackward0 = _loss_node("HuberLossBackward0")
SoftMarginLossBackward0 = _loss_node("SoftMarginLossBackward0")
BinaryCrossEntropyBackward0 = _loss_node("BinaryCrossEntropyBackward0")


def _pointwise_loss(node_cls, input, target, reduction, value, grads, name, warn=True,
                    weight=None):
    """Shared body of the elementwise losses: broadcast check, value, reduction, node."""
    if weight is not None:  # elementwise weights: the unreduced loss times weight
        loss = _pointwise_loss(node_cls, input, target, "none", value, grads, name, warn)
        wl = loss * weight
        if reduction == "mean" and name != "huber_loss":
            # PyTorch's weighted mse/l1 mean is sum(w l) / sum(w) (huber: mean(w l))
            if isinstance(weight, Tensor):
                return wl.sum() / weight.expand(wl.shape).sum()
            return wl.sum() / float(np.broadcast_to(np.asarray(weight), wl.shape).sum())
        return _reduce_t(wl, reduction)
    if not isinstance(target, Tensor):
        target = _tensor_like(target, input)
    x, t = input._data, target._data
    if x.shape != t.shape and warn:
        warnings.warn(f"Using a target size ({_size_repr(t.shape)}) that is different to the "
                      f"input size ({_size_repr(x.shape)}). This will likely lead to incorrect "
                      "results due to broadcasting. Please ensure they have the same size.",
                      UserWarning, stacklevel=3)
    try:
        shape = np.broadcast_shapes(x.shape, t.shape)
    except ValueError:
        raise broadcast_error(x.shape, t.shape) from None
    dt = np.result_type(x.dtype, t.dtype) if t.dtype.kind in "fc" else x.dtype
    x, t = _float(x), _float(t)
    loss = value(x, t)
    out = _reduce_np(loss, reduction, dt if dt.kind in "fc" else loss.dtype)
    n = int(np.prod(shape)) if shape else 1
    return _node(node_cls, (input, target), out, (x, t), reduction=reduction, count=n,
                 shapes=(x.shape, t.shape), grads=grads)


def _size_repr(shape) -> str:
    return f"torch.Size({list(shape)})"


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """mean((x - t)^2).

    >>> import chainrule as torch
    >>> torch.nn.functional.mse_loss(torch.tensor([1.0, 3.0]), torch.tensor([0.0, 0.0]))
    tensor(5.)
    """
    reduction = _reduction_arg(reduction, size_average, reduce)

    def grads(x, t, nx, nt):
        d = (x - t) * 2
        return (d if nx else None), (-d if nt else None)

    return _pointwise_loss(MseLossBackward0, input, target, reduction,
                           lambda x, t: (x - t) ** 2, grads, "mse_loss", weight=weight)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """mean(|x - t|)."""
    reduction = _reduction_arg(reduction, size_average, reduce)

    def grads(x, t, nx, nt):
        s = np.sign(_arr(x) - _arr(t))
        return (s if nx else None), (-s if nt else None)

    return _pointwise_loss(L1LossBackward0, input, target, reduction,
                           lambda x, t: np.abs(x - t), grads, "l1_loss", weight=weight)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, |d| - beta / 2 elsewhere (d = x - t)."""
    reduction = _reduction_arg(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)

    def value(x, t):
        d = np.abs(x - t)
        return np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)

    def grads(x, t, nx, nt):
        d = x - t
        da = _arr(d)
        inner = np.abs(da) < beta
        gd = d * (inner / beta) + np.sign(da) * ~inner
        return (gd if nx else None), (-gd if nt else None)

    return _pointwise_loss(SmoothL1LossBackward0, input, target, reduction, value, grads,
                           "smooth_l1_loss")


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, delta (|d| - delta / 2) elsewhere."""
    reduction = _reduction_arg(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")

    def value(x, t):
        d = np.abs(x - t)
        return np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))

    def grads(x, t, nx, nt):
        d = x - t
        da = _arr(d)
        inner = np.abs(da) < delta
        gd = d * inner + (np.sign(da) * delta) * ~inner
        return (gd if nx else None), (-gd if nt else None)

    return _pointwise_loss(HuberLossBackward0, input, target, reduction, value, grads,
                           "huber_loss", weight=weight)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """mean(log(1 + exp(-t x)))."""
    reduction = _reduction_arg(reduction, size_average, reduce)

    def grads(x, t, nx, nt):
        s = _sigmoid_np(-t * x) if _is_array(x) else _ew.sigmoid(-t * x)
        return (-t * s if nx else None), (-x * s if nt else None)

    return _pointwise_loss(SoftMarginLossBackward0, input, target, reduction,
                           lambda x, t: _softplus_np(-t * x), grads, "soft_margin_loss",
                           warn=False)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-w (t log x + (1 - t) log(1 - x)), each log clamped at -100 like PyTorch."""
    reduction = _reduction_arg(reduction, size_average, reduce)
    x, t = input._data, target._data if isinstance(target, Tensor) else np.asarray(target)
    if x.shape != t.shape:
        raise ValueError(f"Using a target size ({_size_repr(t.shape)}) that is different to "
                         f"the input size ({_size_repr(x.shape)}) is deprecated. Please ensure "
                         "they have the same size.")
    if x.size and ((x < 0).any() or (x > 1).any()):
        raise RuntimeError("all elements of input should be between 0 and 1")

    def value(x, t):
        with np.errstate(divide="ignore"):
            lx = np.maximum(np.log(x), -100)
            l1x = np.maximum(np.log1p(-x), -100)
        return -(t * lx + (1 - t) * l1x)

    def grads(x, t, nx, nt):
        xa = _arr(x)
        gx = gt = None
        if nx:  # PyTorch: (x - t) / max((1 - x) x, eps)
            if _is_array(x):
                gx = (x - t) / np.maximum((1 - xa) * xa, 1e-12)
            else:
                gx = (x - t) / ((1 - x) * x)
        if nt:
            if _is_array(x):
                with np.errstate(divide="ignore"):
                    gt = np.maximum(np.log1p(-xa), -100) - np.maximum(np.log(xa), -100)
            else:
                gt = _ew.log(1 - x) - _ew.log(x)
        return gx, gt

    if weight is None:
        return _pointwise_loss(BinaryCrossEntropyBackward0, input, target, reduction, value,
                               grads, "binary_cross_entropy", warn=False)
    loss = _pointwise_loss(BinaryCrossEntropyBackward0, input, target, "none", value, grads,
                           "binary_cross_entropy", warn=False)
    w = weight if isinstance(weight, Tensor) else _const(np.asarray(weight, x.dtype))
    try:
        np.broadcast_shapes(w.shape, x.shape)
    except ValueError:
        raise broadcast_error(x.shape, w.shape) from None
    return _reduce_t(loss * w, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || exp(input)) pointwise: t (log t - x), or exp(t) (t - x) if log_target."""
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", UserWarning, stacklevel=2)
    if reduction != "batchmean":
        reduction = _reduction_arg(reduction, size_average, reduce)
    if log_target:
        loss = _ew.exp(target) * (target - input)
    else:
        t = target._data
        pos = t > 0
        safe_log = _const(np.log(np.where(pos, t, 1)))
        if target._requires_grad:  # d/dt [t log t] = log t + 1: keep t differentiable
            safe_log = _xlogy_self(target)
            loss = safe_log - target * input
        else:
            loss = target * (safe_log - input)
    if reduction == "batchmean":
        n = input._data.shape[0] if input._data.ndim else 1
        return loss.sum() / n
    return _reduce_t(loss, reduction)


class XlogyBackward0(Node):
    """out = t log t (0 at t = 0):  dt = g (log t + 1)"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, t):
        ta = _arr(t)
        pos = ta > 0
        if _is_array(g):
            return (g * np.where(pos, np.log(np.where(pos, t, 1)) + 1, 0),)
        return (g * (_ew.log(t * pos + (~pos)) + 1) * pos,)

    jvp = _diagonal_jvp


def _xlogy_self(t: Tensor) -> Tensor:
    ta = t._data
    pos = ta > 0
    out = np.where(pos, ta * np.log(np.where(pos, ta, 1)), 0).astype(ta.dtype)
    return _node(XlogyBackward0, (t,), out, (ta,))


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """exp(x) - t x (log_input) or x - t log(x + eps), plus Stirling's term if ``full``."""
    reduction = _reduction_arg(reduction, size_average, reduce)
    if log_input:
        loss = _ew.exp(input) - target * input
    else:
        loss = input - target * _ew.log(input + eps)
    if full:  # Stirling's approximation of log(t!), where t > 1 (differentiable in t)
        big = target._data > 1
        m = _const(big.astype(input._data.dtype))
        ts = target * m + _const((~big).astype(input._data.dtype))  # 1 where t <= 1
        loss = loss + (ts * _ew.log(ts) - ts + _ew.log(ts * (2 * math.pi)) * 0.5) * m
    return _reduce_t(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log(max(var, eps)) + (x - t)^2 / max(var, eps)) (+ 0.5 log(2 pi) if ``full``)."""
    if not isinstance(var, Tensor):
        var = _tensor_like(float(var), input)
        var = var * _const(np.ones(input._data.shape, input._data.dtype))
    xs, vs = input._data.shape, var._data.shape
    if vs != xs:
        if xs[:-1] == vs:
            var = var.unsqueeze(-1)
        elif xs[:-1] == vs[:-1] and vs[-1] == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    if (var._data < 0).any():
        raise ValueError("var has negative entry/entries")
    vd = var._data
    clamped = vd < eps
    v = var * _const(~clamped) + _const((clamped * eps).astype(vd.dtype))  # clamp, no grad
    d = input - target
    loss = (_ew.log(v) + d * d / v) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce_t(loss, reduction)


def _abs(x: Tensor) -> Tensor:
    return x * _const(np.sign(x._data))


def _relu_t(x: Tensor) -> Tensor:
    return _ew.relu(x)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -t (x1 - x2) + margin)."""
    reduction = _reduction_arg(reduction, size_average, reduce)
    if not (input1.ndim == input2.ndim == target.ndim):
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {_size_repr(input1.shape)}, input2: {_size_repr(input2.shape)}, "
            f"target: {_size_repr(target.shape)} ")
    return _reduce_t(_relu_t(-target * (input1 - input2) + margin), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """x where t == 1, max(0, margin - x) where t == -1."""
    reduction = _reduction_arg(reduction, size_average, reduce)
    t = target._data
    pos = _const((t == 1).astype(input._data.dtype))
    neg = _const((t == -1).astype(input._data.dtype))
    loss = input * pos + _relu_t(-input + margin) * neg
    return _reduce_t(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(x1, x2) where t == 1, max(0, cos(x1, x2) - margin) where t == -1."""
    reduction = _reduction_arg(reduction, size_average, reduce)
    a, b = input1._data, input2._data
    if a.shape != b.shape:
        raise broadcast_error(a.shape, b.shape)
    if target._data.shape != a.shape[:-1]:
        raise broadcast_error(a.shape[:-1], target._data.shape)
    eps = 1e-12
    d = a.ndim - 1
    prod = (input1 * input2).sum(d)
    m1 = (input1 * input1).sum(d) + eps
    m2 = (input2 * input2).sum(d) + eps
    cos = prod / (m1 * m2) ** 0.5
    t = target._data
    pos = _const((t == 1).astype(a.dtype))
    neg = _const((t == -1).astype(a.dtype))
    loss = (1 - cos) * pos + _relu_t(cos - margin) * neg
    return _reduce_t(loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """-mean_c [t log sigmoid(x) + (1 - t) log sigmoid(-x)] per sample."""
    reduction = _reduction_arg(reduction, size_average, reduce)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    c = input._data.shape[-1] if input._data.ndim else 1
    loss = loss.sum(input.ndim - 1) / c if input.ndim else loss
    return _reduce_t(loss, reduction)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim."""
    d = x1 - x2 + eps
    return _pnorm(d, p, -1, keepdim)


def _pnorm(d: Tensor, p, dim, keepdim):
    a = d._data
    dim = canon_dim(dim, max(a.ndim, 1)) if a.ndim else 0
    if a.ndim == 0:
        d = d.reshape(1)
        dim = 0
    if p == 2:
        s = (d * d).sum(dim, keepdim)
        sd = s._data
        zero = sd == 0  # the gradient of sqrt at 0 is set to 0 (PyTorch's norm does this)
        if zero.any():
            return (s + _const(zero.astype(sd.dtype))) ** 0.5 * _const(~zero)
        return s ** 0.5
    if p == 1:
        return _abs(d).sum(dim, keepdim)
    if p == float("inf"):
        a = d._data
        m = np.abs(a)
        hit = m == m.max(axis=dim, keepdims=True)
        hit = hit / hit.sum(axis=dim, keepdims=True)
        return (_abs(d) * _const(hit.astype(a.dtype))).sum(dim, keepdim)
    if p == 0:
        return _const((d._data != 0).sum(axis=dim, keepdims=keepdim).astype(d._data.dtype))
    s = (_abs(d) ** p).sum(dim, keepdim)
    return s ** (1.0 / p)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with d the pairwise p-norm distance."""
    reduction = _reduction_arg(reduction, size_average, reduce)
    nd = (anchor.ndim, positive.ndim, negative.ndim)
    if not nd[0] == nd[1] == nd[2]:
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {nd[0]}D, positive "
                           f"{nd[1]}D, and negative {nd[2]}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_swap = pairwise_distance(positive, negative, p, eps)
        use = _const(d_swap._data < d_neg._data)
        d_neg = d_neg + (d_swap - d_neg) * use
    return _reduce_t(_relu_t(d_pos - d_neg + margin), reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum over targets j and non-targets i of max(0, 1 - (x[j] - x[i])), divided by C.

    ``target`` holds class indices per sample, ended by the first -1.

    >>> import chainrule as torch
    >>> x = torch.tensor([[0.1, 0.2, 0.4, 0.8]])
    >>> y = torch.tensor([[3, 0, -1, 1]])  # classes 3 and 0; the rest is ignored
    >>> round(torch.nn.functional.multilabel_margin_loss(x, y).item(), 4)
    0.85
    """
    reduction = _reduction_arg(reduction, size_average, reduce)
    if input.ndim > 2 or tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(f"inconsistent target size: {shape_str(target.shape)} for input of "
                           f"size: {shape_str(input.shape)}")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    n, c = x._data.shape
    t = np.asarray(target._data, np.int64).reshape(n, c)
    if ((t < -1) | (t >= c)).any():
        raise RuntimeError(f"multilabel_margin_loss: target values must lie in [-1, {c - 1}]")
    valid = np.cumprod(t >= 0, axis=1).astype(bool)  # entries before the first -1
    counts = np.zeros((n, c))
    np.add.at(counts, (np.nonzero(valid)[0], t[valid]), 1)  # a repeated target counts twice
    pairs = counts[:, :, None] * (counts == 0)[:, None, :]  # [sample, target j, other i]
    diff = 1 - x.unsqueeze(2) + x.unsqueeze(1)
    loss = (_relu_t(diff) * _const(pairs.astype(x._data.dtype))).sum((1, 2)) / c
    if input.ndim < 2:
        loss = loss.reshape(())
    return _reduce_t(loss, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) for any distance ``d`` (pairwise_distance by default).

    >>> import chainrule as torch
    >>> a, p, n = torch.zeros(1, 2), torch.ones(1, 2), torch.full((1, 2), 3.0)
    >>> torch.nn.functional.triplet_margin_with_distance_loss(
    ...     a, p, n, distance_function=lambda x, y: (x - y).abs().sum(-1)).item()
    0.0
    """
    if margin <= 0:
        raise ValueError(f"triplet_margin_with_distance_loss: expected margin to be greater "
                         f"than 0, got {margin} instead")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    nd = (anchor.ndim, positive.ndim, negative.ndim)
    if not nd[0] == nd[1] == nd[2]:
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {nd[0]}D, positive "
                           f"{nd[1]}D, and negative {nd[2]}D inputs")
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_swap = dist(positive, negative)
        use = _const(d_swap._data < d_neg._data)
        d_neg = d_neg + (d_swap - d_neg) * use
    return _reduce_t(_relu_t(d_pos - d_neg + margin), reduction)


def pdist(input, p=2.0):
    """p-norm distances between the rows of ``input`` (N, M): the N (N - 1) / 2 pairs i < j.

    >>> import chainrule as torch
    >>> torch.nn.functional.pdist(torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 4.0]])).tolist()
    [5.0, 4.0, 3.0]
    """
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    i, j = np.triu_indices(input.shape[0], 1)
    d = input[_const(i)] - input[_const(j)]
    if p == 0:  # a count: connected to the input, with a zero gradient (as torch)
        return (d * 0).sum(-1) + _const((d._data != 0).sum(-1).astype(d._data.dtype))
    if p == float("inf"):  # torch's pdist gives every tied maximum the full gradient
        m = np.abs(d._data)
        top = m.max(axis=-1, keepdims=True) if m.shape[-1] else np.zeros(m.shape[:-1] + (1,))
        hit = (m == top) & (top > 0)
        extra = (hit.sum(-1) - 1).clip(0) * top[..., 0]  # the ties' sum minus one maximum
        return (_abs(d) * _const(hit.astype(m.dtype))).sum(-1) - _const(extra.astype(m.dtype))
    if p in (1, 2):
        return _pnorm(d, p, -1, False)
    same = (d._data == 0).all(-1, keepdims=True)  # equal rows: distance 0, gradient 0
    if not same.any():
        return _pnorm(d, p, -1, False)
    dist = _pnorm(d + _const(same.astype(d._data.dtype)), p, -1, False)
    return dist * _const(~same[:, 0])


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """sum_{i != y} max(0, margin - x[y] + x[i])^p / C per sample."""
    reduction = _reduction_arg(reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    x = input if input.ndim == 2 else input.reshape(1, -1)
    y = target._data.reshape(-1)
    n, c = x._data.shape
    onehot = np.zeros((n, c), x._data.dtype)
    onehot[np.arange(n), y] = 1
    xy = (x * _const(onehot)).sum(1, True)
    m = _relu_t(x - xy + margin) * _const(1 - onehot)
    if p == 2:
        m = m * m
    if weight is not None:
        m = m * _const(weight._data[y][:, None])
    loss = m.sum(1) / c
    if input.ndim < 2:
        loss = loss.reshape(())
    return _reduce_t(loss, reduction)


# -- cross entropy and nll: dense coefficients A, loss = sum(A * log p) -------------------
def _class_targets(name, x: np.ndarray, target: Tensor, weight, ignore_index):
    """Check class-index targets; return (y with ignored rows set to 0, valid mask, w_y)."""
    y = target._data
    if y.dtype.kind not in "iu" or y.dtype == np.bool_:
        from ..ops.linalg import _scalar_name

        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{_scalar_name(y.dtype)}")
    if x.ndim == 1:
        if y.ndim != 0:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    else:
        if y.ndim == 0 or (x.ndim == 2 and y.ndim != 1):
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if x.shape[0] != y.shape[0]:
            raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target "
                             f"batch_size ({y.shape[0]}).")
        if x.ndim > 2 and y.shape[1:] != x.shape[2:]:
            raise RuntimeError(f"Expected target size {shape_str(x.shape[:1] + x.shape[2:])}, "
                               f"got {shape_str(y.shape)}")
    c = x.shape[0] if x.ndim == 1 else x.shape[1]
    if weight is not None and weight._data.shape != (c,):
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no "
                           f"classes but got weight tensor of shape: "
                           f"{shape_str(weight._data.shape)}")
    valid = y != ignore_index
    bad = valid & ((y < 0) | (y >= c))
    if bad.any():
        raise IndexError(f"Target {int(y[bad].ravel()[0])} is out of bounds.")
    ys = np.where(valid, y, 0)
    wy = valid.astype(x.dtype) if weight is None else weight._data[ys] * valid
    return ys, valid, wy


def _class_coeffs(x, ys, valid, wy, weight, smoothing, den):
    """A with loss = sum(A * log p): -(1 - eps) w_y at the target, -eps w_c / C everywhere
    (rows of ignored targets are 0); divided by ``den`` (1 unless reduction='mean')."""
    cax = 0 if x.ndim == 1 else 1
    c = x.shape[cax]
    a = np.zeros(x.shape, x.dtype)
    coef = (-(1 - smoothing) / den) * wy
    if x.ndim == 2:
        a[np.arange(x.shape[0]), ys] = coef
    else:
        np.put_along_axis(a, np.expand_dims(ys, cax), np.expand_dims(coef, cax).astype(x.dtype),
                          axis=cax)
    if smoothing:
        wc = np.ones(c, x.dtype) if weight is None else weight._data
        wc = wc.reshape((c,) + (1,) * (x.ndim - 1 - cax))
        a -= (smoothing / (c * den)) * wc * np.expand_dims(valid, cax)
    return a


def _pick(a, ys, cax):
    """a[..., ys, ...] along the class axis."""
    if a.ndim == 2:
        return a[np.arange(a.shape[0]), ys]
    return np.take_along_axis(a, np.expand_dims(ys, cax), axis=cax).squeeze(cax)


def _safe_den(den):
    return den if den != 0 else np.nan  # all targets ignored: nan, like PyTorch


class _CrossEntropyNode(Node):
    """loss = sum(A * log_softmax(x)) (A: coefficients from targets, weights, smoothing):
    dx = gA - softmax(x) * sum(gA, classes);  d(soft target) = g * dA/dt * log_softmax(x)"""

    __slots__ = ("aconst", "cax", "reduction", "tcoef")
    saved_spec = (0, 1, CONST, CONST)

    def backward(self, g, x, t, p, a):
        fx, ft = self.next_functions
        cax = self.cax
        if self.reduction == "none" and g.ndim:
            g = g.reshape(g.shape[:cax] + (1,) + g.shape[cax:])
        if self.tcoef is not None and not _is_array(g) and t is not None:
            a = t * self.tcoef + self.aconst  # soft targets: A stays differentiable in t
        ga = g * a
        gx = gt = None
        if _is_array(g):
            if fx[0] is not None:
                gx = ga - p * ga.sum(axis=cax, keepdims=True)
            if ft[0] is not None:
                gt = g * self.tcoef * _log_softmax_np(x, cax)
            return gx, gt
        logp = log_softmax(x, cax)
        if fx[0] is not None:
            gx = ga - _ew.exp(logp) * ga.sum(axis=cax, keepdims=True)
        if ft[0] is not None:
            gt = g * self.tcoef * logp
        return gx, gt

    def jvp(self, tangents, x, t, p, a):
        """loss = sum(A log_softmax(x)): d = sum(A (tx - sum(p tx))) + sum(dA/dt tt logp)."""
        tx, tt = tangents
        cax = self.cax
        arrays = _is_array(x)
        if self.tcoef is not None and not arrays and t is not None:
            a = t * self.tcoef + self.aconst  # soft targets: A stays differentiable in t
        out = None
        if tx is not None:
            out = a * (tx - (p * tx).sum(axis=cax, keepdims=True))
        if tt is not None:
            logp = _log_softmax_np(x, cax) if arrays else log_softmax(x, cax)
            out = _tangent_sum(out, tt * self.tcoef * logp)
        return out.sum(axis=cax) if self.reduction == "none" else out.sum()


_CrossEntropyNode.__name__ = _CrossEntropyNode.__qualname__ = "NllLossBackward0"


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """log_softmax + nll_loss in one stable node; targets are class indices or probabilities.

    >>> import chainrule as torch
    >>> F = torch.nn.functional
    >>> round(F.cross_entropy(torch.zeros(2, 4), torch.tensor([0, 3])).item(), 4)
    1.3863
    """
    reduction = _reduction_arg(reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    x = _float(input._data)
    if x.ndim == 0:
        raise RuntimeError("cross_entropy: input must have at least 1 dimension")
    cax = 0 if x.ndim == 1 else 1
    c = x.shape[cax]
    td = target._data
    if td.dtype.kind == "f" and td.shape == x.shape:
        if weight is not None and weight._data.shape != (c,):
            raise RuntimeError(f"weight tensor should be defined either for all {c} classes or "
                               f"no classes but got weight tensor of shape: "
                               f"{shape_str(weight._data.shape)}")
        wc = np.ones((), x.dtype) if weight is None else \
            weight._data.reshape((c,) + (1,) * (x.ndim - 1 - cax))
        den = (x.size // c if c else 1) if reduction == "mean" else 1
        tcoef = np.asarray(-(1 - label_smoothing) * wc / den, x.dtype)
        aconst = np.asarray(-(label_smoothing / c) * wc / den, x.dtype)
        a = (td * tcoef + aconst).astype(x.dtype)
        t_in, t_saved = target, td
    else:
        if td.dtype.kind == "f":
            if td.ndim == x.ndim:
                raise RuntimeError(f"Expected target size {shape_str(x.shape)}, got "
                                   f"{shape_str(td.shape)}")
            raise RuntimeError("expected scalar type Long but found "
                               f"{_dtype.from_numpy_dtype(td.dtype).name.capitalize()}")
        if td.shape == x.shape and x.ndim > 1 and td.dtype.kind in "iu":
            raise RuntimeError("Expected floating point type for target with class "
                               "probabilities, got Long")
        ys, valid, wy = _class_targets("cross_entropy", x, target, weight, ignore_index)
        tcoef, aconst, t_in, t_saved = None, None, None, None
    need = grad_state.enabled and (input._requires_grad or (
        t_in is not None and t_in._requires_grad))
    if need:
        logp, p = _log_softmax_np(x, cax, True)
    else:
        logp, p = _log_softmax_np(x, cax), None
    if t_in is None:
        # loss_i = -w_y (1 - eps) logp[y] - eps / C sum_c w_c logp_c   (0 for ignored rows)
        picked = _pick(logp, ys, cax)
        terms = picked * (-(1 - label_smoothing) * wy)
        if label_smoothing:
            wc = logp if weight is None else logp * weight._data.reshape(
                (c,) + (1,) * (x.ndim - 1 - cax))
            terms = terms - (label_smoothing / c) * wc.sum(axis=cax) * valid
        if not valid.all():
            terms = np.where(valid, terms, 0)
        den = _safe_den(wy.sum()) if reduction == "mean" else 1
        loss = terms if reduction == "none" else terms.sum() / den
        if need:  # all targets ignored (den nan): zero gradient, like PyTorch
            a = _class_coeffs(x, ys, valid, wy, weight, label_smoothing,
                              1 if np.isnan(den) else den)
    else:
        prod = a * logp
        loss = prod.sum(axis=cax) if reduction == "none" else prod.sum()
    out = np.asarray(loss, dtype=x.dtype)
    if not need:
        return _make(out, False, None)
    return _node(_CrossEntropyNode, (input, t_in), out, (x, t_saved, p, a), cax=cax,
                 reduction=reduction, tcoef=tcoef, aconst=aconst)


class NllLossBackward0(Node):
    """loss = sum(A * x) (A from targets and weights):  dx = g * A"""

    __slots__ = ("cax", "reduction")
    saved_spec = (CONST,)

    def backward(self, g, a):
        if self.reduction == "none" and g.ndim:
            cax = self.cax
            g = g.reshape(g.shape[:cax] + (1,) + g.shape[cax:])
        return (g * a,)

    def jvp(self, tangents, a):
        out = tangents[0] * a
        return out.sum(axis=self.cax) if self.reduction == "none" else out.sum()


NllLoss2DBackward0 = type("NllLoss2DBackward0", (NllLossBackward0,), {"__slots__": ()})


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """-input[target] (weighted, averaged over the non-ignored targets)."""
    reduction = _reduction_arg(reduction, size_average, reduce)
    x = input._data
    if x.ndim == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    ys, valid, wy = _class_targets("nll_loss", x, target, weight, ignore_index)
    cax = 0 if x.ndim == 1 else 1
    den = _safe_den(wy.sum()) if reduction == "mean" else 1
    terms = _pick(x, ys, cax) * -wy
    if not valid.all():
        terms = np.where(valid, terms, 0)
    out = np.asarray(terms if reduction == "none" else terms.sum() / den, dtype=x.dtype)
    a = _class_coeffs(x, ys, valid, wy, weight, 0.0, 1 if np.isnan(den) else den) \
        if input._requires_grad else None  # all targets ignored: zero gradient, like PyTorch
    cls = NllLoss2DBackward0 if x.ndim == 4 else NllLossBackward0
    return _node(cls, (input,), out, (a,), cax=cax, reduction=reduction)
class BinaryCrossEntropyWithLogitsBackward0(Node):
    """l = w * [(1-y) x + (1 + (pw-1) y) log(1 + e^-x)]
    dl/dx = w * [(1 + (pw-1) y) sigmoid(x) - pw y],  dl/dy = w * [(pw-1) log(1+e^-x) - x]"""

    __slots__ = ("numel", "reduction")
    saved_spec = (0, 1, CONST, CONST)

    def backward(self, g, x, y, w, pw):
        fx, fy = self.next_functions
        ns = _ew.xp(g)
        if self.reduction == "mean":
            g = g / self.numel
        if self.reduction != "none":
            g = _broadcast_like(g, x)
        sig = ns.sigmoid(x) if ns is not np else _ew._sigmoid_array(x)
        gx = gy = None
        if fx[0] is not None:
            gx = sig - y if pw is None else (1 + (pw - 1) * y) * sig - pw * y
            gx = gx * g if w is None else gx * (g * w)
        if fy[0] is not None:
            sp = ns.logaddexp(x * 0, -x)
            gy = -x if pw is None else (pw - 1) * sp - x
            gy = sum_to(gy * g if w is None else gy * (g * w), y.shape)
        return gx, gy

    def jvp(self, tangents, x, y, w, pw):
        tx, ty = tangents
        ns = _ew.xp(x)
        out = None
        if tx is not None:
            sig = ns.sigmoid(x) if ns is not np else _ew._sigmoid_array(x)
            dx = sig - y if pw is None else (1 + (pw - 1) * y) * sig - pw * y
            out = dx * tx
        if ty is not None:
            dy = -x if pw is None else (pw - 1) * ns.logaddexp(x * 0, -x) - x
            out = _tangent_sum(out, dy * ty)
        if w is not None:
            out = out * w
        return _reduce_tangent(out, self.reduction, self.numel)


def _broadcast_like(g, x):
    if type(g) is np.ndarray or isinstance(g, np.generic):
        return np.broadcast_to(g, x.shape)
    return g.expand(x.shape)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Binary cross entropy on logits, stable for any logit value.

    >>> import chainrule as torch
    >>> F = torch.nn.functional
    >>> round(F.binary_cross_entropy_with_logits(torch.zeros(3), torch.ones(3)).item(), 4)
    0.6931
    """
    reduction = _reduction_arg(reduction, size_average, reduce)
    x, y = input._data, target._data
    if x.shape != y.shape:
        raise ValueError(f"Target size ({_size_repr(y.shape)}) must be the same as input size "
                         f"({_size_repr(x.shape)})")
    w = None if weight is None else weight._data
    pw = None if pos_weight is None else pos_weight._data
    for extra in (w, pw):
        if extra is not None:
            try:
                np.broadcast_shapes(extra.shape, x.shape)
            except ValueError:
                raise broadcast_error(x.shape, extra.shape) from None
    sp = _softplus_neg(x)
    loss = (1 - y) * x + (sp if pw is None else (1 + (pw - 1) * y) * sp)
    if w is not None:
        loss = loss * w
    if reduction == "mean":
        out = np.asarray(loss.mean(), dtype=x.dtype)
    elif reduction == "sum":
        out = np.asarray(loss.sum(), dtype=x.dtype)
    else:
        out = loss.astype(x.dtype, copy=False)
    tx, ty = input._requires_grad, target._requires_grad
    if (tx or ty) and grad_state.enabled:
        node = BinaryCrossEntropyWithLogitsBackward0()
        node.next_functions = (edge(input) if tx else NO_EDGE, edge(target) if ty else NO_EDGE)
        node.saved = (x, y, w, pw)
        node.reduction = reduction
        node.numel = x.size
        return _make(out, True, node)
    return _make(out, False, None)




# -- CTC ----------------------------------------------------------------------------------
def _lse3(a, b, c):
    """Elementwise log(exp(a) + exp(b) + exp(c)), -inf where all three are -inf."""
    m = np.maximum(np.maximum(a, b), c)
    fin = np.where(np.isfinite(m), m, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(m == -np.inf, -np.inf,
                        fin + np.log(np.exp(a - fin) + np.exp(b - fin) + np.exp(c - fin)))


def _ctc_lattice(lp, ext, skip, valid, il):
    """Log alphas (T + 1, N, L) of the CTC lattice: ``alpha[t + 1]`` covers frames 0..t (the
    emission at t included); row 0 is the virtual start (log 1 before the first blank).
    A sample's column stops changing after its last frame ``il[n] - 1``."""
    t_max, n = lp.shape[:2]
    length = ext.shape[1]
    emit = np.take_along_axis(lp, np.broadcast_to(ext, (t_max, n, length)), 2)  # (T, N, L)
    alpha = np.full((t_max + 1, n, length), -np.inf, lp.dtype)
    alpha[0, :, 0] = 0
    wall = np.full((n, 2), -np.inf, lp.dtype)  # no state before s = 0
    for t in range(t_max):
        prev = np.concatenate([wall, alpha[t]], 1)  # prev[:, s + 2] is alpha[t][:, s]
        rec = _lse3(prev[:, 2:], prev[:, 1:-1], np.where(skip, prev[:, :-2], -np.inf))
        live = (t < il)[:, None]
        alpha[t + 1] = np.where(live, np.where(valid, rec + emit[t], -np.inf), alpha[t])
    return alpha, emit


def _ctc_betas(emit, ext, skip, valid, il, tl):
    """Log betas (T, N, L): ``beta[t, s]`` is the log probability of frames t..il-1 given
    state s at t (the emission at t included, as in PyTorch's kernel); -inf for t >= il."""
    t_max, n, length = emit.shape
    beta = np.full((t_max, n, length), -np.inf, emit.dtype)
    s = np.arange(length)
    end = valid & ((s == 2 * tl[:, None]) | (s == 2 * tl[:, None] - 1))
    wall = np.full((n, 2), -np.inf, emit.dtype)  # no state after the last
    skip_next = np.concatenate([skip[:, 2:], np.zeros((n, 2), bool)], 1)  # skip of s + 2
    nxt = np.full((n, length), -np.inf, emit.dtype)
    for t in range(t_max - 1, -1, -1):
        ahead = np.concatenate([nxt, wall], 1)  # ahead[:, s] is beta[t + 1][:, s]
        rec = _lse3(ahead[:, :-2], ahead[:, 1:-1], np.where(skip_next, ahead[:, 2:], -np.inf))
        rec = np.where(valid, rec + emit[t], -np.inf)
        last = (t == il - 1)[:, None]
        nxt = np.where(last, np.where(end, emit[t], -np.inf),
                       np.where((t < il - 1)[:, None], rec, -np.inf))
        beta[t] = nxt
    return beta


class CtcLossBackward0(Node):
    """nll[n] = -log p(target_n | log_probs[:, n]) by the alpha recursion; as in PyTorch,
    dlog_probs[t, n, c] = g[n] * (exp(lp) - sum over states s with label c of
    exp(alpha + beta - lp + nll)) for t < il[n] (beta by the backward recursion), zero after:
    the gradient w.r.t. the logits of a log_softmax, which is what reaches them through it."""

    __slots__ = ("ext", "il", "skip", "tl", "valid", "zero_infinity")
    saved_spec = (0, CONST, CONST)

    def backward(self, g, lp, alpha, nll):
        if not isinstance(g, np.ndarray) and not isinstance(g, np.generic):
            gd = _ctc_grad(self, g._data, lp._data, alpha._data, nll._data)
            node = CtcLossBackwardBackward()
            node.next_functions = (edge(g) if g._requires_grad else NO_EDGE,
                                   edge(lp) if lp._requires_grad else NO_EDGE)
            node.saved = ()
            return (_make(gd, True, node) if any(f is not None for f, _ in node.next_functions)
                    else _make(gd, False, None),)
        return (_ctc_grad(self, g, lp, alpha, nll),)

    def jvp(self, tangents, *saved):
        raise NotImplementedError(
            "Trying to use forward AD with _ctc_loss that does not support it because it has "
            "not been implemented yet.")


class CtcLossBackwardBackward(Node):
    """The gradient of ctc_loss, recorded under create_graph: PyTorch has no derivative."""

    __slots__ = ()
    saved_spec = ()

    def name(self) -> str:
        return "torch::autograd::NotImplemented"

    def backward(self, g):
        raise RuntimeError("derivative for aten::_ctc_loss_backward is not implemented")

    jvp = None


def _ctc_grad(node, g, lp, alpha, nll):
    t_max, n, c = lp.shape
    ext, il = node.ext, node.il
    emit = np.take_along_axis(lp, np.broadcast_to(ext, (t_max, n, ext.shape[1])), 2)
    beta = _ctc_betas(emit, ext, node.skip, node.valid, il, node.tl)
    ab = alpha[1:] + beta  # (T, N, L): log of the paths through state s at frame t
    # log-sum-exp of ab over the states that emit each class c, shifted per (t, n)
    m = ab.max(2, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    flat = (np.arange(t_max * n).reshape(t_max, n, 1) * c + ext).ravel()
    tot = np.bincount(flat, np.exp(ab - m).ravel(), minlength=t_max * n * c)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        lcab = np.log(tot.reshape(t_max, n, c)) + m
        grad = np.exp(lp) - np.exp(lcab + nll[:, None] - lp)
    live = (np.arange(t_max)[:, None] < il)[..., None]
    if node.zero_infinity:
        live = live & ~np.isinf(nll)[:, None]
    grad = np.where(live, grad, 0) * np.asarray(g, lp.dtype)[:, None]
    return grad.astype(lp.dtype, copy=False)


def _lengths(v):
    """input_lengths / target_lengths (a tensor, a tuple or a number) as a 1-D int64 array."""
    return np.asarray(v._data if isinstance(v, Tensor) else v, dtype=np.int64).reshape(-1)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """Connectionist Temporal Classification loss of (T, N, C) log-probabilities.

    ``targets``: (N, S) padded or 1-D concatenated label sequences; ``reduction='mean'``
    divides each loss by its target length, then averages. ``zero_infinity`` replaces
    impossible alignments' infinite losses (and their gradients) by zeros.

    >>> import chainrule as torch
    >>> lp = torch.zeros(3, 1, 2)  # uniform over {blank, 1}, unnormalized
    >>> torch.nn.functional.ctc_loss(lp, torch.tensor([[1]]), (3,), (1,), reduction="sum")
    tensor(-1.7918)
    """
    reduction = _reduction_arg(reduction)
    x = log_probs._data
    if x.dtype.kind != "f":
        raise NotImplementedError(f'"ctc_loss_cpu" not implemented for \'{_type_name(x)}\'')
    if x.size == 0:
        raise RuntimeError("log_probs tensor must not be empty")
    unbatched = x.ndim == 2
    tg = np.asarray(targets._data if isinstance(targets, Tensor) else targets).astype(np.int64)
    if unbatched:
        x = x[:, None]
        if tg.ndim == 1:
            tg = tg[None]
    if x.ndim != 3:
        raise RuntimeError(f"Expected 3-dimensional tensor, but got {x.ndim}-dimensional tensor "
                           "for argument #1 'log_probs' (while checking arguments for "
                           "ctc_loss_allocate_outputs)")
    t_max, n, c = x.shape
    il, tl = _lengths(input_lengths), _lengths(target_lengths)
    if not 0 <= blank < c:
        raise RuntimeError("blank must be in label range")
    if il.size != n:
        raise RuntimeError("input_lengths must be of size batch_size")
    if tl.size != n:
        raise RuntimeError("target_lengths must be of size batch_size")
    for name, arr, hi in (("input_lengths", il, t_max), ("target_lengths", tl, None)):
        if arr.size and arr.min() < 0:
            raise RuntimeError(f"Expected {name} to have value at least 0, but got value "
                               f"{arr.min()} (while checking arguments for "
                               "ctc_loss_allocate_outputs)")
        if hi is not None and arr.size and arr.max() > hi:
            raise RuntimeError(f"Expected {name} to have value at most {hi}, but got value "
                               f"{arr.max()} (while checking arguments for "
                               "ctc_loss_allocate_outputs)")
    s_max = int(tl.max()) if tl.size else 0
    k = np.arange(s_max)
    if tg.ndim == 1:  # concatenated: sample n's labels start after those of 0..n-1
        if tg.shape[0] != tl.sum():
            raise RuntimeError(f"Expected tensor to have size {tl.sum()} at dimension 0, but "
                               f"got size {tg.shape[0]} for argument #2 'targets' (while "
                               "checking arguments for ctc_loss_allocate_outputs)")
        starts = np.cumsum(tl) - tl
        pos = np.minimum(starts[:, None] + k, max(tg.shape[0] - 1, 0))
        labels = tg[pos] if tg.size else np.zeros((n, s_max), np.int64)
    else:
        if tg.shape[1] < s_max:
            raise RuntimeError(f"Expected tensor to have size at least {s_max} at dimension 1, "
                               f"but got size {tg.shape[1]} for argument #2 'targets' (while "
                               "checking arguments for ctc_loss_allocate_outputs)")
        labels = tg[:, :s_max]
    labels = np.where(k < tl[:, None], labels, blank)
    # extended labels: blank, l1, blank, l2, ..., blank (2 S + 1 states per sample)
    length = 2 * s_max + 1
    ext = np.full((n, length), blank, np.int64)
    ext[:, 1::2] = labels
    s = np.arange(length)
    valid = s < (2 * tl + 1)[:, None]
    skip = np.zeros((n, length), bool)
    skip[:, 3::2] = ext[:, 3::2] != ext[:, 1:-2:2]  # l_i -> l_{i+1} may skip the blank
    alpha, _ = _ctc_lattice(x, ext, skip, valid, il)
    final = alpha[il, np.arange(n)]  # (N, L): each sample after its last frame
    last = np.take_along_axis(final, np.stack([2 * tl, np.maximum(2 * tl - 1, 0)], 1), 1)
    last[:, 1] = np.where(tl > 0, last[:, 1], -np.inf)
    with np.errstate(invalid="ignore"):
        nll = -np.logaddexp(last[:, 0], last[:, 1]).astype(x.dtype)
    src = log_probs if not unbatched else log_probs.unsqueeze(1)
    if src._requires_grad and grad_state.enabled:
        node = CtcLossBackward0()
        node.next_functions = (edge(src),)
        node.saved = (x, alpha, nll)
        node.ext, node.skip, node.valid, node.il, node.tl = ext, skip, valid, il, tl
        node.zero_infinity = zero_infinity
        loss = _make(nll, True, node)
    else:
        loss = _make(nll, False, None)
    if zero_infinity:
        inf = np.isinf(nll)
        if inf.any():
            loss = _ew.where(_const(inf), _const(np.zeros((), x.dtype)), loss)
    if reduction == "mean":
        return (loss / _const(np.maximum(tl, 1).astype(x.dtype))).mean()
    if reduction == "sum":
        return loss.sum()
    return loss[0] if unbatched else loss


def _softplus_neg(x):
    """log(1 + exp(-x)), stable for any x."""
    return np.logaddexp(0, -x)


# ======================================================================================
# Normalization
# ======================================================================================
class _NormNode(Node):
    """y = xhat * w + b with xhat = (x - mean) / sqrt(var + eps) over ``axes`` of ``x`` seen
    as ``view`` (w, b broadcast as ``wshape`` on the original shape):
      gh = g * w;  dx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat));
      dw = sum(g * xhat),  db = sum(g)  over the axes w broadcasts along."""

    __slots__ = ("axes", "eps", "rstd", "view", "wshape", "xhat")
    saved_spec = (0, 1, 2)

    def _stats(self, x):
        """xhat and rstd, recomputed from x (a Tensor under create_graph: differentiable)."""
        xv = x.reshape(self.view)
        mu = xv.mean(axis=self.axes, keepdims=True)
        xc = xv - mu
        var = (xc * xc).mean(axis=self.axes, keepdims=True)
        rstd = (var + self.eps) ** -0.5
        return (xc * rstd).reshape(x.shape), rstd

    def backward(self, g, x, w, b):
        fx, fw, fb = self.next_functions
        if _is_array(g):
            xhat, rstd = self.xhat, self.rstd
        else:
            xhat, rstd = self._stats(x)
        gx = gw = gb = None
        wb = None if w is None else w.reshape(self.wshape)
        if fx[0] is not None:
            gh = g if wb is None else g * wb
            ghv, xhv = gh.reshape(self.view), xhat.reshape(self.view)
            ax = self.axes
            mean = _mean_keep if _is_array(g) else lambda t, a: t.mean(axis=a, keepdims=True)
            gx = (ghv - mean(ghv, ax) - xhv * mean(ghv * xhv, ax)) * rstd
            gx = gx.reshape(x.shape)
        if fw[0] is not None:
            gw = sum_to(g * xhat, self.wshape).reshape(w.shape)
        if fb[0] is not None:
            gb = sum_to(g, self.wshape).reshape(b.shape)
        return gx, gw, gb

    def jvp(self, tangents, x, w, b):
        """d xhat = rstd (tx - mean(tx) - xhat mean(xhat tx)): the same projection as in
        backward; then y' = d xhat * w + xhat * tw + tb."""
        tx, tw, tb = tangents
        xhat, rstd = (self.xhat, self.rstd) if _is_array(x) else self._stats(x)
        out = None
        if tx is not None:
            tv, xhv, ax = tx.reshape(self.view), xhat.reshape(self.view), self.axes
            th = ((tv - tv.mean(axis=ax, keepdims=True)
                   - xhv * (tv * xhv).mean(axis=ax, keepdims=True)) * rstd).reshape(x.shape)
            out = th if w is None else th * w.reshape(self.wshape)
        if tw is not None:
            out = _tangent_sum(out, xhat * tw.reshape(self.wshape))
        if tb is not None:
            out = _tangent_sum(xhat * 0 if out is None else out, tb.reshape(self.wshape))
        return out


def _norm_node(name):
    return type(name, (_NormNode,), {"__slots__": (), "__module__": __name__})


NativeLayerNormBackward0 = _norm_node("NativeLayerNormBackward0")
NativeBatchNormBackward0 = _norm_node("NativeBatchNormBackward0")
NativeGroupNormBackward0 = _norm_node("NativeGroupNormBackward0")


def _mean_keep(a, axes):
    """``a.mean(axis=axes, keepdims=True)`` of an array without np.mean's Python layer
    (~4 us a call): the same sum and division."""
    if a.dtype.itemsize < 4:  # float16: NumPy accumulates it in float32
        return a.mean(axis=axes, keepdims=True)
    n = 1
    for ax in axes:
        n *= a.shape[ax]
    return np.add.reduce(a, axis=axes, keepdims=True) / n


def _normalize_np(x, view, axes, eps):
    xv = x.reshape(view)
    mu = _mean_keep(xv, axes)
    xc = xv - mu
    var = _mean_keep(xc * xc, axes)
    rstd = 1.0 / np.sqrt(var + eps)
    return (xc * rstd).reshape(x.shape), rstd, mu, var


def _normed(node_cls, input, weight, bias, view, axes, wshape, eps):
    x = _float(input._data)
    xhat, rstd, mu, var = _normalize_np(x, view, axes, eps)
    out = xhat
    if weight is not None:
        out = out * weight._data.reshape(wshape)
    if bias is not None:
        out = out + bias._data.reshape(wshape)
    out = out.astype(x.dtype, copy=False)
    res = _node(node_cls, (input, weight, bias), out,
                (x, None if weight is None else weight._data,
                 None if bias is None else bias._data),
                axes=axes, view=view, wshape=wshape, eps=eps, xhat=xhat,
                rstd=rstd.astype(x.dtype, copy=False))
    return res, mu, var


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the trailing ``normalized_shape`` dims, then scale and shift.

    >>> import chainrule as torch
    >>> torch.nn.functional.layer_norm(torch.tensor([[1.0, 3.0]]), (2,))
    tensor([[-1.0000,  1.0000]])
    """
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    ns_ = tuple(normalized_shape)
    x = input._data
    k = len(ns_)
    if x.shape[x.ndim - k:] != ns_ or k > x.ndim:
        raise RuntimeError(f"Given normalized_shape={list(ns_)}, expected input with shape "
                           f"[*, {', '.join(map(str, ns_))}], but got input of size"
                           f"{shape_str(x.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t._data.shape != ns_:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but "
                               f"got {name} of shape {shape_str(t._data.shape)} and "
                               f"normalized_shape = {shape_str(ns_)}")
    axes = tuple(range(x.ndim - k, x.ndim))
    return _normed(NativeLayerNormBackward0, input, weight, bias, x.shape, axes, ns_, eps)[0]


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) over the trailing dims, times weight."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    k = len(normalized_shape)
    dims = tuple(range(input.ndim - k, input.ndim))
    if eps is None:
        eps = float(np.finfo(_float(input._data).dtype).eps)
    out = input * ((input * input).mean(dims, True) + eps) ** -0.5
    return out if weight is None else out * weight


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalize each channel (dim 1) with batch statistics (training; running_mean/var are
    updated in place with ``momentum``) or with the running statistics (eval)."""
    x = input._data
    if x.ndim < 2:
        raise ValueError(f"Expected 2D or 3D input (got {x.ndim}D input)")
    c = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t._data.size != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t._data.size}")
    wshape = (1, c) + (1,) * (x.ndim - 2)
    axes = (0,) + tuple(range(2, x.ndim))
    if training:
        n = x.size // c
        if n <= 1:
            raise ValueError("Expected more than 1 value per channel when training, got input "
                             f"size {_size_repr(x.shape)}")
        out, mu, var = _normed(NativeBatchNormBackward0, input, weight, bias, x.shape, axes,
                               wshape, eps)
        if running_mean is not None:
            rm = running_mean._data
            rm *= 1 - momentum
            rm += momentum * mu.reshape(c).astype(rm.dtype)
            running_mean._bump()
        if running_var is not None:
            rv = running_var._data
            rv *= 1 - momentum
            rv += momentum * (var.reshape(c) * (n / (n - 1))).astype(rv.dtype)
            running_var._bump()
        return out
    if running_mean is None or running_var is None:
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    # eval: an affine map with constant statistics
    rstd = _const((1.0 / np.sqrt(running_var._data + eps)).reshape(wshape).astype(x.dtype))
    out = (input - _const(running_mean._data.reshape(wshape).astype(x.dtype))) * rstd
    if weight is not None:
        out = out * weight.reshape(wshape)
    if bias is not None:
        out = out + bias.reshape(wshape)
    return out


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalize each (sample, channel) over its spatial dims."""
    x = input._data
    if x.ndim < 3:
        raise ValueError(f"Expected 3D or more input (got {x.ndim}D input)")
    n, c = x.shape[:2]
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    wshape = (1, c) + (1,) * (x.ndim - 2)
    axes = tuple(range(2, x.ndim))
    out, mu, var = _normed(NativeBatchNormBackward0, input, weight, bias, x.shape, axes,
                           wshape, eps)
    m = int(np.prod(x.shape[2:]))
    if running_mean is not None:
        running_mean._data[...] = (1 - momentum) * running_mean._data + momentum * mu.reshape(
            n, c).mean(0)
        running_mean._bump()
    if running_var is not None:
        running_var._data[...] = (1 - momentum) * running_var._data + momentum * (
            var.reshape(n, c) * (m / max(m - 1, 1))).mean(0)
        running_var._bump()
    return out


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalize over groups of channels (and the spatial dims) per sample."""
    x = input._data
    if x.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{x.ndim}")
    n, c = x.shape[:2]
    if c % num_groups:
        raise RuntimeError("Expected number of channels in input to be divisible by num_groups,"
                           f" but got input of shape {shape_str(x.shape)} and num_groups="
                           f"{num_groups}")
    wshape = (1, c) + (1,) * (x.ndim - 2)
    view = (n, num_groups, -1)
    view = (n, num_groups, x.size // max(n * num_groups, 1))
    return _normed(NativeGroupNormBackward0, input, weight, bias, view, (2,), wshape, eps)[0]


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha * mean of x^2 over ``size`` neighbouring channels)^beta."""
    x = input._data
    if x.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {x.ndim} "
                         "dimensions)")
    sq = input * input
    c = x.shape[1]
    # sum of squares over the channel window [i - size//2, i + (size-1)//2] via a matrix
    m = np.zeros((c, c), x.dtype)
    for i in range(c):
        lo, hi = max(i - size // 2, 0), min(i + (size - 1) // 2, c - 1)
        m[lo:hi + 1, i] = 1.0 / size
    from ..ops.linalg import matmul

    moved = sq.transpose(1, -1)
    div = matmul(moved, _const(m)).transpose(1, -1)
    return input / (div * alpha + k) ** beta


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(||x||_p, eps) along ``dim``."""
    nrm = _pnorm(input, p, dim, True)
    small = nrm._data < eps
    if small.any():
        nrm = nrm * _const(~small) + _const((small * eps).astype(nrm._data.dtype))
    return input / nrm


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 x2) / (max(||x1||, eps) max(||x2||, eps)) along ``dim``."""
    a, b = x1._data, x2._data
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise broadcast_error(a.shape, b.shape) from None
    if a.shape != shape:
        x1 = x1.expand(shape)
    if b.shape != shape:
        x2 = x2.expand(shape)
    n1 = _pnorm(x1, 2, dim, True)
    n2 = _pnorm(x2, 2, dim, True)

    def clamp(nrm):
        small = nrm._data < eps
        if small.any():
            return nrm * _const(~small) + _const((small * eps).astype(nrm._data.dtype))
        return nrm

    # each input normalized first (PyTorch's order: avoids overflow of the product of norms)
    return ((x1 / clamp(n1)) * (x2 / clamp(n2))).sum(dim)


# ======================================================================================
# Attention
# ======================================================================================
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(q k^T * scale + mask) v, with a boolean or additive ``attn_mask``."""
    from ..ops.linalg import matmul

    q, k = query._data, key._data
    lq, lk = q.shape[-2], k.shape[-2]
    if q.shape[-1] != k.shape[-1]:
        raise RuntimeError(f"Expected query and key to have the same embedding dim, got "
                           f"{q.shape[-1]} and {k.shape[-1]}")
    if enable_gqa and q.ndim >= 3 and q.shape[-3] != k.shape[-3]:
        rep = q.shape[-3] // k.shape[-3]
        idx = np.repeat(np.arange(k.shape[-3]), rep)
        key = _conv._linear(key, lambda a: np.take(a, idx, axis=-3),
                            lambda g: _conv._take_adjoint(g, g.ndim - 3, idx, k.shape[-3]))
        value = _conv._linear(value, lambda a: np.take(a, idx, axis=-3),
                              lambda g: _conv._take_adjoint(g, g.ndim - 3, idx,
                                                            value._data.shape[-3]))
    s = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = matmul(query, key.transpose(-2, -1)) * s
    bias = None
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                               "set when is_causal=True")
        allowed = np.tril(np.ones((lq, lk), dtype=bool))
        bias = np.where(allowed, 0, -np.inf).astype(q.dtype)
    elif attn_mask is not None:
        m = attn_mask._data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
        if m.dtype == np.bool_:
            bias = np.where(m, 0, -np.inf).astype(q.dtype)
        elif not (isinstance(attn_mask, Tensor) and attn_mask._requires_grad):
            bias = m.astype(q.dtype)
        else:
            scores = scores + attn_mask
    if bias is not None:
        scores = scores + _const(bias)
    attn = softmax(scores, -1)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, True)
    return matmul(attn, value)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + Gumbel noise) / tau); ``hard``: one-hot forward, soft gradient."""
    from ..ops.creation import rng

    x = logits._data
    u = rng().random(x.shape)
    gumbels = _const((-np.log(-np.log(u + eps) + eps)).astype(x.dtype))
    y = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y
    d = canon_dim(dim, x.ndim)
    idx = y._data.argmax(axis=d)
    onehot = np.zeros(x.shape, x.dtype)
    np.put_along_axis(onehot, np.expand_dims(idx, d), 1, axis=d)
    return _const(onehot) - y.detach() + y  # straight-through: the soft gradient


# ======================================================================================
# Unpooling: the values of max_pool go back to the positions its indices name (zeros
# elsewhere); a linear op whose adjoint gathers the gradient at those positions
# ======================================================================================
def _unpool_output_size(in_sp, k, s, p, output_size):
    default = [(in_sp[d] - 1) * s[d] + k[d] - 2 * p[d] for d in range(len(k))]
    if output_size is None:
        return tuple(default)
    output_size = tuple(int(v) for v in output_size)
    if len(output_size) == len(k) + 2:
        output_size = output_size[2:]
    if len(output_size) != len(k):
        raise ValueError(f"output_size should be a sequence containing {len(k)} or "
                         f"{len(k) + 2} elements, but it has a length of '{len(output_size)}'")
    for d in range(len(k)):
        lo, hi = default[d] - s[d], default[d] + s[d]
        if not lo < output_size[d] < hi:
            raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between '
                             f'{lo} and {hi})')
    return output_size


MaxUnpool2DBackward0 = _conv._linear_node("MaxUnpool2DBackward0")
MaxUnpool3DBackward0 = _conv._linear_node("MaxUnpool3DBackward0")


def _max_unpool(nd, input, indices, kernel_size, stride, padding, output_size):
    k = _conv._tuple(kernel_size, nd)
    s = _conv._tuple(stride if stride is not None else kernel_size, nd)
    p = _conv._tuple(padding, nd)
    xd = input._data
    if indices.shape != input.shape:
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({shape_str(input.shape)}) but got indices tensor with shape: "
                           f"{shape_str(indices.shape)}")
    out_sp = _unpool_output_size(xd.shape[xd.ndim - nd:], k, s, p, output_size)
    lead = xd.shape[:xd.ndim - nd]
    rows, plane = math.prod(lead), math.prod(out_sp)
    idx = indices._data.reshape(rows, -1).astype(np.int64)
    bad = (idx < 0) | (idx >= plane)
    if bad.any():
        raise RuntimeError(f"Found an invalid max index: {int(idx[bad][0])} (output volumes "
                           f"are of size {'x'.join(map(str, out_sp))}")

    def scatter(a):
        out = np.zeros((rows, plane), a.dtype)
        np.put_along_axis(out, idx, a.reshape(rows, -1), 1)  # the last write wins, like torch
        return out.reshape(lead + out_sp)

    def gather(g):
        return np.take_along_axis(g.reshape(rows, plane), idx, 1).reshape(xd.shape)

    node = MaxUnpool3DBackward0 if nd == 3 else MaxUnpool2DBackward0
    return _conv._linear(input, scatter, gather, node)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool1d``: values back at their indices, zeros elsewhere."""
    k = _conv._tuple(kernel_size, 1)
    s = _conv._tuple(stride if stride is not None else kernel_size, 1)
    p = _conv._tuple(padding, 1)
    out = _unpool_output_size(input.shape[-1:], k, s, p, output_size)
    # as torch: through the 2-D kernel with a trailing unit dim
    return _max_unpool(2, input.unsqueeze(-1), indices.unsqueeze(-1), k + (1,), s + (1,),
                       p + (0,), out + (1,)).squeeze(-1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool2d``.

    >>> import chainrule as torch
    >>> F = torch.nn.functional
    >>> pooled, idx = F.max_pool2d(torch.tensor([[[[1.0, 2.0], [4.0, 3.0]]]]), 2,
    ...                            return_indices=True)
    >>> F.max_unpool2d(pooled, idx, 2).tolist()
    [[[[0.0, 0.0], [4.0, 0.0]]]]
    """
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool3d``."""
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size)


# ======================================================================================
# Channel shuffle: (N, g * c, ...) -> (N, c * g, ...), a permutation of channels
# ======================================================================================
ChannelShuffleBackward0 = _conv._linear_node("ChannelShuffleBackward0")


def channel_shuffle(input, groups):
    """Interleave ``groups`` blocks of channels (ShuffleNet).

    >>> import chainrule as torch
    >>> x = torch.arange(4.0).reshape(1, 4, 1)
    >>> torch.nn.functional.channel_shuffle(x, 2).flatten().tolist()
    [0.0, 2.0, 1.0, 3.0]
    """
    shape = tuple(input.shape)
    if len(shape) <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(shape)}")
    g = int(groups)
    if g <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{g}")
    n, c, rest = shape[0], shape[1], shape[2:]
    if c % g:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {g} groups.")

    def swap(a, first):
        return a.reshape((n, first, c // first) + rest).swapaxes(1, 2).reshape(shape)
    return _conv._linear(input, lambda a: swap(a, g), lambda a: swap(a, c // g),
                         ChannelShuffleBackward0)


native_channel_shuffle = channel_shuffle

"""torch.special: the special functions under their SciPy-style names.

Most are the same ops as ``chainrule.<name>`` (``expit`` is ``sigmoid``, ``gammaln`` is
``lgamma``, ``psi`` is ``digamma``); ``ndtr``, ``ndtri``, ``log_ndtr``, ``entr``,
``xlog1py`` and ``multigammaln`` are differentiable compositions of them.

>>> import chainrule as torch
>>> torch.special.expit(torch.tensor([0.0]))
tensor([0.5000])
"""
from __future__ import annotations

import math

import numpy as np

from .ops.elementwise import (digamma, erf, erfc, erfinv, exp2, expm1, lgamma, log1p, logit,
                              polygamma, round, sigmoid, xlogy)
from .ops.reduction import logsumexp
from ._misc_ops import sinc
from .tensor import Tensor, _make

__all__ = ["digamma", "entr", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammaln",
           "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr",
           "ndtri", "polygamma", "psi", "round", "sinc", "softmax", "xlog1py", "xlogy"]

expit = sigmoid
gammaln = lgamma
psi = digamma

_SQRT2 = math.sqrt(2.0)


def _cr():
    import chainrule

    return chainrule


def _as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else _make(np.asarray(x), False, None)


def ndtr(input: Tensor) -> Tensor:
    """The standard normal CDF: (1 + erf(x / sqrt 2)) / 2."""
    return (1 + erf(input / _SQRT2)) * 0.5


def ndtri(input: Tensor) -> Tensor:
    """The inverse of ndtr: sqrt 2 * erfinv(2p - 1)."""
    return erfinv(input * 2 - 1) * _SQRT2


def log_ndtr(input: Tensor) -> Tensor:
    """log(ndtr(x)), written as log(erfc(-x / sqrt 2) / 2) so the left tail keeps precision."""
    return _cr().log(erfc(-input / _SQRT2) * 0.5)


def entr(input: Tensor) -> Tensor:
    """-x log x (0 at x = 0, -inf for x < 0)."""
    cr = _cr()
    x = input if input.is_floating_point() else input.to(cr.get_default_dtype())
    out = -xlogy(x, x)
    return cr.where(x < 0, cr.full_like(x, -math.inf), out)


def xlog1py(input, other) -> Tensor:
    """x * log1p(y), and 0 where x == 0 (unless y is NaN), like xlogy."""
    cr = _cr()
    x, y = _as_tensor(input), _as_tensor(other)
    out = x * log1p(y)
    return cr.where((x == 0) & ~cr.isnan(y), cr.zeros_like(out), out)


def multigammaln(input: Tensor, p: int) -> Tensor:
    """log of the multivariate gamma function of dimension ``p``."""
    if (input._data <= (p - 1) / 2).any():
        raise RuntimeError(f"All elements must be greater than (p-1)/2 (= {(p - 1) / 2})")
    out = sum(lgamma(input - j / 2) for j in range(p))
    return out + p * (p - 1) / 4 * math.log(math.pi)


def softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    from .nn.functional import softmax as _softmax

    return _softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    from .nn.functional import log_softmax as _log_softmax

    return _log_softmax(input, dim, dtype=dtype)

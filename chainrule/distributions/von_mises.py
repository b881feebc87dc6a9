"""``torch.distributions.von_mises``: VonMises(loc, concentration), the circular normal
distribution exp(k cos(x - loc)) / (2 pi I0(k)).

log I0 and log I1 use the polynomial approximations of Abramowitz & Stegun 9.8.1-9.8.4 (the
ones torch uses, so values agree to rounding), written with chainrule ops so that log_prob and
variance are differentiable in ``concentration``."""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Size, Tensor
from . import Distribution, _broadcast_all, _cr, constraints
from ._extra import _check_positive, _from_numpy, _rng

__all__ = ["VonMises"]

# Abramowitz & Stegun: I_n(x) for x < 3.75 as a polynomial in (x / 3.75)^2 (times x for n = 1);
# for x >= 3.75, x^(1/2) e^(-x) I_n(x) as a polynomial in 3.75 / x.
_SMALL = {0: (1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.0360768, 0.0045813),
          1: (0.5, 0.87890594, 0.51498869, 0.15084934, 0.02658733, 0.00301532, 0.00032411)}
_LARGE = {0: (0.39894228, 0.01328592, 0.00225319, -0.00157565, 0.00916281, -0.02057706,
              0.02635537, -0.01647633, 0.00392377),
          1: (0.39894228, -0.03988024, -0.00362018, 0.00163801, -0.01031555, 0.02282967,
              -0.02895312, 0.01787654, -0.00420059)}


def _horner(y: Tensor, coefs) -> Tensor:
    result = coefs[-1]
    for c in reversed(coefs[:-1]):
        result = c + y * result
    return result


def _log_bessel_i(x: Tensor, order: int) -> Tensor:
    """log I_order(x) for x > 0, order 0 or 1."""
    cr = _cr()
    small = _horner((x / 3.75).pow(2), _SMALL[order])
    if order == 1:
        small = x.abs() * small
    # each branch is evaluated where the other applies: keep both finite there
    x_large = cr.where(x < 3.75, cr.full_like(x, 3.75), x)
    large = x_large - 0.5 * x_large.log() + _horner(3.75 / x_large, _LARGE[order]).log()
    return cr.where(x < 3.75, small.log(), large)


def _rejection_sample(loc, kappa, rng):
    """Best & Fisher (1979) wrapped-Cauchy rejection sampler, in float64, on (-pi, pi]."""
    tau = 1 + np.sqrt(1 + 4 * kappa ** 2)
    rho = (tau - np.sqrt(2 * tau)) / (2 * kappa)
    r = np.where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho ** 2) / (2 * rho))
    x = np.zeros(kappa.shape)
    todo = np.ones(kappa.shape, dtype=bool)
    while todo.any():
        u1, u2, u3 = rng.random((3,) + kappa.shape)
        z = np.cos(math.pi * u1)
        f = (1 + r * z) / (r + z)
        c = kappa * (r - f)
        with np.errstate(divide="ignore", invalid="ignore"):
            accept = (c * (2 - c) - u2 > 0) | (np.log(c / u2) + 1 - c >= 0)
        new = todo & accept
        x[new] = (np.sign(u3 - 0.5) * np.arccos(np.clip(f, -1.0, 1.0)))[new]
        todo &= ~accept
    return np.mod(x + math.pi + loc, 2 * math.pi) - math.pi


class VonMises(Distribution):
    """VonMises(loc, concentration): angles in radians; ``mean`` and ``variance`` are the
    circular ones. Samples only (no rsample), as in torch.

    >>> import chainrule as torch
    >>> VonMises(torch.tensor(0.0), torch.tensor(1.0)).log_prob(torch.tensor(0.0))
    tensor(-1.0738)
    """

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = _broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, Size(), validate_args)
        _check_positive(self, "concentration", self.concentration)

    def _param_names(self):
        return ("loc", "concentration")

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        k = self.concentration
        return 1 - (_log_bessel_i(k, 1) - _log_bessel_i(k, 0)).exp()

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        return (self.concentration * cr.cos(value - self.loc) - math.log(2 * math.pi)
                - _log_bessel_i(self.concentration, 0))

    def sample(self, sample_shape=Size()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        loc = np.broadcast_to(self.loc.detach().numpy().astype(np.float64), shape)
        kappa = np.broadcast_to(self.concentration.detach().numpy().astype(np.float64), shape)
        x = _rejection_sample(loc, kappa, _rng())
        return _from_numpy(x.astype(self.loc.detach().numpy().dtype), self.loc.dtype)

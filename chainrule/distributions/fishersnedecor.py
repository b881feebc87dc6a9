"""``torch.distributions.fishersnedecor``: FisherSnedecor(df1, df2), the F distribution: the
ratio of two chi-squared variables, each divided by its degrees of freedom."""
from __future__ import annotations

import math

from ..tensor import Size, Tensor
from . import Distribution, _as_param, _broadcast_all, _cr, constraints
from ._extra import Gamma, _check_support, _standard_gamma

__all__ = ["FisherSnedecor"]


class FisherSnedecor(Distribution):
    """FisherSnedecor(df1, df2): rsample = (Chi2(df1) / df1) / (Chi2(df2) / df2),
    reparameterised through the gamma draws.

    >>> import chainrule as torch
    >>> FisherSnedecor(torch.tensor(4.0), torch.tensor(6.0)).mean
    tensor(1.5000)
    """

    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, df1, df2, validate_args=None):
        self.df1, self.df2 = _broadcast_all(df1, df2)
        super().__init__(self.df1.shape, Size(), validate_args)
        if self._validate_args:  # torch reports a bad df from its Gamma(df / 2, df / 2)
            for df in (self.df1, self.df2):
                Gamma(0.5 * df, 0.5 * df, validate_args=True)

    def _param_names(self):
        return ("df1", "df2")

    @staticmethod
    def _nan_unless(cond, x: Tensor, safe: float):
        """(x with the parameter replaced by ``safe`` where ``cond`` fails, nan there)."""
        cr = _cr()
        return cr.where(cond, x, cr.full_like(x, safe))

    @property
    def mean(self) -> Tensor:
        cr = _cr()
        ok = self.df2 > 2
        df2 = self._nan_unless(ok, self.df2, 3.0)
        mean = df2 / (df2 - 2)
        return cr.where(ok, mean, cr.full_like(mean, math.nan))

    @property
    def mode(self) -> Tensor:
        cr = _cr()
        ok = self.df1 > 2
        df1 = self._nan_unless(ok, self.df1, 3.0)
        mode = (df1 - 2) / df1 * self.df2 / (self.df2 + 2)
        return cr.where(ok, mode, cr.full_like(mode, math.nan))

    @property
    def variance(self) -> Tensor:
        cr = _cr()
        ok = self.df2 > 4
        df2 = self._nan_unless(ok, self.df2, 5.0)
        df1 = self.df1
        var = 2 * df2.pow(2) * (df1 + df2 - 2) / (df1 * (df2 - 2).pow(2) * (df2 - 4))
        return cr.where(ok, var, cr.full_like(var, math.nan))

    def rsample(self, sample_shape=Size()) -> Tensor:
        cr = _cr()
        shape = self._extended_shape(sample_shape)
        tiny = cr.finfo(self.df1.dtype).tiny
        x1 = (_standard_gamma(self.df1 * 0.5, shape) / (self.df1 * 0.5)).clamp(min=tiny)
        x2 = (_standard_gamma(self.df2 * 0.5, shape) / (self.df2 * 0.5)).clamp(min=tiny)
        return x1 / x2

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        value = _as_param(value)
        if self._validate_args and not bool((value > 0).all()):
            _check_support(self, value, "GreaterThan(lower_bound=0.0)")
        h1, h2 = self.df1 * 0.5, self.df2 * 0.5
        ratio = self.df1 / self.df2
        log_norm = cr.lgamma(h1 + h2) - cr.lgamma(h1) - cr.lgamma(h2)
        return (log_norm + h1 * cr.log(ratio) + (h1 - 1) * cr.log(value)
                - (h1 + h2) * cr.log1p(ratio * value))

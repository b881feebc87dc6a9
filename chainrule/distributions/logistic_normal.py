"""``torch.distributions.logistic_normal``: LogisticNormal(loc, scale), a Normal on R^(K-1)
pushed onto the K-simplex by the stick-breaking transform."""
from __future__ import annotations

from ..tensor import Size, Tensor
from . import Independent, Normal, _as_param, constraints
from ._extra import _check_support
from ._transformed import TransformedDistribution
from .transforms import StickBreakingTransform

__all__ = ["LogisticNormal"]


class LogisticNormal(TransformedDistribution):
    """LogisticNormal(loc, scale): loc and scale of shape (..., K - 1) give events of shape
    (K,) on the simplex; a scalar loc is treated as K - 1 = 1.

    >>> import chainrule as torch
    >>> LogisticNormal(torch.zeros(2), torch.ones(2)).sample().sum()
    tensor(1.)
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        base = Normal(loc, scale, validate_args=validate_args)
        if not base.batch_shape:
            base = base.expand((1,))
        super().__init__(Independent(base, 1), StickBreakingTransform(), validate_args)
        # the transform adds one entry to each event
        self._event_shape = Size((self._event_shape[0] + 1,))

    @property
    def loc(self) -> Tensor:
        return self.base_dist.base_dist.loc

    @property
    def scale(self) -> Tensor:
        return self.base_dist.base_dist.scale

    def log_prob(self, value) -> Tensor:
        value = _as_param(value)
        if self._validate_args:
            ok = (value >= 0).all() and ((value.sum(-1) - 1).abs() < 1e-6).all()
            if not bool(ok):
                _check_support(self, value, "Simplex()")
        return super().log_prob(value)

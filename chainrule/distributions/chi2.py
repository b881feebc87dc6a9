"""``torch.distributions.chi2``: Chi2(df), the Gamma(df / 2, 1 / 2) distribution."""
from __future__ import annotations

from ..tensor import Tensor
from . import _broadcast_all, constraints
from ._extra import Gamma

__all__ = ["Chi2"]


class Chi2(Gamma):
    """Chi2(df): a Gamma with concentration df / 2 and rate 1 / 2 (KL, rsample from Gamma).

    >>> import chainrule as torch
    >>> Chi2(torch.tensor(3.0)).mean
    tensor(3.)
    """

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        (df,) = _broadcast_all(df)
        super().__init__(0.5 * df, 0.5, validate_args=False)
        if validate_args is not None:
            self._validate_args = validate_args
        else:
            self.__dict__.pop("_validate_args", None)
        if self._validate_args and not bool((df > 0).all()):
            self._invalid("df", df, "GreaterThan(lower_bound=0.0)")

    def _param_names(self):
        return ()

    def _expand_params(self):
        return {"concentration": 0, "rate": 0}

    @property
    def df(self) -> Tensor:
        return self.concentration * 2

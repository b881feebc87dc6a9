"""``torch.distributions.one_hot_categorical``: OneHotCategorical (the class of
``chainrule.distributions``) and OneHotCategoricalStraightThrough."""
from __future__ import annotations

from ..tensor import Size, Tensor
from . import OneHotCategorical

__all__ = ["OneHotCategorical", "OneHotCategoricalStraightThrough"]


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """OneHotCategorical whose ``rsample`` is the one-hot draw in the forward pass with the
    gradient of ``probs`` in the backward pass (straight-through estimator).

    >>> import chainrule as torch
    >>> p = torch.tensor([0.2, 0.8], requires_grad=True)
    >>> OneHotCategoricalStraightThrough(p).rsample().sum()
    tensor(1., grad_fn=<SumBackward0>)
    """

    has_rsample = True

    def rsample(self, sample_shape=Size()) -> Tensor:
        samples = self.sample(sample_shape)
        probs = self.probs
        return samples + (probs - probs.detach())

"""``torch.distributions.one_hot_categorical``: the same class as ``chainrule.distributions`` has."""
from . import OneHotCategorical  # noqa: F401

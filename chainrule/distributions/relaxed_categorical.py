"""``torch.distributions.relaxed_categorical``: the same class as ``chainrule.distributions`` has."""
from . import RelaxedOneHotCategorical  # noqa: F401

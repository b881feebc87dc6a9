"""``torch.distributions.categorical``: the same class as ``chainrule.distributions`` has."""
from . import Categorical  # noqa: F401

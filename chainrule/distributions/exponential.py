"""``torch.distributions.exponential``: the same class as ``chainrule.distributions`` has."""
from . import Exponential  # noqa: F401

"""``torch.distributions.cauchy``: the same class as ``chainrule.distributions`` has."""
from . import Cauchy  # noqa: F401

"""``torch.distributions.gamma``: the same class as ``chainrule.distributions`` has."""
from . import Gamma  # noqa: F401

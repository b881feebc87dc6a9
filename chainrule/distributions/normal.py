"""``torch.distributions.normal``: the same class as ``chainrule.distributions`` has."""
from . import Normal  # noqa: F401

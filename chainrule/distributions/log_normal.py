"""``torch.distributions.log_normal``: the same class as ``chainrule.distributions`` has."""
from . import LogNormal  # noqa: F401

"""``torch.distributions.half_normal``: the same class as ``chainrule.distributions`` has."""
from . import HalfNormal  # noqa: F401

"""``torch.distributions.uniform``: the same class as ``chainrule.distributions`` has."""
from . import Uniform  # noqa: F401

"""``torch.distributions.gumbel``: the same class as ``chainrule.distributions`` has."""
from . import Gumbel  # noqa: F401

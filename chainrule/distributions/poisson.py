"""``torch.distributions.poisson``: the same class as ``chainrule.distributions`` has."""
from . import Poisson  # noqa: F401

"""``torch.distributions.dirichlet``: the same class as ``chainrule.distributions`` has."""
from . import Dirichlet  # noqa: F401

"""``torch.distributions.laplace``: the same class as ``chainrule.distributions`` has."""
from . import Laplace  # noqa: F401

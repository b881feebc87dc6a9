"""``torch.distributions.bernoulli``: the same class as ``chainrule.distributions`` has."""
from . import Bernoulli  # noqa: F401

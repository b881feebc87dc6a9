"""``torch.distributions.binomial``: the same class as ``chainrule.distributions`` has."""
from . import Binomial  # noqa: F401

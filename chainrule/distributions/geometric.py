"""``torch.distributions.geometric``: the same class as ``chainrule.distributions`` has."""
from . import Geometric  # noqa: F401

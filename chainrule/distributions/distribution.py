"""``torch.distributions.distribution``: the same class as ``chainrule.distributions`` has."""
from . import Distribution  # noqa: F401

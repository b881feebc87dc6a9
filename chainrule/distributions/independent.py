"""``torch.distributions.independent``: the same class as ``chainrule.distributions`` has."""
from . import Independent  # noqa: F401

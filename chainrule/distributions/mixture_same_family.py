"""``torch.distributions.mixture_same_family``: the same class as ``chainrule.distributions`` has."""
from . import MixtureSameFamily  # noqa: F401

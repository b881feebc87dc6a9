"""``torch.distributions.beta``: the same class as ``chainrule.distributions`` has."""
from . import Beta  # noqa: F401

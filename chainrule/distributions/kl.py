"""``torch.distributions.kl``: the same class as ``chainrule.distributions`` has."""
from . import kl_divergence, register_kl  # noqa: F401

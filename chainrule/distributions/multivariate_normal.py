"""``torch.distributions.multivariate_normal``: the same class as ``chainrule.distributions`` has."""
from . import MultivariateNormal  # noqa: F401

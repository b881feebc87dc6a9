"""``torch.distributions.transformed_distribution``: the same class as ``chainrule.distributions`` has."""
from . import TransformedDistribution  # noqa: F401

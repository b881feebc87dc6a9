"""``torch.distributions.studentT``: the same class as ``chainrule.distributions`` has."""
from . import StudentT  # noqa: F401

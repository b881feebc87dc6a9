"""Utilities: ``chainrule.utils.data`` (datasets, samplers, DataLoader) and
``chainrule.utils.checkpoint`` (recompute in backward), reachable after ``import chainrule``
alone, as ``torch.utils.checkpoint`` is."""
from . import checkpoint, data  # noqa: F401

"""nn.utils.stateless.functional_call: call a module with substituted parameters/buffers
(the same function as ``chainrule.func.functional_call``)."""
from ...func import functional_call  # noqa: F401

__all__ = ["functional_call"]

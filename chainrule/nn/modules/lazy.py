"""LazyModuleMixin: modules whose parameter shapes come from their first input.

Until the first call a lazy module holds :class:`UninitializedParameter` s; a forward
pre-hook then calls ``initialize_parameters(*input)``, which materializes them, removes
itself and turns the module into its ``cls_to_become`` (``LazyLinear`` becomes ``Linear``).

>>> import chainrule as torch
>>> m = torch.nn.LazyLinear(2)
>>> m.has_uninitialized_params()
True
>>> _ = m(torch.ones(4, 3))
>>> m
Linear(in_features=3, out_features=2, bias=True)
"""
from __future__ import annotations

import itertools

from ...autograd.grad_mode import no_grad
from ..parameter import UninitializedBuffer, is_lazy

__all__ = ["LazyModuleMixin", "UninitializedBuffer"]


def _uninitialized(t) -> bool:
    return is_lazy(t)


class LazyModuleMixin:
    """Put first among the bases of a module (``class LazyLinear(LazyModuleMixin,
    Linear)``); the module implements ``initialize_parameters(*input)``."""

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters,
                                                               with_kwargs=True)

    def has_uninitialized_params(self) -> bool:
        """Whether any of this module's own parameters is still uninitialized."""
        return any(_uninitialized(t) for t in itertools.chain(self._parameters.values(),
                                                               self._buffers.values()))

    def initialize_parameters(self, *args, **kwargs) -> None:
        raise NotImplementedError(
            f"initialize_parameters is not implemented for {type(self).__name__}")

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        """Loading into a lazy module first gives its uninitialized parameters the shapes of
        the loaded tensors (then the values are copied in as usual). An override rather than
        a load hook: hooks capture the module, and would follow it into deep copies."""
        for name, t in itertools.chain(self._parameters.items(), self._buffers.items()):
            key = prefix + name
            if _uninitialized(t) and key in state_dict \
                    and not _uninitialized(state_dict[key]):
                with no_grad():
                    t.materialize(tuple(state_dict[key]._data.shape))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


def _infer_parameters(module, args, kwargs):
    """The forward pre-hook: materialize from the first input, then become a plain module
    (whose calls take Module's no-hook fast path again)."""
    module.initialize_parameters(*args, **(kwargs or {}))
    if module.has_uninitialized_params():
        raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
    module._initialize_hook.remove()
    del module._initialize_hook
    if module.cls_to_become is not None:
        module.__class__ = module.cls_to_become


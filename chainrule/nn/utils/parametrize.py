"""Parametrizations: ``module.<name>`` computed on access from stored "original" tensors.

``register_parametrization(m, "weight", P())`` moves the weight to
``m.parametrizations.weight.original`` (or ``original0, original1, ...`` when
``P.right_inverse`` returns several tensors) and makes ``m.weight`` a property that returns
``P()(original)``. As in PyTorch, the module's class is swapped for a generated subclass
(``ParametrizedLinear``) that carries the property.
"""
from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ...tensor import Tensor, _make
from ..modules.container import ModuleDict, ModuleList
from ..modules.module import Module
from ..parameter import Parameter

__all__ = [
    "ParametrizationList",
    "is_parametrized",
    "register_parametrization",
    "remove_parametrizations",
    "type_before_parametrizations",
]


def _as_parameter(t: Tensor, requires_grad: bool) -> Parameter:
    return Parameter(_make(t._data, False, None), requires_grad)


class ParametrizationList(ModuleList):
    """The chain of parametrizations of one tensor, and its ``original`` tensor(s)."""

    def __init__(self, modules, original: Tensor, unsafe: bool = False):
        super().__init__(modules)
        self.unsafe = unsafe
        requires_grad = original.requires_grad
        value = original
        with no_grad():
            for m in reversed(list(self)):  # the originals are right inverses of the chain
                if hasattr(m, "right_inverse"):
                    value = m.right_inverse(value)
        if isinstance(value, Tensor):
            self.is_tensor, self.ntensors = True, 1
            if isinstance(original, Parameter) and value is not original:
                original._data = value._data  # keep the very Parameter object (optimizers)
                value = original
            self.original = value if isinstance(value, Parameter) else \
                _as_parameter(value, requires_grad)
        else:
            self.is_tensor, self.ntensors = False, len(value)
            for i, v in enumerate(value):
                setattr(self, f"original{i}", _as_parameter(v, requires_grad))

    def right_inverse(self, value: Tensor) -> None:
        """Set the originals so that the chain yields ``value``."""
        with no_grad():
            for m in reversed(list(self)):
                if hasattr(m, "right_inverse"):
                    value = m.right_inverse(value)
            if self.is_tensor:
                self.original._data[...] = value._data
                self.original._bump()
            else:
                for i, v in enumerate(value):
                    getattr(self, f"original{i}")._data[...] = v._data

    def forward(self):
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for m in list(self)[1:]:
            x = m(x)
        return x


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    plist = module.__dict__.get("_modules", {}).get("parametrizations")
    if plist is None or not isinstance(plist, ModuleDict):
        return False
    return True if tensor_name is None else tensor_name in plist


def type_before_parametrizations(module: Module) -> type:
    return type(module).__bases__[0] if is_parametrized(module) else type(module)


def _inject_new_class(module: Module) -> None:
    cls = module.__class__
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), {})


def _inject_property(module: Module, name: str) -> None:
    def getter(self):
        return self.parametrizations[name]()

    def setter(self, value):
        self.parametrizations[name].right_inverse(value)

    setattr(module.__class__, name, property(getter, setter))


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make ``module.<tensor_name>`` the output of ``parametrization`` on stored originals.

    >>> import chainrule as torch
    >>> class Symmetric(torch.nn.Module):
    ...     def forward(self, x):
    ...         return x.triu() + x.triu(1).T
    >>> m = torch.nn.Linear(3, 3)
    >>> _ = torch.nn.utils.parametrize.register_parametrization(m, "weight", Symmetric())
    >>> bool((m.weight == m.weight.T).all())
    True
    """
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        plist.append(parametrization)
        return module
    if tensor_name in module._buffers:
        original = module._buffers.pop(tensor_name)
    elif tensor_name in module._parameters:
        original = module._parameters.pop(tensor_name)
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    plist = ParametrizationList([parametrization], original, unsafe=unsafe)
    if not is_parametrized(module):
        _inject_new_class(module)
        module.parametrizations = ModuleDict()
    module.parametrizations[tensor_name] = plist
    _inject_property(module, tensor_name)
    return module


def remove_parametrizations(module: Module, tensor_name: str,
                            leave_parametrized: bool = True) -> Module:
    """Undo ``register_parametrization``: keep the current value (or the original)."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if leave_parametrized:
        with no_grad():
            value = plist()
        if plist.is_tensor:
            original = plist.original
            original._data = value._data
        else:
            original = _as_parameter(value, True)
    else:
        if not plist.is_tensor:
            raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                             "that is parametrized in terms of a sequence of tensors.")
        original = plist.original
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    module.register_parameter(tensor_name, original if isinstance(original, Parameter)
                              else _as_parameter(original, True))
    if not len(module.parametrizations):
        del module._modules["parametrizations"]
        module.__class__ = module.__class__.__bases__[0]
    return module

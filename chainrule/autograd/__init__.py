"""Reverse-mode automatic differentiation: backward, grad, custom Functions, grad modes."""
from __future__ import annotations

from .engine import run_backward
from .function import (AccumulateGrad, Function, FunctionCtx, Node, once_differentiable)
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled,
                        no_grad, set_grad_enabled)
from . import anomaly_mode, forward_ad, functional, graph, profiler  # noqa: E402
from .anomaly_mode import detect_anomaly, set_detect_anomaly
from .explain import explain
from .gradcheck import gradcheck, gradgradcheck


def _as_seq(x):
    if x is None:
        return None
    if isinstance(x, _tensor_mod.Tensor):
        return (x,)
    return tuple(x)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of graph leaves."""
    tensors = _as_seq(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    grads = _as_seq(grad_tensors) if grad_tensors is not None else (None,) * len(tensors)
    if len(grads) != len(tensors):
        raise RuntimeError(f"got {len(grads)} gradients for {len(tensors)} tensors")
    inputs = _as_seq(inputs)
    if inputs is not None and len(inputs) == 0:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return the gradients of ``outputs`` w.r.t. ``inputs`` without touching ``.grad``.

    >>> import chainrule as torch
    >>> x = torch.tensor(3.0, requires_grad=True)
    >>> torch.autograd.grad(x ** 2, x)
    (tensor(6.),)
    """
    outputs = _as_seq(outputs)
    inputs = _as_seq(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True")
    grads = _as_seq(grad_outputs) if grad_outputs is not None else (None,) * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(
            f"grad_outputs has {len(grads)} entries but outputs has {len(outputs)}")
    if is_grads_batched:
        from .functional import _batched_grad

        return _batched_grad(outputs, inputs, grads, retain_graph, create_graph, allow_unused)
    return run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs,
                        allow_unused=allow_unused, accumulate=False,
                        materialize_grads=materialize_grads)




def Variable(data, requires_grad=False, volatile=False):  # noqa: N802 - PyTorch's old name
    """The pre-0.4 wrapper: now simply the tensor itself (with ``requires_grad`` set)."""
    if requires_grad:
        data.requires_grad_(True)
    return data


__all__ = ["AccumulateGrad", "Function", "FunctionCtx", "Node", "Variable", "anomaly_mode",
           "backward", "detect_anomaly", "enable_grad", "explain", "forward_ad", "functional",
           "grad", "gradcheck", "gradgradcheck", "graph", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled", "no_grad", "once_differentiable", "set_detect_anomaly",
           "set_grad_enabled"]


from .. import tensor as _tensor_mod  # noqa: E402  (it imports this package: bound last)

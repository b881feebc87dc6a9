"""Activation checkpointing: drop a segment's intermediate values, recompute them in backward.

Two variants, as in PyTorch, both built on a custom ``chainrule.autograd.Function``:

- ``use_reentrant=True``: the segment runs under ``no_grad``; the node has edges to the
  tensor arguments only. Its backward recomputes the segment with grad enabled and calls
  ``autograd.backward`` on it, so parameters used inside the segment (closure tensors) get
  their ``.grad`` accumulated directly, from inside the outer backward (PyTorch's semantics:
  not usable with ``autograd.grad`` for those parameters).
- ``use_reentrant=False`` (the default here, recommended by PyTorch): the segment runs once
  with grad enabled only to find which leaves it reads (arguments and closure parameters);
  the recorded graph is then dropped, which frees every intermediate array, and the node
  gets edges to the arguments *and* those leaves. Backward recomputes the segment and
  returns gradients for all of them through the engine, so ``autograd.grad``, hooks and
  ``create_graph=True`` (double backward) work as without checkpointing. Peak memory inside
  one segment is that of the plain forward; what is saved is everything between segments.
  A closure tensor that is not a leaf (computed before the segment and captured) is
  recomputed through as well: correct, and its own graph is retained for the outer pass.
"""
from __future__ import annotations

import contextlib
import warnings

from ..autograd.function import Function

__all__ = ["CheckpointError", "CheckpointFunction", "checkpoint", "checkpoint_sequential"]


class CheckpointError(RuntimeError):
    """The recomputation did not reproduce the forward pass."""


def _cr():
    import chainrule

    return chainrule


def _is_tensor(x) -> bool:
    return isinstance(x, _cr().Tensor)


def noop_context_fn():
    return contextlib.nullcontext(), contextlib.nullcontext()


@contextlib.contextmanager
def _rng_restored(state):
    """Run with the RNG at ``state`` (the forward's), then put the current state back."""
    cr = _cr()
    if state is None:
        yield
        return
    now = cr.get_rng_state()
    cr.set_rng_state(state)
    try:
        yield
    finally:
        cr.set_rng_state(now)


def _rng_state(preserve):
    cr = _cr()
    if preserve and hasattr(cr, "get_rng_state"):
        return cr.get_rng_state()
    return None


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


# ======================================================================================
# use_reentrant=True
# ======================================================================================
class CheckpointFunction(Function):
    """Reentrant checkpoint: forward under no_grad, backward recomputes and backpropagates."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        ctx.run_function = run_function
        ctx.rng_state = _rng_state(preserve_rng_state)
        ctx.arg_kinds = [_is_tensor(a) for a in args]
        ctx.plain_args = [None if _is_tensor(a) else a for a in args]
        ctx.save_for_backward(*[a for a in args if _is_tensor(a)])
        return run_function(*args)  # Function.apply runs forward under no_grad

    @staticmethod
    def backward(ctx, *grads):
        from ..autograd import backward as _backward
        from ..autograd.grad_mode import enable_grad

        tensors = iter(ctx.saved_tensors)
        needs = ctx.needs_input_grad[2:]
        args, detached = [], []
        for kind, plain, need in zip(ctx.arg_kinds, ctx.plain_args, needs):
            if not kind:
                args.append(plain)
                continue
            d = next(tensors).detach()
            d.requires_grad_(bool(need))
            args.append(d)
            detached.append(d)
        with _rng_restored(ctx.rng_state), enable_grad():
            outputs = _as_tuple(ctx.run_function(*args))
        outs, gs = [], []
        for o, g in zip(outputs, grads):
            if _is_tensor(o) and o.requires_grad and g is not None:
                outs.append(o)
                gs.append(g)
        if not outs:
            raise RuntimeError(
                "none of output has requires_grad=True, this checkpoint() is not necessary")
        _backward(outs, gs)
        return (None, None) + tuple(a.grad if _is_tensor(a) else None for a in args)


# ======================================================================================
# use_reentrant=False
# ======================================================================================
def _leaves_of(outputs, exclude):
    """Leaf tensors (requiring grad) that the graph of ``outputs`` reaches, minus ``exclude``."""
    from ..autograd.function import AccumulateGrad

    found, seen = [], set()
    stack = [o.grad_fn for o in outputs if _is_tensor(o) and o.grad_fn is not None]
    stack += [o for o in outputs if _is_tensor(o) and o.grad_fn is None and o.requires_grad]
    ids = {id(t) for t in exclude}
    while stack:
        node = stack.pop()
        if _is_tensor(node):  # an output that is itself a leaf
            if id(node) not in ids and id(node) not in seen:
                seen.add(id(node))
                found.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        if type(node) is AccumulateGrad:
            var = node.variable
            if id(var) not in ids and id(var) not in seen:
                seen.add(id(var))
                found.append(var)
            continue
        for child, _ in node.next_functions:
            if child is not None and child not in seen:
                stack.append(child)
    return found


class _NonReentrantCheckpoint(Function):
    """Node of a non-reentrant checkpoint: inputs are the arguments, then closure leaves."""

    @staticmethod
    def forward(ctx, info, *tensors):
        ctx.info = info
        ctx.save_for_backward(*tensors)
        return info.pop("outputs")  # not kept in info: the outputs point to this node

    @staticmethod
    def backward(ctx, *grads):
        from ..autograd import grad as _grad
        from ..autograd.grad_mode import enable_grad, is_grad_enabled

        info = ctx.info
        create_graph = is_grad_enabled()  # the engine enables grad mode for create_graph
        saved = ctx.saved_tensors
        n_args = info["n_args"]
        arg_tensors, leaves = saved[:n_args], saved[n_args:]
        args, it, wrt = list(info["plain_args"]), iter(arg_tensors), []
        for i, kind in enumerate(info["arg_kinds"]):
            if not kind:
                continue
            t = next(it)
            if create_graph and t.requires_grad:
                a = t.view_as(t)  # stays connected to the input: double backward works
            else:
                a = t.detach()
                if t.requires_grad:
                    a.requires_grad_(True)
            args[i] = a
            wrt.append(a)
        with _rng_restored(info["rng_state"]), enable_grad(), info["recompute_ctx"]:
            outputs = _as_tuple(info["function"](*args, **info["kwargs"]))
        if info["check"]:
            for i, (o, shape) in enumerate(zip(outputs, info["shapes"])):
                if _is_tensor(o) and shape is not None and tuple(o.shape) != shape:
                    raise CheckpointError(
                        "torch.utils.checkpoint: Recomputed values for the following tensors "
                        "have different metadata than during the forward pass.\n"
                        f"output {i}: recomputed shape {tuple(o.shape)}, forward shape {shape}")
        outs, gs = [], []
        for o, g in zip(outputs, grads):
            if _is_tensor(o) and o.requires_grad and g is not None:
                outs.append(o)
                gs.append(g)
        targets = [a for a in wrt if a.requires_grad] + list(leaves)
        result = {}
        if outs and targets:
            got = _grad(outs, targets, gs, retain_graph=True, create_graph=create_graph,
                        allow_unused=True)
            result = {id(t): g for t, g in zip(targets, got)}
        arg_grads = [result.get(id(a)) for a in wrt]
        leaf_grads = [result.get(id(t)) for t in leaves]
        return (None,) + tuple(arg_grads) + tuple(leaf_grads)


def _checkpoint_nonreentrant(function, args, kwargs, preserve_rng_state, determinism_check,
                             context_fn=noop_context_fn):
    from ..autograd.grad_mode import enable_grad, is_grad_enabled

    forward_ctx, recompute_ctx = context_fn()
    if not is_grad_enabled():
        with forward_ctx:
            return function(*args, **kwargs)
    rng_state = _rng_state(preserve_rng_state)
    aliases, arg_kinds, plain = [], [], []
    call_args = []
    for a in args:
        if _is_tensor(a):
            d = a.detach()
            if a.requires_grad:
                d.requires_grad_(True)
            aliases.append(d)
            call_args.append(d)
            arg_kinds.append(True)
            plain.append(None)
        else:
            call_args.append(a)
            arg_kinds.append(False)
            plain.append(a)
    with enable_grad(), forward_ctx:
        outputs = function(*call_args, **kwargs)
    outs = _as_tuple(outputs)
    leaves = _leaves_of(outs, aliases)
    # Drop the recorded graph: keep only the values (the intermediate arrays are freed
    # once ``outs`` goes away at the end of this call).
    detached = tuple(o.detach() if _is_tensor(o) else o for o in outs)
    tensor_args = [a for a in args if _is_tensor(a)]
    if not any(t.requires_grad for t in tensor_args) and not leaves:
        return detached if isinstance(outputs, tuple) else detached[0]
    info = {
        "function": function, "kwargs": kwargs, "rng_state": rng_state,
        "arg_kinds": arg_kinds, "plain_args": plain, "n_args": len(tensor_args),
        "outputs": detached if isinstance(outputs, tuple) else detached[0],
        "check": determinism_check != "none",
        "shapes": [tuple(o.shape) if _is_tensor(o) else None for o in detached],
        "recompute_ctx": recompute_ctx,
    }
    return _NonReentrantCheckpoint.apply(info, *tensor_args, *leaves)


# ======================================================================================
# Public API
# ======================================================================================
def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check="default", debug=False, preserve_rng_state=True, **kwargs):
    """Run ``function(*args)`` without keeping its intermediate values; recompute them in
    backward. Gradients are identical to running ``function`` directly.

    >>> import chainrule as torch
    >>> from chainrule.utils.checkpoint import checkpoint
    >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
    >>> checkpoint(lambda x: (x.exp() * x).sum(), x, use_reentrant=False).backward()
    >>> x.grad
    tensor([ 5.4366, 22.1672])
    """
    if determinism_check not in ("default", "none"):
        raise ValueError(f"determinism_check should be one of ['default', 'none'], but got "
                         f"{determinism_check}")
    if use_reentrant is None:
        use_reentrant = False
    if use_reentrant:
        if context_fn is not noop_context_fn or debug:
            raise ValueError(
                "Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if not any(_is_tensor(a) and a.requires_grad for a in args):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                          stacklevel=2)
        return CheckpointFunction.apply(function, preserve_rng_state, *args)
    return _checkpoint_nonreentrant(function, args, kwargs, preserve_rng_state,
                                    determinism_check, context_fn)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run a sequence of functions (or an ``nn.Sequential``) in ``segments`` checkpointed
    chunks; the last chunk runs normally."""
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if hasattr(functions, "children") and not isinstance(functions, (list, tuple)):
        functions = list(functions.children())
    functions = list(functions)

    def run(start, end):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(input)

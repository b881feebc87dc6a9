"""Higher-level derivatives built on the engine: vjp, jvp, jacobian, hessian, vhp, hvp.

Everything here calls ``autograd.grad`` on graphs that ordinary ops record; no op internals
are used. ``jvp`` (without create_graph or strict) runs in forward mode: the nodes' jvp rules
over the recorded graph (``forward_ad._graph_jvp``). So do forward-mode Jacobians (one pass
per input element). The other forward-mode products (``jvp`` with create_graph or strict,
``hvp``), and the cases a rule is missing for, use the double-vjp trick: for ``y = f(x)``
and a dummy cotangent ``u``, ``g(u) = J^T u`` is linear in ``u``, so ``d<g(u), v>/du = J v``. It needs ``create_graph=True`` on the first pass and
costs two reverse passes.

``_batched_grad`` (what ``autograd.grad(..., is_grads_batched=True)`` and the vectorized
reverse-mode Jacobians run) makes one reverse pass with a leading batch dimension on every
gradient (``_batched_backward``): formulas known to hold for a batch run once on it (with
the batch-aware ``sum_to`` for broadcasting operands), the others once per row. Under
``create_graph``, or with hooks or custom Functions in the graph, it loops over the batch
instead: one engine pass per row with the graph retained.
"""
from __future__ import annotations

import numpy as np

from . import forward_ad

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def _cr():
    import chainrule

    return chainrule


def _is_tensor(x) -> bool:
    from ..tensor import Tensor

    return isinstance(x, Tensor)


# ======================================================================================
# Argument handling (tensor-or-tuple, as PyTorch's functional API takes them)
# ======================================================================================
def _as_tuple(inp, arg_name=None, fn_name=None):
    """``(was_tuple, tuple_of_tensors)``; PyTorch's TypeError when an entry is no Tensor."""
    if arg_name is None and fn_name is None:
        if isinstance(inp, tuple):
            return True, inp
        if isinstance(inp, list):
            return True, tuple(inp)
        return False, (inp,)
    is_tuple = isinstance(inp, tuple)  # a list is one (invalid) input, as in PyTorch
    items = inp if is_tuple else (inp,)
    for i, el in enumerate(items):
        if not _is_tensor(el):
            if is_tuple:
                raise TypeError(
                    f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of "
                    f"Tensors but the value at index {i} has type {type(el)}.")
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of "
                f"Tensors but the given {arg_name} has type {type(el)}.")
    return is_tuple, items


def _tuple_postprocess(res, to_unpack):
    """Undo ``_as_tuple``: one flag per nesting level (outer first)."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _alias(t, create_graph: bool, need_graph: bool = True):
    """The tensor the user function sees for input ``t``.

    With ``create_graph`` and ``t`` requiring grad, a view of ``t`` keeps the result
    differentiable w.r.t. ``t`` (and is a distinct node, so a closure using ``t`` is not
    confused with the argument); otherwise a fresh leaf.
    """
    if create_graph and t.requires_grad:
        return t.view_as(t)
    d = t.detach()
    if need_graph and d._data.dtype.kind in "fc":
        d.requires_grad_(True)
    return d


def _grad_preprocess(inputs, create_graph, need_graph):
    return tuple(_alias(t, create_graph, need_graph) for t in inputs)


def _grad_postprocess(outputs, create_graph):
    if create_graph:
        return outputs
    if _is_tensor(outputs):
        return outputs.detach()
    if outputs is None:
        return None
    return tuple(_grad_postprocess(o, create_graph) for o in outputs)


def _validate_v(v, other, is_other_tuple):
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(
                f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if tuple(el_v.shape) != tuple(el_other.shape):
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(f"{prepend}v has invalid size: should be {el_other.shape} but "
                               f"got {el_v.shape}.")


def _check_requires_grad(inputs, input_type, strict):
    if not strict:
        return
    if input_type not in ("outputs", "grad_inputs", "jacobian", "hessian"):
        raise RuntimeError("Invalid input_type to _check_requires_grad")
    for i, inp in enumerate(inputs):
        if inp is None:
            raise RuntimeError(
                f"The output of the user-provided function is independent of input {i}. This "
                "is not allowed in strict mode.")
        if not inp.requires_grad:
            if input_type == "hessian":
                raise RuntimeError(
                    f"The hessian of the user-provided function with respect to input {i} is "
                    "independent of the input. This is not allowed in strict mode. You should "
                    "ensure that your function is thrice differentiable and that the hessian "
                    "depends on the inputs.")
            if input_type == "jacobian":
                raise RuntimeError(
                    "While computing the hessian, found that the jacobian of the user-provided "
                    f"function with respect to input {i} is independent of the input. This is "
                    "not allowed in strict mode. You should ensure that your function is twice "
                    "differentiable and that the jacobian depends on the inputs (this would be "
                    "violated by a linear function for example).")
            if input_type == "grad_inputs":
                raise RuntimeError(
                    f"The gradient with respect to input {i} is independent of the inputs of "
                    "the user-provided function.")
            raise RuntimeError(
                f"Output {i} of the user-provided function does not require gradients. The "
                "outputs must be computed in a differentiable manner from the input when "
                "running in strict mode.")


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """``autograd.grad`` that skips outputs not needing grad and gives None for unused inputs."""
    from . import grad

    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    new_out, new_go = [], []
    for out, go in zip(outputs, grad_outputs):
        if out is not None and out.requires_grad:
            new_out.append(out)
            new_go.append(go)
    if not new_out:
        return (None,) * len(inputs)
    return grad(new_out, inputs, new_go, allow_unused=True, create_graph=create_graph,
                retain_graph=retain_graph)


_STRICT_MSG = {
    "back": "The output of the user-provided function is independent of input {i}. This is "
            "not allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. "
                   "This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry "
                         "{i} in the grad_jacobian. This is not allowed in strict mode as it "
                         "prevents from using the double backward trick to replace forward "
                         "mode AD.",
}


def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    """Replace missing gradients by zeros (or raise in strict mode)."""
    cr = _cr()
    res = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(_STRICT_MSG[stage].format(i=i))
            g = cr.zeros_like(ref)
        elif strict and create_graph and not g.requires_grad:
            if "double" not in stage:
                raise RuntimeError(
                    f"The jacobian of the user-provided function is independent of input {i}. "
                    "This is not allowed in strict mode when create_graph=True.")
            raise RuntimeError(
                f"The hessian of the user-provided function is independent of input {i}. This "
                "is not allowed in strict mode when create_graph=True.")
        res.append(g)
    return tuple(res)


def _stack(tensors, shape=None, like=None):
    """Stack along a new dim 0, differentiably when any entry requires grad.

    Uses ``chainrule.stack`` when it exists; otherwise sums one-hot-weighted copies
    (only ops from the core set), which is exact and differentiable.
    """
    cr = _cr()
    if not tensors:
        return cr.zeros((0,) + tuple(shape or ()), dtype=like.dtype if like is not None else None)
    if not any(t.requires_grad for t in tensors):
        return cr.from_numpy(np.stack([t._data for t in tensors]))
    if len(tensors) == 1:
        return tensors[0].unsqueeze(0)
    stack = getattr(cr, "stack", None)
    if stack is not None:
        return stack(tensors)
    n = len(tensors)
    out = None
    for i, t in enumerate(tensors):
        e = np.zeros((n,) + (1,) * t.ndim, dtype=t._data.dtype)
        e[i] = 1
        term = t.unsqueeze(0) * cr.from_numpy(e)
        out = term if out is None else out + term
    return out


def _select(t, i):
    """Row ``i`` of ``t`` (differentiable when needed)."""
    cr = _cr()
    if not t.requires_grad:
        return cr.from_numpy(np.array(t._data[i]))
    try:
        return t[i]
    except (TypeError, AttributeError, NotImplementedError):
        e = np.zeros((t.shape[0],) + (1,) * (t.ndim - 1), dtype=t._data.dtype)
        e[i] = 1
        return (t * cr.from_numpy(e)).sum(0)


# ======================================================================================
# Batched gradients (autograd.grad(..., is_grads_batched=True))
# ======================================================================================
# -- one reverse pass for the whole batch ----------------------------------------------
# Every gradient carries a leading batch dimension (one row per cotangent). A node's
# formula runs once on the batch where it is known to hold for it, otherwise once per row:
# - ``jvp_batched`` node classes (elementwise ops, mm/bmm): the formula broadcasts. Operands
#   that broadcast are summed back here, by ``_sum_to_batched``, with the formula's own
#   reduction switched off (``shapes`` None while it runs), as ``_broadcast_jvp`` does.
# - ``backward_batch(g, *saved)`` methods (matmul, dot), and ``_BACKWARD_BATCH_RULES``
#   below for the shape and reduction ops whose formulas name absolute shapes or axes.
def _sum_to_batched(g, shape):
    """``sum_to`` for a (B, *s) gradient: (B, *shape), the batch dim kept."""
    shape = tuple(shape)
    gshape = g.shape[1:]
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(1, lead + 1)) + tuple(
        lead + 1 + i for i, s in enumerate(shape) if s == 1 and gshape[lead + i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(g.shape[:1] + shape)


def _view_back(node, g):
    return (g.reshape(g.shape[:1] + tuple(node.in_shape)),)


def _expand_back_batched(node, g):
    return (_sum_to_batched(g, node.in_shape),)


def _reduction_back(node, g, scale=None):
    from ..ops.reduction import _keep_shape

    if not node.keepdim:
        g = g.reshape(g.shape[:1] + _keep_shape(node.in_shape, node.axes))
    if scale is not None:
        g = g * scale
    return (np.broadcast_to(g, g.shape[:1] + tuple(node.in_shape)),)


def _mean_back(node, g):
    return _reduction_back(node, g, 1.0 / node.count)


def _transpose_back(node, g):
    d0, d1 = (d % (g.ndim - 1) + 1 for d in node.dims)
    return (g.swapaxes(d0, d1),)


def _backward_batch_rules():
    from ..ops import reduction, shape

    return {shape.ViewBackward0: _view_back, shape.ReshapeAliasBackward0: _view_back,
            shape.UnsafeViewBackward0: _view_back, shape.SqueezeBackward0: _view_back,
            shape.UnsqueezeBackward0: _view_back, shape.ExpandBackward0: _expand_back_batched,
            shape.TransposeBackward0: _transpose_back,
            reduction.SumBackward0: _reduction_back, reduction.SumBackward1: _reduction_back,
            reduction.MeanBackward0: _mean_back, reduction.MeanBackward1: _mean_back}


_BACKWARD_BATCH_RULES: dict = {}


def _node_backward_batched(node, g, saved, batch):
    """``node``'s gradients for its inputs, each with the leading batch dim of ``g``."""
    res = forward_ad.batched_form(node, _BACKWARD_BATCH_RULES, _backward_batch_rules,
                                  "backward_batch", g, saved)
    if res is not None:
        return res
    if getattr(type(node), "jvp_batched", False) and node.num_outputs == 1:
        shapes = getattr(node, "shapes", None)
        if shapes is None:
            return node.backward(g, *saved)
        node.shapes = None  # the formula's own sum_to would sum the batch dim away
        try:
            grads = node.backward(g, *saved)
        finally:
            node.shapes = shapes
        return tuple(None if gi is None else _sum_to_batched(gi, s)
                     for gi, s in zip(grads, shapes))
    rows = []
    for b in range(batch):  # no batched form known: one row at a time
        gb = [None if gi is None else gi[b] for gi in g] if node.num_outputs > 1 else g[b]
        rows.append(node.backward(gb, *saved))
    return tuple(None if rows[0][k] is None else np.stack([np.asarray(r[k]) for r in rows])
                 for k in range(len(rows[0])))


def _batched_backward(outputs, inputs, grads, retain_graph):
    """The gradients of ``outputs`` w.r.t. ``inputs`` for a batch of cotangents ``grads``
    (arrays (B, *output.shape)) in one reverse pass: arrays (B, *input.shape), or None
    where an input is not reached. Returns None (the caller loops) when the graph has hooks
    or nodes without a plain formula (custom Functions)."""
    from .engine import _nodes_reaching, count_dependencies
    from .function import FREED, SECOND_BACKWARD_MSG, AccumulateGrad, array_versions, edge
    from .function import unpack_saved

    batch = grads[0].shape[0]
    if batch == 0:
        return [np.zeros((0,) + tuple(t.shape), t._data.dtype) for t in inputs]
    roots = [(edge(o), g) for o, g in zip(outputs, grads)]
    deps = count_dependencies(node for (node, _), _ in roots)
    if any(node._has_hooks or node.__dict__.get("_hooks") or (
            type(node) is not AccumulateGrad and not node.plain_formula) for node in deps):
        return None
    captures = {}
    for i, t in enumerate(inputs):
        node, nr = edge(t)
        captures.setdefault(node, []).append((nr, i))
    needed = _nodes_reaching(deps, roots, captures)
    buffers = {}
    for (node, nr), g in roots:
        if node is not None:
            _add_batched(buffers, node, nr, g)
    ready = [node for (node, _), _ in roots if node is not None and deps[node] == 0]
    ready = list(dict.fromkeys(ready))
    results = [None] * len(inputs)
    used = []
    with np.errstate(all="ignore"):
        while ready:
            node = ready.pop()
            g = buffers.pop(node, None)
            for nr, i in captures.get(node, ()):
                gi = g[nr] if node.num_outputs > 1 else g
                if gi is not None:
                    results[i] = gi if results[i] is None else results[i] + gi
            if type(node) is AccumulateGrad or g is None or node not in needed:
                continue
            saved = node.saved
            if saved is FREED:
                raise RuntimeError(SECOND_BACKWARD_MSG)
            if array_versions and saved:
                saved = unpack_saved(node, saved)
            out = _node_backward_batched(node, g, saved, batch)
            used.append(node)
            for (child, nr), gi in zip(node.next_functions, out):
                if child is None:
                    continue
                if gi is not None:
                    _add_batched(buffers, child, nr, np.asarray(gi))
                deps[child] -= 1
                if deps[child] == 0 and child in needed:
                    ready.append(child)
    if not retain_graph:
        for node in used:
            if node.saved:
                node.saved = FREED
    return results


def _add_batched(buffers, node, nr, g):
    if node.num_outputs == 1:
        old = buffers.get(node)
        buffers[node] = g if old is None else old + g
    else:
        slot = buffers.setdefault(node, [None] * node.num_outputs)
        slot[nr] = g if slot[nr] is None else slot[nr] + g


def _batched_grad(outputs, inputs, grads, retain_graph, create_graph, allow_unused):
    """``autograd.grad`` with a leading batch dimension on every grad_output.

    One engine pass per batch row (graph retained between rows); see the module docstring
    for why the formulas are not run once on the batch.
    """
    from . import grad

    if any(g is None for g in grads):
        raise RuntimeError("grad_outputs must be given for every output when "
                           "is_grads_batched=True")
    batch = None
    for i, (g, out) in enumerate(zip(grads, outputs)):
        if g.ndim == 0 or tuple(g.shape[1:]) != tuple(out.shape):
            raise RuntimeError(
                f"If `is_grads_batched=True`, we interpret the first dimension of each grad_output "
                f"as the batch dimension. The sizes of the remaining dimensions are expected to "
                f"match the shape of corresponding output, but a mismatch was detected: "
                f"grad_output[{i}] has a shape of {g.shape} and output[{i}] has a shape of "
                f"{out.shape}. If you only want some tensors in `grad_output` to be considered "
                f"batched, consider using vmap.")
        if batch is None:
            batch = g.shape[0]
        elif g.shape[0] != batch:
            raise RuntimeError("all grad_outputs must have the same batch size when "
                               "is_grads_batched=True")
    if retain_graph is None:
        retain_graph = create_graph
    if not create_graph and not any(g.requires_grad for g in grads):
        arrays = _batched_backward(outputs, inputs, [np.asarray(g._data) for g in grads],
                                   retain_graph)
        if arrays is not None:
            cr = _cr()
            result = []
            for a, inp in zip(arrays, inputs):
                if a is None:
                    if not allow_unused:
                        raise RuntimeError(
                            "One of the differentiated Tensors appears to not have been used "
                            "in the graph. Set allow_unused=True if this is the desired "
                            "behavior.")
                    result.append(None)
                    continue
                a = np.broadcast_to(a, (batch,) + tuple(inp.shape))
                result.append(cr.from_numpy(np.array(a, dtype=inp._data.dtype)))
            return tuple(result)
    rows = []
    for b in range(batch):
        last = b == batch - 1
        rows.append(grad(outputs, inputs, tuple(_select(g, b) for g in grads),
                         retain_graph=True if not last else retain_graph,
                         create_graph=create_graph, allow_unused=True))
    result = []
    for j, inp in enumerate(inputs):
        col = [r[j] for r in rows]
        if all(c is None for c in col):
            if not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior.")
            result.append(None)
            continue
        cr = _cr()
        col = [c if c is not None else cr.zeros_like(inp) for c in col]
        result.append(_stack(col, inp.shape, inp))
    return tuple(result)


# ======================================================================================
# vjp / jvp
# ======================================================================================
def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), v^T J)``: a vector-Jacobian product.

    >>> import chainrule as torch
    >>> from chainrule.autograd.functional import vjp
    >>> vjp(lambda x: x ** 2, torch.tensor([1.0, 2.0]), torch.tensor([1.0, 1.0]))[1]
    tensor([2., 4.])
    """
    from .grad_mode import enable_grad

    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(
            outputs, "outputs of the user-provided function", "vjp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        if v is not None:
            _, v = _as_tuple(v, "v", "vjp")
            v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
            _validate_v(v, outputs, is_outputs_tuple)
        else:
            if len(outputs) != 1 or outputs[0].numel() != 1:
                raise RuntimeError(
                    "The vector v can only be None if the user-provided function returns a "
                    "single Tensor with a single element.")
        grad_res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        vjp_res = _fill_in_zeros(grad_res, inputs, strict, create_graph, "back")
    outputs = _grad_postprocess(outputs, create_graph)
    vjp_res = _grad_postprocess(vjp_res, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(vjp_res, is_inputs_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), J v)``: a Jacobian-vector product, in forward mode (the nodes' jvp
    rules) unless ``create_graph`` or ``strict`` asks for the double-vjp trick.

    >>> import chainrule as torch
    >>> from chainrule.autograd.functional import jvp
    >>> jvp(lambda x: x ** 2, torch.tensor([1.0, 2.0]), torch.tensor([1.0, 0.0]))[1]
    tensor([2., 0.])
    """
    from .grad_mode import enable_grad

    cr = _cr()
    with enable_grad():
        is_inputs_tuple, inputs, v = _inputs_and_v(inputs, v, create_graph, "jvp")
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(
            outputs, "outputs of the user-provided function", "jvp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        if not create_graph and not strict and v is not None:
            # Forward mode: one pass of the nodes' jvp rules over the recorded graph.
            jv = forward_ad._graph_jvp(outputs, inputs, v, arrays_only=True)
            if jv is not None:
                return (_tuple_postprocess(_grad_postprocess(outputs, False), is_outputs_tuple),
                        _tuple_postprocess(tuple(t.detach() for t in jv), is_outputs_tuple))
        # The backward pass is linear in grad_outputs: differentiate it w.r.t. them.
        grad_outputs = tuple(cr.zeros_like(out).requires_grad_(True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict=strict)
        if create_graph:
            with enable_grad():
                grad_res = _autograd_grad(grad_inputs, grad_outputs, v,
                                          create_graph=create_graph)
                jvp_res = _fill_in_zeros(grad_res, outputs, strict, create_graph, "back_trick")
        else:
            grad_res = _autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
            jvp_res = _fill_in_zeros(grad_res, outputs, strict, create_graph, "back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    jvp_res = _grad_postprocess(jvp_res, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(jvp_res, is_outputs_tuple))


# ======================================================================================
# jacobian / hessian
# ======================================================================================
def _basis(out):
    """The one-hot cotangents for every element of ``out``: shape (numel, *out.shape)."""
    n = out.numel()
    return _cr().from_numpy(np.eye(n, dtype=out._data.dtype).reshape((n,) + tuple(out.shape)))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: for each (output, input) pair, a tensor of
    shape ``output.shape + input.shape``.

    >>> import chainrule as torch
    >>> from chainrule.autograd.functional import jacobian
    >>> jacobian(lambda x: x ** 2, torch.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
    """
    from .grad_mode import enable_grad

    cr = _cr()
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            'function has more outputs than inputs, "forward-mode" tends to be more performant. '
            'Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` and "
                "`strategy=\"forward-mode\"` are not supported together (yet). Please either "
                "set `create_graph=False` or `strategy=\"reverse-mode\"`.")
        if not vectorize:
            raise NotImplementedError(
                "Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                "only implemented for `vectorize=True`.")
    if strict and vectorize:
        raise RuntimeError(
            "torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
            "supported together. Please either set `strict=False` or `vectorize=False`.")

    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(
            outputs, "outputs of the user-provided function", "jacobian")
        _check_requires_grad(outputs, "outputs", strict=strict)

        if strategy == "forward-mode":
            jac = _jacfwd_trick(outputs, inputs)
        elif vectorize:
            jac = _jacrev_batched(outputs, inputs, create_graph)
        else:
            jac = []
            for i, out in enumerate(outputs):
                rows = [[] for _ in inputs]
                basis = _basis(out)
                for k in range(out.numel()):
                    vj = _autograd_grad((out,), inputs, (_select(basis, k),),
                                        retain_graph=True, create_graph=create_graph)
                    for j, (g, inp) in enumerate(zip(vj, inputs)):
                        if g is None:
                            if strict:
                                raise RuntimeError(
                                    f"Output {i} of the user-provided function is independent "
                                    f"of input {j}. This is not allowed in strict mode.")
                            g = cr.zeros_like(inp)
                        rows[j].append(g)
                jac.append(tuple(
                    _stack(r, inp.shape, inp).reshape(tuple(out.shape) + tuple(inp.shape))
                    for r, inp in zip(rows, inputs)))
        jac = tuple(tuple(_grad_postprocess(j, create_graph) for j in row) for row in jac)
    return _tuple_postprocess(jac, (is_outputs_tuple, is_inputs_tuple))


def _jacrev_batched(outputs, inputs, create_graph):
    """Reverse mode, all rows from one batched-cotangent call per output."""
    cr = _cr()
    jac = []
    for out in outputs:
        row = []
        grads = (_batched_grad((out,), inputs, (_basis(out),), retain_graph=True,
                               create_graph=create_graph, allow_unused=True)
                 if out.requires_grad else (None,) * len(inputs))
        for g, inp in zip(grads, inputs):
            shape = tuple(out.shape) + tuple(inp.shape)
            row.append(cr.zeros(shape, dtype=inp.dtype) if g is None else g.reshape(shape))
        jac.append(tuple(row))
    return jac


def _jacfwd_by_rules(outputs, inputs):
    """Forward mode: the columns ``J e_k`` for every input element from the nodes' jvp rules
    over the recorded graph, the whole basis of an input in one batched pass; None when a
    dual level is active or some node has no rule."""
    if forward_ad._current is not None:
        return None
    jac = forward_ad._jacobian_by_rules(outputs, inputs)
    if jac is None:
        return None
    cr = _cr()
    return [tuple(cr.from_numpy(a) for a in row) for row in jac]


def _jacfwd_trick(outputs, inputs):
    """Forward mode (columns J e_k): by the nodes' jvp rules, else by the double-vjp trick,
    batched over the basis."""
    jac = _jacfwd_by_rules(outputs, inputs)
    if jac is not None:
        return jac
    cr = _cr()
    us = tuple(cr.zeros_like(out).requires_grad_(True) for out in outputs)
    g_in = _autograd_grad(outputs, inputs, us, create_graph=True)
    # columns[j][i]: (inp_j.numel(), *out_i.shape)
    columns = []
    for g, inp in zip(g_in, inputs):
        if g is None or not g.requires_grad:
            columns.append((None,) * len(outputs))
            continue
        columns.append(_batched_grad((g,), us, (_basis(inp),), retain_graph=True,
                                     create_graph=False, allow_unused=True))
    jac = []
    for i, out in enumerate(outputs):
        row = []
        for j, inp in enumerate(inputs):
            shape = tuple(out.shape) + tuple(inp.shape)
            col = columns[j][i]
            if col is None:
                row.append(cr.zeros(shape, dtype=inp.dtype))
                continue
            # (n_in, *out) -> (*out, *in)
            data = col._data.reshape(inp.numel(), out.numel()).T.reshape(shape)
            row.append(cr.from_numpy(np.ascontiguousarray(data)))
        jac.append(tuple(row))
    return jac


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of scalar ``func`` at ``inputs`` (nested tuples for several inputs).

    >>> import chainrule as torch
    >>> from chainrule.autograd.functional import hessian
    >>> hessian(lambda x: (x ** 3).sum(), torch.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict=strict)
        if is_out_tuple or not _is_tensor(out):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError(
                "The Tensor returned by the function given to hessian should contain a single "
                "element")
        return out.reshape(())

    def jac_func(*inp):
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))


def _inputs_and_v(inputs, v, create_graph, name):
    """Prepare ``inputs`` (and ``v``, shaped like them) for jvp, hvp and vhp; ``v`` may be
    None only for a single one-element input."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)
    inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
    if v is not None:
        _, v = _as_tuple(v, "v", name)
        v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
        _validate_v(v, inputs, is_inputs_tuple)
    elif len(inputs) != 1 or inputs[0].numel() != 1:
        raise RuntimeError(
            "The vector v can only be None if the input to the user-provided function "
            "is a single Tensor with a single element.")
    return is_inputs_tuple, inputs, v


def _scalar_func_call(func, inputs, v, create_graph, strict, name):
    """The checks and the call that hvp and vhp share: ``func`` must map ``inputs`` to a
    single one-element Tensor; ``v`` must match the inputs (or be None for one scalar)."""
    is_inputs_tuple, inputs, v = _inputs_and_v(inputs, v, create_graph, name)
    outputs = func(*inputs)
    is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                          name)
    _check_requires_grad(outputs, "outputs", strict=strict)
    if is_outputs_tuple or not _is_tensor(outputs[0]):
        raise RuntimeError(f"The function given to {name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(
            f"The Tensor returned by the function given to {name} should contain a single "
            "element")
    return is_inputs_tuple, inputs, v, outputs, is_outputs_tuple


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), v^T H)`` for scalar ``func``."""
    from .grad_mode import enable_grad

    with enable_grad():
        is_inputs_tuple, inputs, v, outputs, is_outputs_tuple = _scalar_func_call(
            func, inputs, v, create_graph, strict, "vhp")
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        grad_res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        vhp_res = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back")
    outputs = _grad_postprocess(outputs, create_graph)
    vhp_res = _grad_postprocess(vhp_res, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(vhp_res, is_inputs_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), H v)`` for scalar ``func``, by the double-backward trick."""
    from .grad_mode import enable_grad

    cr = _cr()
    with enable_grad():
        is_inputs_tuple, inputs, v, outputs, is_outputs_tuple = _scalar_func_call(
            func, inputs, v, create_graph, strict, "hvp")
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        grad_jac = tuple(cr.zeros_like(inp).requires_grad_(True) for inp in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict=strict)
        grad_res = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        hvp_res = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    hvp_res = _grad_postprocess(hvp_res, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(hvp_res, is_inputs_tuple))

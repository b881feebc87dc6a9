"""Forward-mode AD with dual tensors: dual_level, make_dual, unpack_dual (PyTorch's API).

How it works here:

- ``make_dual(x, t)`` returns a tensor that *requires grad* (a fresh leaf, or a view of ``x``
  when ``x`` already requires grad) and carries the tangent in ``_fw_grad``. Ops on it
  therefore record the ordinary backward graph, and the op forwards pay nothing for forward
  mode.
- ``unpack_dual(y)`` walks ``y``'s graph down to the dual tensors (iteratively), then
  evaluates the tangents bottom-up in topological order with each node's ``jvp`` rule
  (``node.jvp(tangents, *saved)``: one input tangent per ``next_functions`` edge, None where
  an input has none; written next to the node's ``backward``). The rules run on NumPy arrays
  unless the tangent must stay differentiable (a tangent that requires grad, or a graph that
  reaches tensors requiring grad other than this level's fresh duals): then they run on
  Tensors with grad recording on, like backward formulas under ``create_graph``.
  Tangents are cached per node for the level.
- Where a node on the way has no ``jvp`` rule (or a custom Function defines no ``jvp``), the
  whole tangent is computed by the double-vjp trick instead: with a dummy cotangent ``u``,
  ``g(u) = sum_i J_i^T u`` over the dual inputs ``i`` is linear in ``u``, so
  ``d/du sum_i <g_i(u), t_i> = sum_i J_i t_i``: two reverse passes (the first with
  ``create_graph=True``).
- Rules read the arrays the nodes saved for backward. A backward without ``retain_graph``
  frees them: ``unpack_dual`` of a result whose graph was freed raises PyTorch's "Trying to
  backward through the graph a second time" error (unpack before calling backward, or pass
  ``retain_graph=True``). Tangents already computed (cached) stay available. Likewise an
  in-place write into a value a node saved, made before ``unpack_dual``, raises the in-place
  error backward would raise (PyTorch, computing tangents eagerly, has none).

Consequences, compared with PyTorch's eager forward mode:
- dual tensors report ``requires_grad=True`` inside the level (PyTorch: False), and results
  computed from them carry a ``grad_fn``; leaving the level turns the fresh dual leaves back
  into plain tensors and drops their tangents.
- tangents only flow through recorded ops: under ``no_grad`` nothing is recorded, so a
  result computed there has tangent ``None``.
- tangents may themselves require grad (backward over forward works: the tangent stays
  connected to tensors outside the level that require grad).
"""
from __future__ import annotations

import weakref
from collections import namedtuple

import numpy as np

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level",
           "make_dual", "unpack_dual"]

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])


class _Level:
    __slots__ = ("duals", "fresh", "index", "tangents")

    def __init__(self, index):
        self.index = index
        self.duals = []  # weakrefs to dual tensors made at this level
        self.fresh = set()  # ids of duals that are fresh leaves (made from non-grad tensors)
        # node -> (tensor_mode, [tangent per output]) computed by the jvp rules
        self.tangents = weakref.WeakKeyDictionary()


_current = None  # the active _Level (nesting is not supported, as in PyTorch)
_next_index = 0


def _cr():
    import chainrule

    return chainrule


def enter_dual_level() -> int:
    """Enter a new forward-grad level; returns its index."""
    global _current, _next_index
    if _current is not None:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _current = _Level(_next_index)
    _next_index += 1
    return _current.index


def exit_dual_level(*, level=None) -> None:
    """Leave the current level: its duals lose their tangents."""
    global _current
    if _current is None or (level is not None and level != _current.index):
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that "
                           "was created. This is not supported.")
    for ref in _current.duals:
        t = ref()
        if t is None:
            continue
        t.__dict__.pop("_fw_grad", None)
        t.__dict__.pop("_fw_level", None)
        t.__dict__.pop("_fw_cache", None)
        t.__dict__.pop("_fw_node", None)
        if id(t) in _current.fresh and t.grad_fn is None:
            t._requires_grad = False  # a plain tensor again
    _current = None


class dual_level:
    """Context manager for forward AD: dual tensors exist only inside it.

    >>> import chainrule as torch
    >>> import chainrule.autograd.forward_ad as fwAD
    >>> with fwAD.dual_level():
    ...     x = fwAD.make_dual(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 0.0]))
    ...     fwAD.unpack_dual(x ** 2).tangent
    tensor([2., 0.])
    """

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()
        return False

    def __call__(self, func):
        import functools

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with dual_level():
                return func(*args, **kwargs)

        return wrapper


def _level(level):
    if level is None:
        return _current
    if _current is None or level != _current.index:
        return None
    return _current


def make_dual(tensor, tangent, *, level=None):
    """A tensor whose primal is ``tensor`` and whose tangent (forward gradient) is ``tangent``."""
    lv = _level(level)
    if lv is None:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    if tensor._data.dtype.kind not in "fc":
        raise ValueError(
            f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if tangent._data.dtype.kind not in "fc":
        raise ValueError(
            f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the "
            f"original Tensor, this is not supported. Tensor is of size {list(tensor.shape)} "
            f"while the given forward gradient is of size {list(tangent.shape)}.")
    if tensor.requires_grad:
        dual = tensor.view_as(tensor)
    else:
        dual = tensor.detach().requires_grad_(True)
        lv.fresh.add(id(dual))
    dual._fw_grad = tangent
    dual.__dict__["_fw_level"] = lv.index
    dual.__dict__["_fw_node"] = dual.grad_fn  # None for a fresh leaf
    lv.duals.append(weakref.ref(dual))
    return dual


def _own_tangent(t, lv):
    d = t.__dict__
    # An in-place op on a view dual rebases its grad_fn: its tangent is then computed.
    return d.get("_fw_level") == lv.index and d.get("_fw_grad") is not None and \
        d.get("_fw_node") is t.grad_fn


def _is_dual(t, lv) -> bool:
    return t.__dict__.get("_fw_level") == lv.index and t.__dict__.get("_fw_grad") is not None


def _dual_nodes(lv) -> dict:
    """``{node: [(output_nr, dual tensor)]}``: the graph node each live dual of ``lv`` was
    made at (its view node, or the accumulator of a fresh leaf; duals never used have none)."""
    by_node: dict = {}
    for ref in lv.duals:
        d = ref()
        if d is None or not _is_dual(d, lv):
            continue
        node = d.__dict__.get("_fw_node")
        if node is not None:
            by_node.setdefault(node, []).append((d._output_nr, d))
        else:
            acc = d._acc_ref() if d._acc_ref is not None else None
            if acc is not None:
                by_node.setdefault(acc, []).append((0, d))
    return by_node


def _reached_duals(t, lv):
    """The live duals of level ``lv`` whose graph node the graph of ``t`` reaches."""
    from .function import AccumulateGrad

    by_node = _dual_nodes(lv)
    if not by_node or t.grad_fn is None:
        return []
    found, seen, stack = [], set(), [t.grad_fn]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node in by_node:
            found.extend(d for _, d in by_node[node])
            # keep walking: another dual may sit below a view dual
        if type(node) is AccumulateGrad:
            continue
        for child, _ in node.next_functions:
            if child is not None and child not in seen:
                stack.append(child)
    return found


# ======================================================================================
# Tangents by the nodes' jvp rules
# ======================================================================================
_NO_RULE = object()  # some node on the way has no jvp rule: use the double-vjp trick


def _has_jvp(node) -> bool:
    if getattr(type(node), "jvp", None) is None:
        return False
    fwd = getattr(node, "_forward_cls", None)  # a custom Function's node
    if fwd is not None:
        from .function import Function

        return fwd.jvp is not Function.jvp
    return True


def _walk(root, fresh):
    """Nodes under ``root`` in topological order (inputs first), found iteratively, and
    whether the graph reaches a tensor requiring grad other than the ``fresh`` leaves."""
    from .function import AccumulateGrad

    order, seen, stack = [], set(), [(root, False)]
    foreign = False
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        if type(node) is AccumulateGrad:
            if id(node.variable) not in fresh:
                foreign = True
            continue
        edges = node.next_functions
        if not edges:
            foreign = True  # a node with no inputs: not this level's, keep the graph
        for child, _ in edges:
            if child is not None and child not in seen:
                stack.append((child, False))
    return order, foreign


def _hinted_input_shapes(node) -> dict:
    """Input shapes a node knows without computing anything: ``{edge index: shape}``."""
    hints = {}
    for value, src in zip(node.saved, getattr(node, "saved_spec", ())):
        if isinstance(src, int) and src >= 0 and isinstance(value, np.ndarray):
            hints[src] = value.shape
    # ``in_shape`` is the input's shape in the op families' one-input nodes (elsewhere the
    # name might mean something else: not trusted).
    if len(node.next_functions) == 1 and type(node).__module__.startswith("chainrule.ops."):
        shape = getattr(node, "in_shape", None)
        if isinstance(shape, tuple):
            hints[0] = shape
    return hints


def _set_out_shapes(order, live, root, root_nr, root_shape, need) -> None:
    """Give every node in ``need`` (rules that must know their output's shape: views,
    expand) ``node._out_shape``, going down from the root: an input's shape comes from what
    the consumer saved or, failing that, from the consumer's backward run on zeros."""
    from .function import FREED, AccumulateGrad, array_versions, unpack_saved

    shapes = {(root, root_nr): root_shape}
    for node in reversed(order):
        if not need:
            return
        if node not in live or type(node) is AccumulateGrad:
            continue
        n = node.num_outputs
        outs = [shapes.get((node, i)) for i in range(n)]
        if node in need:
            need.discard(node)
            if outs[0] is not None:
                node.__dict__["_out_shape"] = outs[0]
        known = node.__dict__.get("_out_shape")
        if known is not None and n == 1:
            outs[0] = known
        edges = node.next_functions
        hints = _hinted_input_shapes(node)
        meta = node.__dict__.get("_input_meta")
        if meta is not None:  # a custom Function knows its input shapes
            hints = dict(enumerate(m for m in meta if m is not None))
        missing = [k for k, (c, _) in enumerate(edges)
                   if c is not None and c in live and k not in hints]
        if missing and any(o is not None for o in outs) and (n > 1 or outs[0] is not None) \
                and node.saved is not FREED:
            dt = np.float64  # only the shapes of what comes back matter
            g = [None if o is None else np.zeros(o, dt) for o in outs] if n > 1 else \
                np.zeros(outs[0], dt)
            saved = node.saved
            if array_versions and saved:
                saved = unpack_saved(node, saved)
            with np.errstate(all="ignore"):
                grads = node.backward(g, *saved)
            for k in missing:
                if grads[k] is not None:
                    hints[k] = np.shape(grads[k])
        for k, (c, nr) in enumerate(edges):
            if c is not None and k in hints:
                shapes.setdefault((c, nr), tuple(hints[k]))


def _tangent_of(d):
    """A dual tensor's tangent (entries of ``duals`` may also be the tangent itself)."""
    t = d.__dict__.get("_fw_grad")
    return d if t is None else t


def _input_tangents(node, tan):
    """The tangents flowing into ``node`` (one per edge, None where none flows), from
    ``tan`` (node -> its outputs' tangents); None when no edge carries one."""
    tin, anything = [], False
    for child, nr in node.next_functions:
        ct = tan.get(child) if child is not None else None
        t = ct[nr] if ct is not None else None
        anything = anything or t is not None
        tin.append(t)
    return tin if anything else None


def _tangent_by_rules(tensor, lv, duals=None, arrays_only=False):
    """``tensor``'s tangent from the jvp rules; None when no dual is reached; ``_NO_RULE``
    when some node on the way has no rule. ``duals`` (default: the level's dual tensors)
    maps graph nodes to ``[(output_nr, dual tensor or tangent)]``. ``arrays_only``: the
    caller wants no differentiable tangent (the rules run on arrays even where the graph
    reaches tensors that require grad)."""
    from ..tensor import Tensor, _make
    from .function import FREED, SECOND_BACKWARD_MSG, AccumulateGrad, array_versions, unpack_saved
    from .grad_mode import enable_grad

    root = tensor.grad_fn
    if root is None:
        return None
    if duals is None:
        duals = _dual_nodes(lv)
    if not duals:
        return None
    order, foreign = _walk(root, lv.fresh)
    live = set()
    for node in order:
        if node in duals or (type(node) is not AccumulateGrad and any(
                c in live for c, _ in node.next_functions if c is not None)):
            live.add(node)
    if root not in live:
        return None
    tensor_mode = not arrays_only and (foreign or any(
        _tangent_of(d).requires_grad for pairs in duals.values() for _, d in pairs))
    cache = lv.tangents
    need = set()
    for node in live:
        if node in duals:
            continue
        if not _has_jvp(node):
            return _NO_RULE
        if getattr(type(node), "jvp_needs_out_shape", False) and \
                "_out_shape" not in node.__dict__:
            need.add(node)
    if need:
        _set_out_shapes(order, live, root, tensor._output_nr, tuple(tensor.shape), set(need))
        if any("_out_shape" not in node.__dict__ for node in need):
            return _NO_RULE  # a shape could not be found: the double-vjp trick

    tan = {}
    with np.errstate(all="ignore"):
        for node in order:
            if node not in live:
                continue
            if node in duals:
                outs = [None] * node.num_outputs
                for nr, d in duals[node]:
                    outs[nr] = _tangent_of(d) if tensor_mode else _tangent_of(d)._data
                tan[node] = outs
                continue
            hit = cache.get(node)
            if hit is not None and hit[0] == tensor_mode:
                tan[node] = hit[1]
                continue
            tin = _input_tangents(node, tan)
            if tin is None:
                tan[node] = None
                continue
            saved = node.saved
            if saved is FREED:
                raise RuntimeError(SECOND_BACKWARD_MSG)
            if array_versions and saved:  # as Node.apply: version checks, unpack hooks
                saved = unpack_saved(node, saved)
            if tensor_mode:
                with enable_grad():
                    out = node.jvp(tin, *node._saved_tensors())
            else:
                out = node.jvp(tin, *saved)
            if out is NotImplemented:  # the rule does not cover this case
                return _NO_RULE
            outs = list(out) if isinstance(out, (list, tuple)) else [out]
            tan[node] = outs
            cache[node] = (tensor_mode, outs)
    res = tan[root]
    res = res[tensor._output_nr] if res is not None else None
    if res is None:
        return _cr().zeros_like(tensor)
    if isinstance(res, Tensor):
        return res
    res = np.asarray(res)
    if not res.flags.writeable:  # a broadcast view (expand): give the user its own memory
        res = res.copy()
    return _make(res, False, None)


# ======================================================================================
# Jacobians by the rules, all basis directions at once (jacfwd)
# ======================================================================================
# ``_jacobian_by_rules`` pushes the whole identity basis of an input through the recorded
# graph in one pass: every tangent carries a leading batch dimension (one row per basis
# direction). A node's rule runs once on the batch when it is known to hold for batched
# tangents, otherwise once per row. Which rules hold:
# - ``jvp_batched = True`` on the node class: the rule itself accepts leading batch dims
#   (elementwise rules: written with broadcasting ops; products: NumPy's matmul broadcasts).
#   For nodes with ``shapes`` (two-operand ops whose operands broadcast), each tangent is
#   first given the output's rank, so that broadcasting lines the batch dims up.
# - a ``jvp_batch(tangents, *saved)`` method: a rule of its own for batched tangents (None
#   where it does not cover the case).
# - ``_BATCH_RULES`` below: linear shape ops whose rules name absolute shapes or axes
#   (view, expand, sum, mean), restated for one leading batch dim.
def _view_batched(node, tangents):
    t = tangents[0]
    return t.reshape(t.shape[:1] + tuple(node._out_shape))


def _expand_batched(node, tangents):
    t, out = tangents[0], tuple(node._out_shape)
    t = t.reshape(t.shape[:1] + (1,) * (len(out) - t.ndim + 1) + t.shape[1:])
    return np.broadcast_to(t, t.shape[:1] + out)


def _reduction_axes(node, t):
    ndim = t.ndim - 1
    if node.axes is None:
        return tuple(range(1, t.ndim))
    return tuple(a % ndim + 1 for a in node.axes) if ndim else ()


def _sum_batched(node, tangents):
    t = tangents[0]
    return t.sum(axis=_reduction_axes(node, t), keepdims=node.keepdim)


def _mean_batched(node, tangents):
    return _sum_batched(node, tangents) / node.count


def _batch_rules():
    from ..ops import reduction, shape

    return {shape.ViewBackward0: _view_batched, shape.ReshapeAliasBackward0: _view_batched,
            shape.UnsafeViewBackward0: _view_batched, shape.SqueezeBackward0: _view_batched,
            shape.UnsqueezeBackward0: _view_batched, shape.ExpandBackward0: _expand_batched,
            reduction.SumBackward0: _sum_batched, reduction.SumBackward1: _sum_batched,
            reduction.MeanBackward0: _mean_batched, reduction.MeanBackward1: _mean_batched}


_BATCH_RULES: dict = {}


def batched_form(node, table, build, method, arg, saved):
    """The result of ``node``'s batched form on ``arg`` (tangents or a gradient with a
    leading batch dim): the entry for its class in ``table`` (filled by ``build()`` on first
    use), else the node's own ``method``; None when neither covers the case. Shared by the
    forward (jvp) and reverse (backward) batched passes."""
    if not table:
        table.update(build())
    rule = table.get(type(node))
    if rule is not None:
        return rule(node, arg)
    own = getattr(node, method, None)
    return own(arg, *saved) if own is not None else None


def _jvp_batched(node, tin, saved, batch):
    """``node``'s rule on tangents with one leading batch dim of size ``batch``."""
    res = batched_form(node, _BATCH_RULES, _batch_rules, "jvp_batch", tin, saved)
    if res is not None:
        return res
    if getattr(type(node), "jvp_batched", False):
        shapes = getattr(node, "shapes", None)
        if shapes is not None:  # operands broadcast: give each tangent the output's rank
            rank = max(len(s) for s in shapes)
            tin = [t if t is None or t.ndim == rank + 1 else
                   t.reshape(t.shape[:1] + (1,) * (rank + 1 - t.ndim) + t.shape[1:])
                   for t in tin]
        return node.jvp(tin, *saved)
    rows = []
    for b in range(batch):  # no batched form known: one row at a time
        out = node.jvp([None if t is None else t[b] for t in tin], *saved)
        if out is NotImplemented:
            return out
        rows.append(out)
    if node.num_outputs > 1 or isinstance(rows[0], (list, tuple)):
        return [None if rows[0][i] is None else np.stack([np.asarray(r[i]) for r in rows])
                for i in range(len(rows[0]))]
    return np.stack([np.asarray(r) for r in rows])


def _jacobian_by_rules(outputs, inputs):
    """``[[d out_i / d in_j]]`` as arrays of shape ``out_i.shape + in_j.shape``, by the jvp
    rules over the graph already recorded from ``inputs`` (leaves that require grad) to
    ``outputs``, with the identity basis of each input pushed through in one batched pass.
    None when a node on the way has no rule (callers use the double-vjp trick)."""
    from .function import FREED, SECOND_BACKWARD_MSG, array_versions, unpack_saved

    cr = _cr()
    where = {}  # graph node -> [(output_nr, input index)]
    fresh = set()
    for j, x in enumerate(inputs):
        if x.grad_fn is not None:
            where.setdefault(x.grad_fn, []).append((x._output_nr, j))
        else:
            fresh.add(id(x))
            acc = x._acc_ref() if x._acc_ref is not None else None
            if acc is not None:
                where.setdefault(acc, []).append((0, j))
    order, seen = [], set()
    for out in outputs:
        if isinstance(out, cr.Tensor) and out.grad_fn is not None:
            for node in _walk(out.grad_fn, fresh)[0]:
                if node not in seen:
                    seen.add(node)
                    order.append(node)
    live = set()
    for node in order:
        if node in where or (node.next_functions and any(
                c in live for c, _ in node.next_functions if c is not None)):
            live.add(node)
    plan = [node for node in order if node in live]
    for node in plan:
        if node not in where and not _has_jvp(node):
            return None
    for out in outputs:
        need = {n for n in plan if getattr(type(n), "jvp_needs_out_shape", False)
                and "_out_shape" not in n.__dict__}
        if need and isinstance(out, cr.Tensor) and out.grad_fn in live:
            _set_out_shapes(order, live, out.grad_fn, out._output_nr, tuple(out.shape), need)
    if any(getattr(type(n), "jvp_needs_out_shape", False) and "_out_shape" not in n.__dict__
           for n in plan if n not in where):
        return None
    saved_of = {}
    for node in plan:
        if node in where:
            continue
        saved = node.saved
        if saved is FREED:
            raise RuntimeError(SECOND_BACKWARD_MSG)
        saved_of[node] = unpack_saved(node, saved) if array_versions and saved else saved

    jac = [[None] * len(inputs) for _ in outputs]
    for j, x in enumerate(inputs):
        n = x.numel()
        basis = np.eye(n, dtype=x._data.dtype).reshape((n,) + tuple(x.shape))
        tan = {}
        with np.errstate(all="ignore"):
            for node in plan:
                if node in where:
                    outs = [None] * node.num_outputs
                    for nr, k in where[node]:
                        if k == j:
                            outs[nr] = basis
                    tan[node] = outs
                    continue
                tin = _input_tangents(node, tan)
                if tin is None or n == 0:
                    tan[node] = None
                    continue
                res = _jvp_batched(node, tin, saved_of[node], n)
                if res is NotImplemented:
                    return None
                tan[node] = list(res) if isinstance(res, (list, tuple)) else [res]
        for i, out in enumerate(outputs):
            oshape = tuple(out.shape)
            t = None
            if isinstance(out, cr.Tensor) and out.grad_fn is not None:
                ts = tan.get(out.grad_fn)
                t = ts[out._output_nr] if ts is not None else None
            elif out is x:
                t = basis
            if t is None or n == 0:
                jac[i][j] = np.zeros(oshape + tuple(x.shape), out._data.dtype)
                continue
            t = np.asarray(t)
            if t.shape != (n,) + oshape:  # a rule that does not hold batched: the slow path
                return None
            # (n, *out) -> (*out, *in)
            jac[i][j] = np.ascontiguousarray(np.moveaxis(t.reshape((n,) + oshape), 0, -1)
                                             .reshape(oshape + tuple(x.shape)))
    return jac


def _lift(x, lv, extra=()):
    """Detach ``x`` if its graph leads only to this level's fresh leaves (and ``extra``)."""
    from ..func import _depends_only_on

    if x is None or not x.requires_grad:
        return x
    fresh = set(lv.fresh) | {id(e) for e in extra}
    return x.detach() if _depends_only_on(x, fresh) else x


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)`` of ``tensor`` at ``level``; ``tangent`` is None for non-duals."""
    lv = _level(level)
    if lv is None or not isinstance(tensor, _cr().Tensor):
        return UnpackedDualTensor(tensor, None)
    if _own_tangent(tensor, lv):
        primal = tensor.detach() if id(tensor) in lv.fresh else tensor
        return UnpackedDualTensor(primal, tensor._fw_grad)
    if not tensor.requires_grad:
        return UnpackedDualTensor(tensor, None)
    cache = tensor.__dict__.get("_fw_cache")
    if cache is not None and cache[0] == (lv.index, id(tensor.grad_fn)):
        return UnpackedDualTensor(_lift(tensor, lv), cache[1])
    tangent = _tangent_by_rules(tensor, lv)
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    if tangent is not _NO_RULE:
        tangent = _lift(tangent, lv)
        tensor.__dict__["_fw_cache"] = ((lv.index, id(tensor.grad_fn)), tangent)
        lv.duals.append(weakref.ref(tensor))  # so that exit_dual_level clears the cache
        return UnpackedDualTensor(_lift(tensor, lv), tangent)
    return _unpack_by_double_vjp(tensor, lv)


def _unpack_by_double_vjp(tensor, lv):
    """The fallback for graphs with a node that has no jvp rule (see the module docstring)."""
    from . import grad
    from .grad_mode import enable_grad

    duals = _reached_duals(tensor, lv)
    if not duals:
        return UnpackedDualTensor(tensor, None)
    cr = _cr()
    with enable_grad():
        u = cr.zeros_like(tensor).requires_grad_(True)
        gs = grad(tensor, duals, u, create_graph=True, retain_graph=True, allow_unused=True)
        pairs = [(g, d._fw_grad) for g, d in zip(gs, duals) if g is not None and g.requires_grad]
        tangent = None
        if pairs:
            (tangent,) = grad([p[0] for p in pairs], u, [p[1] for p in pairs],
                              create_graph=True, retain_graph=True, allow_unused=True)
        if tangent is None:
            tangent = cr.zeros_like(tensor)
    tangent = _lift(tangent, lv, extra=(u,))
    tensor.__dict__["_fw_cache"] = ((lv.index, id(tensor.grad_fn)), tangent)
    lv.duals.append(weakref.ref(tensor))  # so that exit_dual_level clears the cache
    return UnpackedDualTensor(_lift(tensor, lv), tangent)


def _graph_jvp(outputs, inputs, tangents, arrays_only=False):
    """``J @ tangents`` for ``outputs`` already recorded from ``inputs`` (tensors that require
    grad), by the jvp rules on that graph without a user-visible level: the fast path of the
    function transforms. One tangent (zeros where independent) per output, or None when a
    dual level is active or a node on the way has no rule (callers then use the double-vjp
    trick). ``arrays_only``: the results need not be differentiable (see _tangent_by_rules)."""
    if _current is not None:
        return None
    cr = _cr()
    lv = _Level(-1)
    duals: dict = {}
    for x, t in zip(inputs, tangents):
        if not isinstance(x, cr.Tensor) or t is None:
            continue
        if x.grad_fn is not None:
            duals.setdefault(x.grad_fn, []).append((x._output_nr, t))
        else:
            lv.fresh.add(id(x))
            acc = x._acc_ref() if x._acc_ref is not None else None
            if acc is not None:
                duals.setdefault(acc, []).append((0, t))
    res = []
    for out in outputs:
        tangent = _tangent_by_rules(out, lv, duals, arrays_only) \
            if isinstance(out, cr.Tensor) else None
        if tangent is _NO_RULE:
            return None
        if tangent is None:
            direct = [t for x, t in zip(inputs, tangents) if x is out and t is not None]
            tangent = direct[0] if direct else cr.zeros_like(out)
        res.append(tangent)
    return res

"""Forward-mode AD with dual tensors: dual_level, make_dual, unpack_dual (PyTorch's API).

How it works here (no per-op forward formulas are needed):

- ``make_dual(x, t)`` returns a tensor that *requires grad* (a fresh leaf, or a view of ``x``
  when ``x`` already requires grad) and carries the tangent in ``_fw_grad``. Ops on it
  therefore record the ordinary backward graph.
- ``unpack_dual(y)`` computes ``y``'s tangent lazily from that graph by the double-vjp
  trick: with a dummy cotangent ``u``, ``g(u) = sum_i J_i^T u`` over the dual inputs ``i``
  is linear in ``u``, so ``d/du sum_i <g_i(u), t_i> = sum_i J_i t_i``: two reverse passes
  (the first with ``create_graph=True``). The result is cached per tensor and graph node.

Consequences, compared with PyTorch's eager forward mode:
- dual tensors report ``requires_grad=True`` inside the level (PyTorch: False), and results
  computed from them carry a ``grad_fn``; leaving the level turns the fresh dual leaves back
  into plain tensors and drops their tangents.
- tangents only flow through recorded ops: under ``no_grad`` nothing is recorded, so a
  result computed there has tangent ``None``.
- each ``unpack_dual`` of a new result costs two backward passes over its graph.
- tangents may themselves require grad (backward over forward works: the tangent stays
  connected to tensors outside the level that require grad).
"""
from __future__ import annotations

import weakref
from collections import namedtuple

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level",
           "make_dual", "unpack_dual"]

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])


class _Level:
    __slots__ = ("duals", "fresh", "index")

    def __init__(self, index):
        self.index = index
        self.duals = []  # weakrefs to dual tensors made at this level
        self.fresh = set()  # ids of duals that are fresh leaves (made from non-grad tensors)


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
    lv.duals.append(weakref.ref(dual))
    return dual


def _own_tangent(t, lv):
    return t.__dict__.get("_fw_level") == lv.index and t.__dict__.get("_fw_grad") is not None


def _reached_duals(t, lv):
    """The live duals of level ``lv`` whose graph node the graph of ``t`` reaches."""
    from .function import AccumulateGrad

    by_node = {}
    for ref in lv.duals:
        d = ref()
        if d is None or not _own_tangent(d, lv):
            continue
        if d.grad_fn is not None:
            by_node.setdefault(d.grad_fn, []).append(d)
        else:
            acc = d._acc_ref() if d._acc_ref is not None else None
            if acc is not None:
                by_node.setdefault(acc, []).append(d)
    if not by_node or t.grad_fn is None:
        return []
    found, seen, stack = [], set(), [t.grad_fn]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node in by_node:
            found.extend(by_node[node])
            # keep walking: another dual may sit below a view dual
        if type(node) is AccumulateGrad:
            continue
        for child, _ in node.next_functions:
            if child is not None and child not in seen:
                stack.append(child)
    return found


def _lift(x, lv, extra=()):
    """Detach ``x`` if its graph leads only to this level's fresh leaves (and ``extra``)."""
    from ..func import _depends_only_on

    if x is None or not x.requires_grad:
        return x
    fresh = set(lv.fresh) | {id(e) for e in extra}
    return x.detach() if _depends_only_on(x, fresh) else x


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)`` of ``tensor`` at ``level``; ``tangent`` is None for non-duals."""
    from . import grad
    from .grad_mode import enable_grad

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

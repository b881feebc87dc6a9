"""The backward engine: dependency counting, then each node runs once all its gradients arrived.

1. Walk the graph from the roots (iteratively: a million-node chain is fine) and count,
   for every node, how many edges point into it.
2. Keep a stack of ready nodes. Pop one, take its summed incoming gradient out of the
   buffer, run its backward, release its saved arrays (unless ``retain_graph``), and
   add each result into the buffer of the node it flows to; a node whose count drops
   to zero is ready.
Gradients are raw NumPy arrays unless ``create_graph=True``, in which case they are
Tensors and every formula is recorded as graph for higher-order derivatives.
"""
from __future__ import annotations

import numpy as np

from .function import (FREED, SECOND_BACKWARD_MSG, AccumulateGrad, array_versions,
                       as_graph_tensor, edge, unpack_saved)
from .grad_mode import grad_state


def _root_grads(tensors, grad_tensors, create_graph):
    Tensor, _shape_str = _tensor_mod.Tensor, _tensor_mod._shape_str

    roots = []
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        if not isinstance(t, Tensor):
            raise TypeError(f"backward expects Tensors, got {type(t).__name__}")
        if not t._requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not t._data.dtype.kind in "fc":
                raise RuntimeError("grad can be implicitly created only for real scalar outputs "
                                   f"but got {t.dtype}")
            g = np.array(1, t._data.dtype) if not t._data.ndim else \
                np.ones(t._data.shape, t._data.dtype)
        else:
            if isinstance(g, Tensor):
                gt = g
                g = g._data if not create_graph else g
            else:
                gt = g = np.asarray(g, dtype=t._data.dtype)
            if gt.shape != t._data.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {_shape_str(gt.shape)} "
                    f"and output[{i}] has a shape of {_shape_str(t._data.shape)}.")
            if not create_graph:
                g = np.array(g, dtype=t._data.dtype)  # own it: leaves may keep it as .grad
        roots.append((edge(t), g))
    return roots


def count_dependencies(roots) -> dict:
    """For every node reachable from the ``roots`` nodes: how many edges point into it."""
    deps = {}
    stack = []
    for node in roots:
        if node is not None and node not in deps:
            deps[node] = 0
            stack.append(node)
    push = stack.append
    while stack:
        node = stack.pop()
        while node is not None:  # walk down a chain without the stack
            first_new = None
            for child, _ in node.next_functions:
                if child is not None:
                    if child in deps:
                        deps[child] += 1
                    else:
                        deps[child] = 1
                        if first_new is None:
                            first_new = child
                        else:
                            push(child)
            node = first_new
    return deps


def run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=None,
                 allow_unused=False, accumulate=True, materialize_grads=False):
    """Shared core of ``Tensor.backward``, ``autograd.backward`` and ``autograd.grad``.

    ``inputs`` given with ``accumulate=False`` (autograd.grad): return their gradients
    instead of touching ``.grad``. With ``accumulate=True`` only they get ``.grad``.
    """
    _make = _tensor_mod._make

    if retain_graph is None:
        retain_graph = create_graph
    roots = _root_grads(tensors, grad_tensors, create_graph)

    # -- 1. count dependencies -------------------------------------------------------
    deps = count_dependencies(node for (node, _), _ in roots)

    # -- targets (autograd.grad / backward(inputs=...)) -------------------------------
    captures = None
    needed = None
    results = None
    if inputs is not None:
        captures = {}
        for i, t in enumerate(inputs):
            if not t._requires_grad:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            node, nr = edge(t)
            captures.setdefault(node, []).append((nr, i, t))
        # When every leaf the graph reaches is a target (autograd.grad over all
        # parameters, the usual case), every node is needed: skip the reachability walk.
        if all(type(c) is AccumulateGrad for c in captures) and all(
                n in captures for n in deps if type(n) is AccumulateGrad):
            needed = None
        else:
            needed = _nodes_reaching(deps, roots, captures)
        results = [None] * len(inputs)

    # -- 2. run ------------------------------------------------------------------------
    # ``ready`` holds (node, summed incoming gradient). A node with a single consumer
    # (most nodes: chains) gets its gradient handed over directly; only nodes with
    # several consumers collect contributions in ``buffers`` until their count hits 0.
    buffers = {}
    owned = set()
    for (node, nr), g in roots:
        if node is not None:
            _add_to_buffer(buffers, node, nr, g, owned)
    ready = []
    for (node, _), _ in roots:
        if node is not None and deps[node] == 0 and node in buffers:
            if needed is None or node in needed:
                ready.append((node, buffers.pop(node)))

    handed = set()  # ids of gradient arrays a leaf has taken ownership of in this run
    pop_ready, push_ready, pop_buffer = ready.pop, ready.append, buffers.pop
    fast = not create_graph  # formulas run on raw arrays, nothing recorded
    no_captures = captures is None
    prev_mode = grad_state.enabled
    grad_state.enabled = create_graph
    try:
        if fast and needed is None:  # every node is needed; only leaves may be captured
            _plain_loop(ready, deps, buffers, owned, retain_graph, handed, captures, results,
                        accumulate)
        while ready:  # the general loop (create_graph, autograd.grad, inputs=)
            node, grad = pop_ready()
            if node._fast and fast and grad is not None and (
                    no_captures or node not in captures):
                # The common case: a built-in formula, no hooks, applied to raw arrays.
                saved = node.saved
                if saved is FREED:
                    raise RuntimeError(SECOND_BACKWARD_MSG)
                if array_versions and saved:
                    saved = unpack_saved(node, saved)
                grads = node.backward(grad, *saved)
                if saved and not retain_graph:
                    node.saved = FREED
            else:
                grads = _run_node(node, grad, create_graph, retain_graph, captures, results,
                                  accumulate, needed, handed)
                if grads is None:
                    continue
            for (child, nr), g in zip(node.next_functions, grads):
                if child is None:
                    continue
                d = deps[child]
                if d == 1 and child.num_outputs == 1:
                    # Last contribution: add what earlier ones left in the buffer, if any,
                    # and hand the sum straight over (a chain never touches the buffer).
                    if buffers:  # empty all along a chain: skip the lookup
                        old = pop_buffer(child, None)
                        if old is not None:
                            g = old if g is None else old + g
                    if needed is None or child in needed:
                        push_ready((child, g))
                    continue
                if g is not None:
                    _add_to_buffer(buffers, child, nr, g, owned)
                deps[child] = d - 1
                if d == 1 and (needed is None or child in needed):
                    push_ready((child, pop_buffer(child, None)))
    finally:
        grad_state.enabled = prev_mode

    if inputs is None or accumulate:
        return None
    out = []
    for i, t in enumerate(inputs):
        g = results[i]
        if g is None:
            if materialize_grads:
                out.append(_make(np.zeros_like(t._data), False, None))
                continue
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in "
                    "the graph. Set allow_unused=True if this is the desired behavior.")
            out.append(None)
        elif type(g) is np.ndarray or not hasattr(g, "_data"):
            out.append(_make(np.asarray(g), False, None))
        else:
            out.append(g)
    return tuple(out)


def _plain_loop(ready, deps, buffers, owned, retain_graph, handed, captures=None,
                results=None, accumulate=True):
    """The loop of a plain ``backward()`` (or ``grad()`` w.r.t. leaves when every leaf
    reached is one of its targets): every node is needed, nothing is recorded.

    The general loop below it, written for this case alone: each check that is known to
    pass here is one less per node, and a long chain of small ops is mostly this loop.
    Along a chain the next node is carried over in ``node``/``grad`` instead of going
    through the ``ready`` stack. Captured nodes are leaves (AccumulateGrad, never on the
    fast path): ``_run_node`` records their gradients.
    """
    pop_ready, push_ready, pop_buffer = ready.pop, ready.append, buffers.pop
    while ready:
        node, grad = pop_ready()
        while node is not None:
            if node._fast and grad is not None:
                saved = node.saved
                if saved:
                    if saved is FREED:
                        raise RuntimeError(SECOND_BACKWARD_MSG)
                    if array_versions:
                        saved = unpack_saved(node, saved)
                    grads = node.backward(grad, *saved)
                    if not retain_graph:
                        node.saved = FREED
                else:
                    grads = node.backward(grad)
            else:
                grads = _run_node(node, grad, False, retain_graph, captures, results,
                                  accumulate, None, handed)
                if grads is None:
                    break
            next_node = next_grad = None
            for (child, nr), g in zip(node.next_functions, grads):
                if child is not None:
                    d = deps[child]
                    if d == 1 and child.num_outputs == 1:
                        if buffers:
                            old = pop_buffer(child, None)
                            if old is not None:
                                g = old if g is None else old + g
                        # Carry the last node that became ready (what popping the
                        # stack would give next): the order, and so the rounding of
                        # sums, stays that of the general loop.
                        if next_node is not None:
                            push_ready((next_node, next_grad))
                        next_node, next_grad = child, g
                    else:
                        if g is not None:  # _add_to_buffer's two common cases inline
                            old = buffers.get(child)
                            if old is None and child.num_outputs == 1:
                                buffers[child] = g  # the first contribution, as it is
                            elif child in owned:  # a weight used at every step
                                try:
                                    np.add(old, g, out=old, casting="no")
                                except (TypeError, ValueError):
                                    _add_to_buffer(buffers, child, nr, g, owned)
                            else:
                                _add_to_buffer(buffers, child, nr, g, owned)
                        deps[child] = d - 1
                        if d == 1:
                            if next_node is not None:
                                push_ready((next_node, next_grad))
                            next_node, next_grad = child, pop_buffer(child, None)
            if next_node is None:
                break
            node, grad = next_node, next_grad


def _run_node(node, grad, create_graph, retain_graph, captures, results, accumulate, needed,
              handed):
    """Everything but the fast path: hooks, captures, leaves, custom Functions, create_graph.

    Returns the gradients for ``node.next_functions``, or None when nothing flows on.
    """
    if node._has_hooks:
        grad = _before_node(node, grad, create_graph)
    if captures is not None and node in captures:
        if _capture(node, grad, captures, results, accumulate, needed, create_graph):
            return None
    if type(node) is AccumulateGrad:
        if grad is not None:
            if not create_graph and type(grad) is np.ndarray:
                if id(grad) in handed or not grad.flags.owndata:
                    grad = grad.copy()
                handed.add(id(grad))
            node.apply(grad, create_graph)
            if node._hooks is not None:
                _run_post_hooks(node, (), grad, create_graph)
        return None
    if grad is None or (node.num_outputs > 1 and all(g is None for g in grad)):
        grads = (None,) * len(node.next_functions)
    else:
        saved = node.saved
        if not create_graph and node.plain_formula:
            if saved is FREED:
                raise RuntimeError(SECOND_BACKWARD_MSG)
            if array_versions and saved:
                saved = unpack_saved(node, saved)
            grads = node.backward(grad, *saved)
        else:
            grads = node.apply(grad, create_graph)
        if saved and not retain_graph:
            node.saved = FREED
    if node._hooks is not None:
        grads = _run_post_hooks(node, grads, grad, create_graph)
    return grads


def _before_node(node, grad, create_graph):
    if node._pre_hooks is not None:
        grad = _run_pre_hooks(node, grad, create_graph)
    if node._retained is not None:
        _retain(node, grad)
    return grad


def _capture(node, grad, captures, results, accumulate, needed, create_graph) -> bool:
    """Record the gradient reaching a target; True when the node itself need not run."""
    for nr, i, t in captures[node]:
        g = grad[nr] if node.num_outputs > 1 else grad
        if type(node) is AccumulateGrad and g is not None and not accumulate:
            for fn in node.variable._tensor_hooks():  # a leaf's hooks run in grad() too
                g = _call_tensor_hook(fn, g, create_graph)
            want = t._data.dtype  # a float32 leaf used with float64: its own dtype back
            if hasattr(g, "_data"):  # create_graph: a Tensor
                if g._data.dtype != want and want.kind in "fc":
                    g = g.to(t.dtype)
            elif g.dtype != want and want.kind in "fc":
                g = np.asarray(g).astype(want)
        if accumulate:
            if type(node) is not AccumulateGrad:
                _accumulate_nonleaf(t, g)
        else:
            results[i] = g
    return not accumulate and (type(node) is AccumulateGrad or needed is not None and not any(
        c is not None and c in needed for c, _ in node.next_functions))


def _add_to_buffer(buffers, node, nr, g, owned):
    """Add ``g`` into ``node``'s buffer. ``owned``: the nodes whose buffer holds a sum this
    run allocated (nobody else sees it), so that more contributions are added in place (a
    weight used at every step of a loop gets one allocation, not one per step)."""
    if node.num_outputs == 1:
        old = buffers.get(node)
        if old is None:
            buffers[node] = g
            return
        if node in owned:
            # In place, when the dtypes agree and g fits the buffer's shape (NumPy checks
            # both, cheaper than comparing them here first).
            try:
                np.add(old, g, out=old, casting="no")
                return
            except (TypeError, ValueError):
                pass
        old = buffers[node] = old + g
        if type(old) is np.ndarray:
            owned.add(node)
    else:
        slot = buffers.get(node)
        if slot is None:
            slot = buffers[node] = [None] * node.num_outputs
        slot[nr] = g if slot[nr] is None else slot[nr] + g


def _nodes_reaching(deps, roots, captures):
    """The nodes from which some capture target can be reached (targets included)."""
    needed = set(captures)
    # Post-order over the DAG: a node is needed if it is a target or a child is needed.
    order = []
    seen = set()
    stack = [(node, False) for (node, _), _ in roots if node is not None]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        for child, _ in node.next_functions:
            if child is not None and child not in seen:
                stack.append((child, False))
    for node in order:  # children come before parents in post-order
        if node not in needed and any(c is not None and c in needed
                                      for c, _ in node.next_functions):
            needed.add(node)
    return needed


def _as_tuple(grad, node):
    return tuple(grad) if node.num_outputs > 1 else (grad,)


def _from_tuple(grads, node):
    return list(grads) if node.num_outputs > 1 else grads[0]


def _wrap(g):
    return as_graph_tensor(g)


def _unwrap(g, create_graph):
    if g is None or create_graph:
        return g
    return g._data if hasattr(g, "_data") else np.asarray(g)


def _run_pre_hooks(node, grad, create_graph):
    """Tensor hooks first (registration order), then the node's own pre-hooks, as PyTorch."""
    grads = list(_as_tuple(grad, node))
    entries = list(node._pre_hooks.values())
    for entry in entries:
        if entry[0] == "tensor":
            _, nr, fn = entry
            if grads[nr] is not None:
                grads[nr] = _call_tensor_hook(fn, grads[nr], create_graph)
    for entry in entries:
        if entry[0] == "node":
            new = entry[1](tuple(_wrap(g) for g in grads))
            if new is not None:
                grads = [_unwrap(g, create_graph) for g in new]
    return _from_tuple(grads, node)


def _call_tensor_hook(fn, g, create_graph):
    """Run ``fn(grad)``; a returned gradient must keep the shape (PyTorch's check)."""
    new = fn(_wrap(g))
    if new is None:
        return g
    if tuple(new.shape) != tuple(g.shape):
        name = getattr(fn, "__name__", repr(fn))
        raise RuntimeError(f"hook '{name}' has changed the size of value")
    return _unwrap(new, create_graph)


def _run_post_hooks(node, grads, grad, create_graph):
    grad_outputs = tuple(_wrap(g) for g in _as_tuple(grad, node))
    for fn in list(node._hooks.values()):
        new = fn(tuple(_wrap(g) for g in grads), grad_outputs)
        if new is not None:
            grads = tuple(_unwrap(g, create_graph) for g in new)
    return grads


def _retain(node, grad):
    for nr, ref in node._retained:
        t = ref()
        g = grad[nr] if node.num_outputs > 1 else grad
        if t is not None and g is not None:
            _accumulate_nonleaf(t, g)


def _accumulate_nonleaf(t, g):
    _make = _tensor_mod._make

    if type(g) is np.ndarray or not hasattr(g, "_data"):
        g = _make(np.array(g, copy=True), False, None)
    t._grad = g if t._grad is None else t._grad + g


# chainrule.tensor imports this module, so it is bound here, at the end, as a module: its
# names are looked up at call time (a function-level import costs ~1.5 us a call, and
# create_graph and custom Functions make such calls for every gradient).
from .. import tensor as _tensor_mod  # noqa: E402

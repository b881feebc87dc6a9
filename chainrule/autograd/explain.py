"""explain(output, tensor): why a gradient does (or does not) flow from ``output`` to ``tensor``.

It walks ``output.grad_fn`` through ``next_functions`` (iteratively) and reports either the
paths that reach ``tensor``'s node, or where the chain is broken: ``tensor`` has an integer
dtype, does not require grad, was never used by a recorded op, was used only through
``.detach()``/``.data``/``no_grad`` (its values appear in the graph, its node does not), or
``output`` itself carries no graph.

>>> import chainrule as torch
>>> from chainrule.autograd.explain import explain
>>> x = torch.ones(2, requires_grad=True)
>>> print(explain((x * 2).sum(), x))
gradient flows from output to tensor along 1 path:
  SumBackward0 -> MulBackward0[0] -> AccumulateGrad (tensor)
"""
from __future__ import annotations

import numpy as np

__all__ = ["Explanation", "explain"]


class Explanation(str):
    """The report (a ``str``) plus ``reachable`` (bool), ``paths`` (node-name lists) and
    ``reason`` (a short key: 'ok', 'integer_dtype', 'no_requires_grad', 'never_used',
    'detached', 'other_graph', 'output_no_graph', 'same_tensor')."""

    reachable: bool
    paths: list
    reason: str

    def __repr__(self) -> str:
        return str(self)


def _make(text, reachable, paths, reason):
    e = Explanation(text)
    e.reachable, e.paths, e.reason = reachable, paths, reason
    return e


def _is_tensor(x) -> bool:
    from ..tensor import Tensor

    return isinstance(x, Tensor)


def _walk(root):
    """Every node reachable from ``root`` (iterative DFS), in discovery order."""
    seen, order, stack = set(), [], [root]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        order.append(node)
        for child, _ in node.next_functions:
            if child is not None and child not in seen:
                stack.append(child)
    return order


def _paths(root, target, limit):
    """Up to ``limit`` paths root -> target, each a list of (node, input index)."""
    # Nodes that can reach the target: a post-order pass (children first) over the DAG.
    reaches = {target}
    done, stack = set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            if node not in reaches and any(c is not None and c in reaches
                                           for c, _ in node.next_functions):
                reaches.add(node)
            continue
        if node in done:
            continue
        done.add(node)
        stack.append((node, True))
        for c, _ in node.next_functions:
            if c is not None and c not in done:
                stack.append((c, False))
    if root not in reaches:
        return [], 0
    found, total = [], 0
    stack = [(root, [])]
    while stack:
        node, path = stack.pop()
        if node is target:
            total += 1
            if len(found) < limit:
                found.append(path + [(node, None)])
            continue
        kids = [(i, c) for i, (c, _) in enumerate(node.next_functions)
                if c is not None and c in reaches]
        for i, c in reversed(kids):
            stack.append((c, path + [(node, i if len(node.next_functions) > 1 else None)]))
        if total > 10000:  # a DAG can have exponentially many paths: stop counting
            break
    return found, total


def _fmt_path(path):
    parts = []
    for node, i in path:
        name = node.name()
        parts.append(f"{name}[{i}]" if i is not None else name)
    return "  " + " -> ".join(parts) + " (tensor)"


def _saved_arrays(node):
    saved = getattr(node, "saved", ())
    if not isinstance(saved, tuple):
        return
    for v in saved:
        if isinstance(v, np.ndarray):
            yield v
        elif _is_tensor(v):
            yield v._data


def explain(output, tensor, *, max_paths: int = 5, file=None) -> Explanation:
    """Explain how (or why not) ``output``'s gradient reaches ``tensor``; returns the report
    (also printed to ``file`` when one is given)."""
    from .function import AccumulateGrad

    if not _is_tensor(output) or not _is_tensor(tensor):
        raise TypeError("explain(output, tensor) expects two Tensors")
    res = _explain(output, tensor, max_paths, AccumulateGrad)
    if file is not None:
        print(res, file=file)
    return res


def _explain(output, tensor, max_paths, AccumulateGrad):
    if output is tensor:
        return _make("output is tensor: its gradient is the grad_output itself", True,
                     [[]], "same_tensor")
    if tensor._data.dtype.kind not in "fc":
        return _make(
            f"tensor has dtype {tensor.dtype}: only floating point and complex tensors can "
            "require gradients, so no gradient is ever computed for it. Convert it first "
            "(tensor.float()) and call requires_grad_() before computing output.", False, [],
            "integer_dtype")
    if not tensor.requires_grad:
        return _make(
            "tensor does not require grad (requires_grad=False), so no graph records its "
            "use. Call tensor.requires_grad_() before computing output.", False, [],
            "no_requires_grad")
    if output.grad_fn is None:
        why = ("output is a leaf that requires grad but is not tensor" if output.requires_grad
               else "output does not require grad: it was computed under no_grad() or "
                    "inference_mode(), only from tensors that do not require grad, or it was "
                    "detached (.detach(), .data, .item(), .numpy())")
        return _make(why + "; no path can reach tensor.", False, [], "output_no_graph")

    if tensor.grad_fn is not None:
        target = tensor.grad_fn
        leaf_note = ("\nnote: tensor is not a leaf, so backward() leaves its .grad empty; call "
                     "tensor.retain_grad() before backward, or use autograd.grad(output, "
                     "tensor).")
    else:
        acc = tensor._acc_ref() if tensor._acc_ref is not None else None
        target = acc
        leaf_note = ""
    nodes = _walk(output.grad_fn)
    if target is not None and target in set(nodes):
        paths, total = _paths(output.grad_fn, target, max_paths)
        if total:
            head = (f"gradient flows from output to tensor along {total} path"
                    f"{'s' if total != 1 else ''}"
                    + (f" (first {len(paths)} shown)" if total > len(paths) else "") + ":")
            text = "\n".join([head] + [_fmt_path(p) for p in paths]) + leaf_note
            names = [[n.name() for n, _ in p] for p in paths]
            return _make(text, True, names, "ok")

    # Not reachable: find out why.
    users = []
    for node in nodes:
        if any(np.shares_memory(a, tensor._data) for a in _saved_arrays(node)
               if a.size and tensor._data.size):
            users.append(node.name())
        if type(node) is AccumulateGrad and node.variable is not tensor and \
                node.variable._data.size and np.shares_memory(node.variable._data, tensor._data):
            users.append("a leaf sharing tensor's memory (AccumulateGrad of another tensor)")
    if users:
        return _make(
            "the path is broken: tensor's values are used in output's graph (by "
            + ", ".join(sorted(set(users)))
            + ") but not through a differentiable edge. It was used through .detach(), "
            ".data, or inside no_grad(); use tensor itself, with grad mode on.", False, [],
            "detached")
    if target is None:
        return _make(
            "tensor requires grad but no recorded operation ever used it: it was not used to "
            "compute output, or only under no_grad()/inference_mode(), or through "
            ".detach()/.data/.numpy()/.item() (whose results carry no graph).", False, [],
            "never_used")
    return _make(
        "tensor is used in a recorded graph, but not in the one that computes output: output "
        "was computed from other tensors (or from a copy made under no_grad / with .detach()).",
        False, [], "other_graph")

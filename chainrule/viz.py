"""The backward graph as a picture: Graphviz DOT source, and an SVG when ``dot`` is installed.

Boxes are the ``grad_fn`` nodes (``MulBackward0``, ...), light blue boxes the leaves that
receive ``.grad`` (named from ``params``, with their shapes), the green box the output.
Edges point the way the forward pass went: from an input's node to the op that used it.
"""
from __future__ import annotations

import os
import shutil
import subprocess

from .autograd.function import AccumulateGrad

__all__ = ["make_dot", "save_graph"]

_HEADER = (
    "digraph {\n"
    '\tgraph [size="12,12"]\n'
    "\tnode [align=left fontname=monospace fontsize=10 height=0.2 ranksep=0.1 shape=box "
    "style=filled]\n"
)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _shape(t) -> str:
    return "(" + ", ".join(str(s) for s in t.shape) + ")"


def _param_names(params):
    """``{id(leaf): name}`` and ``{id(grad_fn): [(name, tensor)]}`` from a dict or pairs like
    ``module.named_parameters()``; named non-leaf tensors label the node that made them."""
    if params is None:
        return {}, {}
    items = list(params.items() if hasattr(params, "items") else params)
    made_by = {}
    for name, t in items:
        if getattr(t, "grad_fn", None) is not None:
            made_by.setdefault(id(t.grad_fn), []).append((name, t))
    return {id(t): name for name, t in items}, made_by


def make_dot(output, params=None) -> str:
    """DOT source of the graph that ``output.backward()`` would walk.

    ``output`` is a tensor or a sequence of tensors; ``params`` maps names to tensors (a dict
    or ``named_parameters()``): leaves are labelled by name, and a named intermediate tensor
    (``{"z": z}``) adds its name and shape to the node that computed it.
    The walk is iterative, so graphs of millions of nodes are fine.

    >>> import chainrule as torch
    >>> w = torch.ones(3, requires_grad=True)
    >>> src = make_dot((w * 2).sum(), params={"w": w})
    >>> "MulBackward0" in src and "SumBackward0" in src and "fillcolor=lightblue" in src
    True
    """
    outputs = [output] if hasattr(output, "grad_fn") else list(output)
    names, made_by = _param_names(params)
    lines = [_HEADER]
    seen = set()
    stack = []

    def node_line(node) -> str:
        if type(node) is AccumulateGrad:
            var = node.variable
            label = names.get(id(var), "")
            label = f"{label}\n {_shape(var)}" if label else _shape(var)
            return f"\t{id(node)} [label={_quote(label)} fillcolor=lightblue]\n"
        label = node.name()
        for name, t in made_by.get(id(node), ()):
            label += f"\n{name} {_shape(t)}"
        return f"\t{id(node)} [label={_quote(label)}]\n"

    for i, out in enumerate(outputs):
        label = names.get(id(out), "output" if len(outputs) == 1 else f"output {i}")
        out_id = f"out{i}_{id(out)}"
        lines.append(f"\t{out_id} [label={_quote(label + chr(10) + ' ' + _shape(out))} "
                     "fillcolor=darkolivegreen1]\n")
        root = out.grad_fn
        if root is None and out.requires_grad:
            from .autograd.function import get_accumulator

            root = get_accumulator(out)
        if root is None:
            continue
        lines.append(f"\t{id(root)} -> {out_id}\n")
        if id(root) not in seen:
            seen.add(id(root))
            lines.append(node_line(root))
            stack.append(root)

    while stack:
        node = stack.pop()
        for child, _ in node.next_functions:
            if child is None:
                continue
            if id(child) not in seen:
                seen.add(id(child))
                lines.append(node_line(child))
                stack.append(child)
            lines.append(f"\t{id(child)} -> {id(node)}\n")
    lines.append("}\n")
    return "".join(lines)


def save_graph(output, path, params=None) -> list:
    """Write the graph of ``output`` to ``path`` (``.dot``) and, if Graphviz's ``dot`` is on
    PATH, render ``.svg`` beside it. Returns the paths written.

    >>> import chainrule as torch, tempfile, os
    >>> w = torch.ones(2, requires_grad=True)
    >>> out = save_graph(w.sum(), os.path.join(tempfile.mkdtemp(), "g.dot"))
    >>> out[0].endswith("g.dot")
    True
    """
    path = os.fspath(path)
    base = path.removesuffix(".dot")
    dot_path = base + ".dot"
    parent = os.path.dirname(dot_path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    with open(dot_path, "w", encoding="utf-8") as f:
        f.write(make_dot(output, params))
    written = [dot_path]
    exe = shutil.which("dot")
    if exe is not None:
        svg_path = base + ".svg"
        subprocess.run([exe, "-Tsvg", dot_path, "-o", svg_path], check=True,
                       capture_output=True)
        written.append(svg_path)
    return written

"""The graph is freed by reference counting alone (no cycles), and huge graphs never recurse."""
import gc
import sys
import weakref

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture
def no_gc():
    """Run the test with the cycle collector off: whatever is freed, refcounting freed."""
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _graph_nodes(t):
    seen, stack, out = set(), [t.grad_fn], []
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        out.append(node)
        stack.extend(child for child, _ in node.next_functions)
    return out


def _saved_arrays(nodes, leaves=()):
    """Arrays the nodes saved, less the leaves' own data and the shared read-only 0-d
    constants that ops cache for Python numbers (``x / 3.0``)."""
    return [v for n in nodes if isinstance(getattr(n, "saved", None), tuple)
            for v in n.saved if isinstance(v, np.ndarray) and v.ndim > 0
            and not any(v is t._data for t in leaves)]


def _build(x, w):
    h = (x @ w).tanh()
    s = h.exp() * h + (h * x.sum()).sigmoid()
    return (s / 3.0).sum()


def test_graph_and_saved_arrays_freed_by_refcount(no_gc):
    x = cr.tensor(np.random.default_rng(0).standard_normal((4, 5)), requires_grad=True)
    w = cr.tensor(np.random.default_rng(1).standard_normal((5, 3)), requires_grad=True)
    loss = _build(x, w)
    nodes = _graph_nodes(loss)
    arrays = _saved_arrays(nodes, (x, w))
    assert len(nodes) > 8 and len(arrays) > 4
    node_refs = [weakref.ref(n) for n in nodes]
    array_refs = [weakref.ref(a) for a in arrays]
    out_ref = weakref.ref(loss)
    del nodes, arrays, loss
    assert out_ref() is None
    assert all(r() is None for r in node_refs), "a graph node outlived its output"
    assert all(r() is None for r in array_refs), "a saved array outlived the graph"
    assert x._data is not None and w._data is not None  # the leaves live on


def test_backward_releases_saved_arrays_while_graph_lives(no_gc):
    x = cr.tensor(np.random.default_rng(0).standard_normal((4, 5)), requires_grad=True)
    w = cr.tensor(np.random.default_rng(1).standard_normal((5, 3)), requires_grad=True)
    loss = _build(x, w)
    arrays = _saved_arrays(_graph_nodes(loss), (x, w))
    refs = [weakref.ref(a) for a in arrays]
    del arrays
    assert refs
    loss.backward(retain_graph=True)
    assert all(r() is not None for r in refs), "retain_graph=True must keep saved arrays"
    loss.backward()
    assert all(r() is None for r in refs), "backward must free saved arrays"
    assert loss.grad_fn is not None


def test_custom_function_saving_its_output_is_freed(no_gc):
    class Exp(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    x = cr.tensor([0.5, 1.0], requires_grad=True)
    y = Exp.apply(x)
    out = (y * 2).sum()
    node_ref = weakref.ref(y.grad_fn)
    y_ref = weakref.ref(y)
    del y, out
    assert y_ref() is None and node_ref() is None


def test_leaf_and_accumulator_no_cycle(no_gc):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    out = (x * x).sum()
    accs = [n for n in _graph_nodes(out) if type(n).__name__ == "AccumulateGrad"]
    assert len(accs) == 1 and accs[0].variable is x
    acc_ref = weakref.ref(accs[0])
    del accs
    out.backward()
    assert acc_ref() is not None  # the graph still holds it
    del out
    assert acc_ref() is None  # the leaf holds its accumulator only weakly: no cycle
    x_ref = weakref.ref(x)
    g_ref = weakref.ref(x.grad)
    del x
    assert x_ref() is None and g_ref() is None


def test_retain_grad_does_not_keep_tensor_alive(no_gc):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    out = (h * h).sum()
    h_ref = weakref.ref(h)
    del h
    out.backward()
    assert h_ref() is None
    del out


# -- a million nodes ---------------------------------------------------------------------------
N = 1_000_000


def test_million_node_chain_backward_then_free():
    limit = sys.getrecursionlimit()
    x = cr.tensor([1.0], requires_grad=True)
    h = x
    for _ in range(N):
        h = h * 1.0
    from chainrule.viz import make_dot

    src = make_dot(h)  # the graph picture walks iteratively too
    assert src.count("MulBackward0") == N
    del src
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0])
    last = weakref.ref(h.grad_fn)
    del h  # frees a million nodes one after the other: must not recurse
    assert last() is None
    assert sys.getrecursionlimit() == limit


def test_long_chain_freed_without_backward():
    # Saved arrays still in place; deep enough that a recursive free would overflow the C stack.
    x = cr.tensor([2.0], requires_grad=True)
    h = x
    for _ in range(N // 4):
        h = h + 0.0
    first = weakref.ref(_graph_nodes_first(h))
    del h
    assert first() is None


def _graph_nodes_first(t):
    node = t.grad_fn
    while node.next_functions and type(node.next_functions[0][0]).__name__ != "AccumulateGrad":
        node = node.next_functions[0][0]
    return node

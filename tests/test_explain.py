"""explain(output, tensor): paths through next_functions, or where the chain breaks."""
import io

import pytest

import chainrule as cr
from chainrule.autograd.explain import explain


def test_single_path_names_the_nodes():
    x = cr.ones(2, requires_grad=True)
    out = (x * 2).sum()
    e = explain(out, x)
    assert e.reachable and e.reason == "ok"
    # the names are the graph's own: check them against grad_fn / next_functions
    mul = out.grad_fn.next_functions[0][0]
    acc = mul.next_functions[0][0]
    assert e.paths == [[out.grad_fn.name(), mul.name(), acc.name()]]
    assert "1 path:" in e and f"{mul.name()}[0]" in e


def test_counts_every_path():
    x = cr.ones(2, requires_grad=True)
    e = explain((x * x).sum() + x.sum(), x)  # x*x uses x twice, plus the direct sum
    assert e.reachable and len(e.paths) == 3 and "3 paths" in e
    e2 = explain((x * x).sum() + x.sum(), x, max_paths=1)
    assert len(e2.paths) == 1 and "first 1 shown" in e2


def test_non_leaf_target_mentions_retain_grad():
    x = cr.ones(2, requires_grad=True)
    h = x.exp()
    e = explain((h * 3).sum(), h)
    assert e.reachable and "retain_grad" in e
    assert e.paths[0][-1] == h.grad_fn.name()


def test_never_used():
    x = cr.ones(2, requires_grad=True)
    y = cr.ones(2, requires_grad=True)
    e = explain((y * 2).sum(), x)
    assert not e.reachable and e.reason == "never_used"


def test_used_only_through_detach():
    x = cr.ones(3, requires_grad=True)
    w = cr.ones(3, requires_grad=True)
    e = explain((w * x.detach()).sum(), x)
    assert not e.reachable and e.reason == "detached" and "detach" in e


def test_used_in_another_graph():
    x = cr.ones(2, requires_grad=True)
    y = cr.ones(2, requires_grad=True)
    keep = x * 3  # noqa: F841 - x's node stays alive in this graph
    e = explain((y * 2).sum(), x)
    assert not e.reachable and e.reason == "other_graph"


def test_output_computed_under_no_grad():
    x = cr.ones(2, requires_grad=True)
    with cr.no_grad():
        out = (x * 2).sum()
    e = explain(out, x)
    assert not e.reachable and e.reason == "output_no_graph" and "no_grad" in e


def test_integer_and_no_requires_grad():
    y = cr.ones(2, requires_grad=True)
    out = (y * 2).sum()
    assert explain(out, cr.ones(2, dtype=cr.int64)).reason == "integer_dtype"
    e = explain(out, cr.ones(2))
    assert e.reason == "no_requires_grad" and "requires_grad_()" in e


def test_prints_to_file_and_repr():
    x = cr.ones(2, requires_grad=True)
    buf = io.StringIO()
    e = explain((x * 2).sum(), x, file=buf)
    assert buf.getvalue().strip() == str(e).strip()
    assert repr(e) == str(e)
    with pytest.raises(TypeError):
        explain(3, x)


def test_deep_chain_is_iterative():
    x = cr.ones(1, requires_grad=True)
    h = x
    for _ in range(5000):
        h = h * 1.0
    assert explain(h.sum(), x).reachable

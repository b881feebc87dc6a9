"""The autograd tutorial, statement by statement, against PyTorch with the same w and b."""
import importlib.util
import os
import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.viz import make_dot, save_graph

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _setup(lib, w_np, b_np):
    x = lib.ones(5)
    y = lib.zeros(3)
    w = lib.tensor(w_np, requires_grad=True)
    b = lib.tensor(b_np, requires_grad=True)
    z = lib.matmul(x, w) + b
    loss = lib.nn.functional.binary_cross_entropy_with_logits(z, y)
    return x, y, w, b, z, loss


@pytest.fixture
def pair():
    """The tutorial's first cell run by chainrule and by torch on the same w, b."""
    import torch

    w_np = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    b_np = np.random.default_rng(1).standard_normal(3).astype(np.float32)
    return _setup(cr, w_np, b_np), _setup(torch, w_np, b_np)


def _close(ours, theirs, **kw):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(),
                               rtol=1e-5, atol=1e-6, **kw)


@pytest.mark.torch
def test_cell1_inputs(pair):
    (x, y, w, b, _, _), (tx, ty, tw, tb, _, _) = pair
    for ours, theirs in [(x, tx), (y, ty), (w, tw), (b, tb)]:
        assert ours.shape == tuple(theirs.shape)
        assert repr(ours.dtype).split(".")[1] == repr(theirs.dtype).split(".")[1]
        assert ours.requires_grad == theirs.requires_grad
        _close(ours, theirs)


@pytest.mark.torch
def test_cell1_z_and_loss(pair):
    (_, _, _, _, z, loss), (_, _, _, _, tz, tloss) = pair
    _close(z, tz)
    _close(loss, tloss)
    assert loss.shape == tuple(tloss.shape) == ()
    assert repr(loss) == repr(tloss)  # tensor(0.xxxx, grad_fn=<BinaryCrossEntropyWithLogitsBackward0>)


@pytest.mark.torch
def test_cell2_grad_fn(pair):
    (_, _, _, _, z, loss), (_, _, _, _, tz, tloss) = pair
    assert z.grad_fn.name() == tz.grad_fn.name() == "AddBackward0"
    assert loss.grad_fn.name() == tloss.grad_fn.name()
    pattern = r"<(\w+) object at 0x[0-9a-f]+>"
    assert re.fullmatch(pattern, f"{z.grad_fn}").group(1) == "AddBackward0"
    assert re.fullmatch(pattern, f"{loss.grad_fn}").group(1) == type(tloss.grad_fn).__name__


@pytest.mark.torch
def test_cell3_backward(pair):
    (_, _, w, b, _, loss), (_, _, tw, tb, _, tloss) = pair
    loss.backward()
    tloss.backward()
    _close(w.grad, tw.grad)
    _close(b.grad, tb.grad)
    assert repr(w.grad) == repr(tw.grad)
    assert repr(b.grad) == repr(tb.grad)


@pytest.mark.torch
def test_cell3_only_leaves_get_grad(pair):
    (x, _, _, _, z, loss), (tx, _, _, _, tz, tloss) = pair
    loss.backward()
    tloss.backward()
    assert x.grad is None and tx.grad is None
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert z.grad is None
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert tz.grad is None


@pytest.mark.torch
def test_cell3_second_backward_needs_retain_graph(pair):
    import torch

    (_, _, _, _, _, loss), (_, _, _, _, _, tloss) = pair
    loss.backward()
    tloss.backward()
    with pytest.raises(RuntimeError) as ours:
        loss.backward()
    with pytest.raises(RuntimeError) as theirs:
        tloss.backward()
    assert str(ours.value) == str(theirs.value)
    del torch


@pytest.mark.torch
def test_cell4_no_grad(pair):
    import torch

    (x, _, w, b, _, _), (tx, _, tw, tb, _, _) = pair
    z = cr.matmul(x, w) + b
    tz = torch.matmul(tx, tw) + tb
    assert z.requires_grad is tz.requires_grad is True
    with cr.no_grad():
        z = cr.matmul(x, w) + b
    with torch.no_grad():
        tz = torch.matmul(tx, tw) + tb
    assert z.requires_grad is tz.requires_grad is False
    assert z.grad_fn is None
    _close(z, tz)


@pytest.mark.torch
def test_cell5_detach(pair):
    import torch

    (x, _, w, b, _, _), (tx, _, tw, tb, _, _) = pair
    z_det = (cr.matmul(x, w) + b).detach()
    tz_det = (torch.matmul(tx, tw) + tb).detach()
    assert z_det.requires_grad is tz_det.requires_grad is False
    assert z_det.is_leaf and z_det.grad_fn is None
    _close(z_det, tz_det)


@pytest.mark.torch
def test_frozen_parameter(pair):
    import torch

    (x, y, w, b, _, _), (tx, ty, tw, tb, _, _) = pair
    w.requires_grad_(False)
    tw.requires_grad_(False)
    cr.nn.functional.binary_cross_entropy_with_logits(cr.matmul(x, w) + b, y).backward()
    torch.nn.functional.binary_cross_entropy_with_logits(torch.matmul(tx, tw) + tb,
                                                         ty).backward()
    assert w.grad is None and tw.grad is None
    _close(b.grad, tb.grad)


@pytest.mark.torch
def test_jacobian_products_accumulate_and_zero():
    import torch

    results = []
    for lib in (cr, torch):
        inp = lib.eye(4, 5, requires_grad=True)
        out = (inp + 1).pow(2).t()
        assert tuple(out.shape) == (5, 4)
        out.backward(lib.ones_like(out), retain_graph=True)
        first = inp.grad.clone()
        out.backward(lib.ones_like(out), retain_graph=True)
        second = inp.grad.clone()
        inp.grad.zero_()
        out.backward(lib.ones_like(out), retain_graph=True)
        results.append([repr(first), repr(second), repr(inp.grad), out.grad_fn.name()])
    assert results[0] == results[1]


@pytest.mark.torch
def test_example_script_runs_and_matches_torch(tmp_path, capsys):
    import torch

    spec = importlib.util.spec_from_file_location(
        "autograd_tutorial", os.path.join(ROOT, "examples", "autograd_tutorial.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.main(out_dir=str(tmp_path))
    printed = capsys.readouterr().out
    assert "grad_fn=<BinaryCrossEntropyWithLogitsBackward0>" in printed
    assert "Gradient function for z = <AddBackward0 object at 0x" in printed
    assert "First call" in printed and "Call after zeroing gradients" in printed

    # Redo the tutorial in torch with the w and b the script drew.
    _, _, tw, tb, _, tloss = _setup(torch, res["w"].detach().numpy(), res["b"].detach().numpy())
    tloss.backward()
    _close(res["loss"], tloss)
    assert repr(tloss) in printed
    assert repr(tw.grad) in printed and repr(tb.grad) in printed
    inp = torch.eye(4, 5, requires_grad=True)
    out = (inp + 1).pow(2).t()
    out.backward(torch.ones_like(out), retain_graph=True)
    _close(res["first"], inp.grad)
    out.backward(torch.ones_like(out), retain_graph=True)
    _close(res["second"], inp.grad)

    dot = (tmp_path / "tutorial_graph.dot").read_text()
    assert dot.startswith("digraph {") and dot.rstrip().endswith("}")
    for label in ("BinaryCrossEntropyWithLogitsBackward0", 'label="AddBackward0\\nz (3)"',
                  'label="w\\n (5, 3)"', 'label="b\\n (3)"', 'label="loss\\n ()"'):
        assert label in dot


def _dot_graph(src):
    """Nodes {id: label} and edges [(from, to)] parsed from make_dot's output."""
    nodes = dict(re.findall(r'^\t(\w+) \[label="((?:[^"\\]|\\.)*)"', src, re.MULTILINE))
    edges = re.findall(r"^\t(\w+) -> (\w+)$", src, re.MULTILINE)
    return nodes, edges


def test_make_dot_structure():
    w = cr.ones(2, 3, requires_grad=True)
    b = cr.zeros(3, requires_grad=True)
    h = w * 2
    out = (h + b).sum() + h.sum()  # h used twice: one node, two edges out
    nodes, edges = _dot_graph(make_dot(out, params={"w": w, "b": b}))
    labels = sorted(nodes.values())
    assert labels.count("MulBackward0") == 1
    assert labels.count("SumBackward0") == 2
    assert labels.count("AddBackward0") == 2
    assert "w\\n (2, 3)" in labels and "b\\n (3)" in labels
    assert "output\\n ()" in labels
    by_label = {v: k for k, v in nodes.items()}
    mul = by_label["MulBackward0"]
    assert sum(1 for a, _ in edges if a == mul) == 2
    assert (by_label["w\\n (2, 3)"], mul) in edges
    assert len(set(edges)) == len(edges) == 8
    for a, c in edges:
        assert a in nodes and c in nodes


def test_make_dot_unnamed_leaf_and_named_pairs():
    w = cr.ones(4, requires_grad=True)
    v = cr.ones(4, requires_grad=True)
    src = make_dot((w * v).sum(), params=[("weight", w)])
    labels = list(_dot_graph(src)[0].values())
    assert "weight\\n (4)" in labels and "(4)" in labels


def test_save_graph_writes_dot(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")  # no Graphviz: only the .dot file
    w = cr.ones(2, requires_grad=True)
    paths = save_graph((w * w).sum(), tmp_path / "sub" / "g.dot")
    assert paths == [str(tmp_path / "sub" / "g.dot")]
    assert "MulBackward0" in (tmp_path / "sub" / "g.dot").read_text()


def test_readme_example_runs_and_commands_are_documented(capsys):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    code = re.search(r"```python\n(.*?)```", readme, re.DOTALL).group(1)
    assert len(code.strip().splitlines()) <= 10
    exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - the README's own example
    assert "grad_fn=<BinaryCrossEntropyWithLogitsBackward0>" in capsys.readouterr().out
    assert "make demo" in readme and "make test" in readme
    with open(os.path.join(ROOT, "Makefile"), encoding="utf-8") as f:
        makefile = f.read()
    assert re.search(r"^demo:", makefile, re.MULTILINE)
    assert re.search(r"^test:", makefile, re.MULTILINE)
    assert "examples/autograd_tutorial.py" in makefile
    assert "torch==2.13.0" in makefile


def test_save_graph_renders_svg_with_graphviz(tmp_path, monkeypatch):
    # A stand-in `dot` that records its arguments and writes the -o file.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "dot"
    fake.write_text('#!/bin/sh\necho "$@" > "${0%/*}/args"\n'
                    'while [ "$1" != "-o" ]; do shift; done\necho "<svg/>" > "$2"\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(bindir))
    w = cr.ones(2, requires_grad=True)
    paths = save_graph((w * w).sum(), tmp_path / "g")
    assert paths == [str(tmp_path / "g.dot"), str(tmp_path / "g.svg")]
    assert (tmp_path / "g.svg").read_text().strip() == "<svg/>"
    assert (bindir / "args").read_text().split()[:2] == ["-Tsvg", str(tmp_path / "g.dot")]


def test_demo_script_runs_as_make_demo_runs_it(tmp_path):
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    script = os.path.join(ROOT, "examples", "autograd_tutorial.py")
    proc = subprocess.run([sys.executable, script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Call after zeroing gradients" in proc.stdout
    assert os.path.exists(os.path.join(ROOT, "examples", "out", "tutorial_graph.dot"))


@pytest.mark.torch
def test_requires_grad_set_after_creation(pair):
    import torch

    (x, y, _, _, _, _), (tx, ty, _, _, _, _) = pair
    w_np = np.random.default_rng(2).standard_normal((5, 3)).astype(np.float32)
    grads = []
    for lib, xx, yy in ((cr, x, y), (torch, tx, ty)):
        w = lib.tensor(w_np)
        assert not w.requires_grad
        w.requires_grad_(True)
        lib.nn.functional.binary_cross_entropy_with_logits(lib.matmul(xx, w), yy).backward()
        grads.append(w.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-7)


def test_make_dot_names_intermediate_tensors():
    w = cr.ones(2, requires_grad=True)
    h = w * 3
    out = h.exp().sum()
    nodes, _ = _dot_graph(make_dot(out, params={"w": w, "h": h}))
    assert "MulBackward0\\nh (2)" in nodes.values()
    assert "ExpBackward0" in nodes.values()

"""Forward-mode AD (autograd/forward_ad.py and the nodes' ``jvp`` rules).

Every op of the op tables (test_ops_elementwise/reduction/shape/indexing/linalg) is checked
in forward mode against reverse mode by the dot-product test ``<J v, u> == <v, J^T u>`` for
random ``u``, ``v`` in float64, once with NumPy-speed rules (fresh dual leaves) and once with
the rules recorded on Tensors (duals of tensors that require grad); a subset is compared with
``torch.func.jvp``. Then make_dual / unpack_dual semantics against torch.autograd.forward_ad.
"""
import numpy as np
import pytest
import test_ops_elementwise as E
import test_ops_indexing as I
import test_ops_linalg as LA
import test_ops_reduction as R
import test_ops_shape as S

import chainrule as cr
import chainrule.autograd.forward_ad as fwAD

try:
    import torch
except ImportError:  # pragma: no cover - `make test` installs torch
    torch = None


# --------------------------------------------------------------------------------------
# One table from the op tables: id -> (fn(lib, *tensors), arrays)
# --------------------------------------------------------------------------------------
def _elementwise(case):
    def fn(L, *xs):
        return case.fn(*xs) if L is cr else case.tfn(*xs)
    return fn, E.inputs(case)


def _table():
    table = {}
    for case in E.ALL:
        table["elementwise-" + case.name] = _elementwise(case)
    for name, fn, specs, *_ in R.CASES:
        table["reduction-" + name] = (fn, R.make_inputs(specs))
    for name, fn, specs, *_ in S.CASES:
        table["shape-" + name] = (fn, R.make_inputs(specs))
    for name, (fn, arrays) in I.OPS.items():
        table["indexing-" + name] = (fn, [np.asarray(a, np.float64) for a in arrays])
    for name, (fn, arrays, *_) in LA.OPS.items():
        if name in LA.NEEDS_COMPLEX:
            continue
        table["linalg-" + name] = (fn, [np.asarray(a) for a in arrays])
    return table


TABLE = _table()
IDS = sorted(TABLE)


def _outputs(r):
    if isinstance(r, (tuple, list)):
        return [t for x in r for t in _outputs(x)]
    return [r]


def _diff_outputs(r):
    return [o for o in _outputs(r) if isinstance(o, cr.Tensor) and o.is_floating_point()
            and o.requires_grad]


def _float_inputs(arrays):
    return [i for i, a in enumerate(arrays) if np.asarray(a).dtype.kind == "f"]


def forward_tangents(fn, arrays, tangents, tensor_mode=False):
    """The outputs' tangents (arrays, zeros where None) by forward mode, with the primals."""
    with fwAD.dual_level():
        ins = []
        for a, t in zip(arrays, tangents):
            x = cr.tensor(a, requires_grad=tensor_mode and t is not None)
            ins.append(x if t is None else fwAD.make_dual(x, cr.tensor(t)))
        outs = _diff_outputs(fn(cr, *ins))
        res = []
        for o in outs:
            tan = fwAD.unpack_dual(o).tangent
            res.append(np.zeros(tuple(o.shape)) if tan is None else tan.detach().numpy())
    return res


def reverse_products(fn, arrays, us):
    """``J^T u`` for each input (zeros where unused)."""
    xs = [cr.tensor(a, requires_grad=i in _float_inputs(arrays)) for i, a in enumerate(arrays)]
    outs = _diff_outputs(fn(cr, *xs))
    if not outs:
        return [None] * len(xs)
    loss = sum((o * cr.tensor(u)).sum() for o, u in zip(outs, us))
    wrt = [x for x in xs if x.requires_grad]
    gs = cr.autograd.grad(loss, wrt, allow_unused=True)
    it = iter(gs)
    return [(next(it) if x.requires_grad else None) for x in xs]


def dot_test(fn, arrays, tensor_mode=False, seed=0):
    rng = np.random.default_rng(seed)
    fl = _float_inputs(arrays)
    if not fl:
        return
    vs = [rng.standard_normal(np.shape(a)) if i in fl else None for i, a in enumerate(arrays)]
    jv = forward_tangents(fn, arrays, vs, tensor_mode)
    us = [rng.standard_normal(t.shape) for t in jv]
    jtu = reverse_products(fn, arrays, us)
    lhs = sum(float(np.sum(t * u)) for t, u in zip(jv, us))
    rhs = sum(float(np.sum(v * g.numpy())) for v, g in zip(vs, jtu)
              if v is not None and g is not None)
    scale = 1 + sum(float(np.abs(t * u).sum()) for t, u in zip(jv, us))
    assert abs(lhs - rhs) <= 1e-9 * scale, (lhs, rhs)


class _FallbackCounter:
    """Counts the unpack_dual calls that needed the double-vjp fallback."""

    def __init__(self, monkeypatch):
        self.n = 0
        orig = fwAD._unpack_by_double_vjp

        def counted(*args):
            self.n += 1
            return orig(*args)

        monkeypatch.setattr(fwAD, "_unpack_by_double_vjp", counted)


# Ops whose graph has a node without a jvp rule (the double-vjp fallback computes them).
FALLBACK = {"linalg-qr_wide"}
# NaN in the inputs or outputs: no dot-product test (NaN * 0); compared with torch instead.
NAN_CASES = {"reduction-nansum_nan", "reduction-nanmean_nan", "reduction-cummax_nan",
             "reduction-var_size1_dim", "reduction-std_mean_size1_dim"}


@pytest.mark.parametrize("name", IDS)
def test_dot_product_forward_vs_reverse(name, monkeypatch):
    if name in NAN_CASES:
        pytest.skip("NaN: see test_forward_mode_vs_torch")
    fn, arrays = TABLE[name]
    counter = _FallbackCounter(monkeypatch)
    dot_test(fn, arrays)
    if name not in FALLBACK:
        assert counter.n == 0, f"{name} fell back to the double-vjp trick"


@pytest.mark.parametrize("name", IDS)
def test_dot_product_rules_on_tensors(name):
    """Duals of tensors that require grad: the rules run on Tensors (recorded)."""
    if name in NAN_CASES:
        pytest.skip("NaN: see test_forward_mode_vs_torch")
    fn, arrays = TABLE[name]
    dot_test(fn, arrays, tensor_mode=True, seed=1)


# --------------------------------------------------------------------------------------
# Against torch.func.jvp
# --------------------------------------------------------------------------------------
def _torch_tangents(fn, arrays, tangents):
    ins = tuple(torch.tensor(a) for a in arrays)
    fl = _float_inputs(arrays)

    def f(*xs):
        full = list(ins)
        for i, x in zip(fl, xs):
            full[i] = x
        outs = [o for o in _outputs(fn(torch, *full))
                if isinstance(o, torch.Tensor) and o.is_floating_point()]
        return tuple(outs)

    _, jv = torch.func.jvp(f, tuple(ins[i] for i in fl),
                           tuple(torch.tensor(tangents[i]) for i in fl))
    return [t.detach().numpy() for t in jv]


def _compare_with_torch(name, tensor_mode=False):
    fn, arrays = TABLE[name]
    rng = np.random.default_rng(3)
    fl = _float_inputs(arrays)
    vs = [rng.standard_normal(np.shape(a)) if i in fl else None for i, a in enumerate(arrays)]
    ours = forward_tangents(fn, arrays, vs, tensor_mode)
    theirs = _torch_tangents(fn, arrays, vs)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9, equal_nan=True)


TORCH_DIFFERS = {  # name: why the comparison with torch.func.jvp is left out
    "indexing-index_reduce_amax": "no forward AD in torch",
    "indexing-index_reduce_amin": "no forward AD in torch",
    "indexing-index_reduce_mean": "no forward AD in torch",
    "indexing-index_reduce_prod": "no forward AD in torch",
    "linalg-cdist": "no forward AD in torch",
    "linalg-cdist_p1": "no forward AD in torch",
    "linalg-cdist_p3": "no forward AD in torch",
    "linalg-cholesky_alias": "no forward AD in torch",
    "indexing-scatter_reduce_prod_False": "torch's jvp disagrees with its own backward",
    "indexing-scatter_reduce_prod_True": "torch's jvp disagrees with its own backward",
    # Symmetric/triangular inputs, random tangents: chainrule's jvp is the adjoint of its
    # backward (symmetrised / triangle-only, as torch's backward); torch's jvp uses the
    # whole tangent. Equal for tangents inside the domain (test_cholesky_eigh_vs_torch).
    "linalg-cholesky": "non-symmetric tangent",
    "linalg-cholesky_upper": "non-symmetric tangent",
    "linalg-eigh": "non-symmetric tangent",
    "linalg-eigh_upper": "non-symmetric tangent",
    "linalg-cholesky_inverse": "tangent outside the triangle",
    "linalg-triangular_solve": "tangent outside the triangle",
    "linalg-svd_wide": "full_matrices: the extra rows of Vh are not unique",
    "linalg-slogdet": "sign output: not differentiable here",
    "reduction-logcumsumexp_big": "torch underflows (chainrule matches central differences)",
    "reduction-logsumexp_empty": "empty input: torch gives NaN",
}
TORCH_IDS = [n for n in IDS if n not in TORCH_DIFFERS and not n.startswith(
    ("reduction-arg", "reduction-all_any", "reduction-count_nonzero"))]


@pytest.mark.torch
@pytest.mark.parametrize("name", TORCH_IDS)
def test_forward_mode_vs_torch(name):
    _compare_with_torch(name)


@pytest.mark.torch
@pytest.mark.parametrize("op", ["cholesky", "eigh"])
def test_cholesky_eigh_vs_torch_with_symmetric_tangents(op):
    a = LA.spd(4)
    v = np.random.default_rng(5).standard_normal((4, 4))
    v = v + v.T

    def fn(L, x):
        return L.linalg.cholesky(x) if op == "cholesky" else L.linalg.eigh(x)

    ours = forward_tangents(fn, [a], [v])
    theirs = _torch_tangents(fn, [a], [v])
    if op == "eigh":  # eigenvectors up to sign: compare the projector-invariant |V|' too
        ours, theirs = ours[:1], theirs[:1]
    for x, y in zip(ours, theirs):
        np.testing.assert_allclose(x, y, rtol=1e-8, atol=1e-10)


# --------------------------------------------------------------------------------------
# make_dual / unpack_dual semantics, against torch.autograd.forward_ad
# --------------------------------------------------------------------------------------
def _both(fn):
    """``fn(lib, fwAD_module)`` run in chainrule and torch."""
    import torch.autograd.forward_ad as tfw

    return fn(cr, fwAD), fn(torch, tfw)


@pytest.mark.torch
def test_unpack_dual_of_duals_results_and_plain_tensors_vs_torch():
    x, t = np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0, -0.5])

    def run(L, fw):
        with fw.dual_level():
            d = fw.make_dual(L.tensor(x), L.tensor(t))
            p, tan = fw.unpack_dual(d)
            y = (d.sin() * d + 1).exp().sum()
            plain = fw.unpack_dual(L.tensor(x) * 2)
            res = (p.numpy().copy(), tan.numpy().copy(), fw.unpack_dual(y).tangent.item(),
                   plain.tangent, type(fw.unpack_dual(y)).__name__, fw.unpack_dual(y)._fields)
        outside = fw.unpack_dual(d)
        return res + (outside.tangent, d.requires_grad)

    c, t_ = _both(run)
    np.testing.assert_allclose(c[0], t_[0])
    np.testing.assert_allclose(c[1], t_[1])
    np.testing.assert_allclose(c[2], t_[2], rtol=1e-12)
    assert c[3] is None and t_[3] is None
    assert c[4] == t_[4] == "UnpackedDualTensor" and c[5] == t_[5]
    assert c[6] is None and t_[6] is None  # the level is gone: no tangent
    assert c[7] == t_[7] is False


@pytest.mark.torch
def test_make_dual_errors_like_torch():
    def run(L, fw, what):
        with fw.dual_level():
            if what == "shape":
                fw.make_dual(L.zeros(3), L.zeros(2))
            elif what == "int":
                fw.make_dual(L.zeros(3, dtype=L.int64), L.zeros(3))

    for what, exc in (("shape", RuntimeError), ("int", ValueError)):
        import torch.autograd.forward_ad as tfw

        with pytest.raises(exc) as ec:
            run(cr, fwAD, what)
        with pytest.raises(exc) as et:
            run(torch, tfw, what)
        assert str(ec.value).split(",")[0] == str(et.value).split(",")[0]
    with pytest.raises(RuntimeError, match="no level exists"):
        fwAD.make_dual(cr.zeros(2), cr.zeros(2))


def test_view_and_multi_output_tangents():
    x, t = np.arange(12.0).reshape(3, 4), np.ones((3, 4))
    with fwAD.dual_level():
        d = fwAD.make_dual(cr.tensor(x), cr.tensor(t * 2))
        _, b = d.reshape(4, 3).T.split([1, 2], dim=0)
        np.testing.assert_allclose(fwAD.unpack_dual(b).tangent.numpy(), np.full((2, 4), 2.0))
        v, i = d.max(dim=1)
        np.testing.assert_allclose(fwAD.unpack_dual(v).tangent.numpy(), [2.0, 2.0, 2.0])
        assert fwAD.unpack_dual(i).tangent is None


def test_tangent_after_a_freeing_backward_raises_second_backward_error():
    with fwAD.dual_level():
        w = cr.tensor([1.0, 2.0], requires_grad=True)
        d = fwAD.make_dual(cr.tensor([0.3, 0.4]), cr.tensor([1.0, 1.0]))
        y = (d * w).exp().sum()
        y.backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            fwAD.unpack_dual(y)
    with fwAD.dual_level():  # unpacked before the backward: fine, and cached
        d = fwAD.make_dual(cr.tensor([0.3, 0.4]), cr.tensor([1.0, 1.0]))
        y = (d * w).exp().sum()
        before = fwAD.unpack_dual(y).tangent.item()
        y.backward()
        assert fwAD.unpack_dual(y).tangent.item() == before


def test_tangent_is_differentiable_wrt_other_tensors():
    """Duals mixed with tensors that require grad: the rules run on Tensors, so the tangent
    stays connected to them (backward over forward), as in PyTorch."""
    w = cr.tensor([1.5, -0.5], dtype=cr.float64, requires_grad=True)
    with fwAD.dual_level():
        d = fwAD.make_dual(cr.tensor([0.3, 0.4], dtype=cr.float64),
                           cr.tensor([1.0, 2.0], dtype=cr.float64))
        tan = fwAD.unpack_dual((d * w).sin().sum()).tangent  # sum(cos(d w) w t)
    (g,) = cr.autograd.grad(tan, w)
    dw, wv, tv = np.array([0.3, 0.4]), np.array([1.5, -0.5]), np.array([1.0, 2.0])
    expected = (np.cos(dw * wv) - np.sin(dw * wv) * dw * wv) * tv
    np.testing.assert_allclose(g.numpy(), expected, rtol=1e-12)


def test_rules_are_used_and_fallback_still_works(monkeypatch):
    counter = _FallbackCounter(monkeypatch)
    with fwAD.dual_level():
        d = fwAD.make_dual(cr.tensor([[2.0, 0.0, 3.0]]), cr.tensor([[1.0, 1.0, 1.0]]))
        assert fwAD.unpack_dual(d.exp().sum()).tangent is not None
        assert counter.n == 0
        # wide QR has no rule: the double-vjp trick computes it
        a = fwAD.make_dual(cr.tensor(np.arange(6.0).reshape(2, 3) ** 2),
                           cr.tensor(np.ones((2, 3))))
        tan = fwAD.unpack_dual(cr.linalg.qr(a).R).tangent
        assert counter.n == 1 and tan.shape == (2, 3)


def test_long_chain_is_walked_iteratively():
    with fwAD.dual_level():
        d = fwAD.make_dual(cr.tensor([1.0], dtype=cr.float64), cr.tensor([1.0], dtype=cr.float64))
        y = d
        for _ in range(5000):
            y = y * 1.0001
        np.testing.assert_allclose(fwAD.unpack_dual(y).tangent.numpy(), [1.0001 ** 5000],
                                   rtol=1e-10)


@pytest.mark.torch
def test_custom_function_jvp_vs_torch():
    import torch.autograd.forward_ad as tfw

    def make(L):
        class Scale(L.autograd.Function):
            @staticmethod
            def forward(ctx, x, y, k):
                ctx.save_for_forward(x, y)
                ctx.k = k
                return x * y * k

            @staticmethod
            def jvp(ctx, tx, ty, tk):
                assert tk is None
                x, y = ctx.saved_tensors
                return (tx * y + x * ty) * ctx.k

            @staticmethod
            def backward(ctx, g):
                return None, None, None

        return Scale

    res = []
    for L, fw in ((cr, fwAD), (torch, tfw)):
        with fw.dual_level():
            x = fw.make_dual(L.tensor([1.0, 2.0]), L.tensor([1.0, -1.0]))
            out = make(L).apply(x, L.tensor([3.0, 4.0]), 2.0)
            res.append(fw.unpack_dual(out.sin()).tangent.numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12)


@pytest.mark.torch
def test_inplace_on_a_view_dual_and_expand_vs_torch():
    import torch.autograd.forward_ad as tfw

    res = []
    for L, fw in ((cr, fwAD), (torch, tfw)):
        with fw.dual_level():
            x = L.tensor([1.0, 2.0, 3.0], dtype=L.float64, requires_grad=True)
            d = fw.make_dual(x, L.tensor([1.0, 0.5, -1.0], dtype=L.float64))
            y = d * 1
            y.mul_(3)
            y[1:] = 2 * d[1:]
            e = fw.unpack_dual(d.expand(2, 3)).tangent
            res.append((fw.unpack_dual(y).tangent.detach().numpy(), e.detach().numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b)


def test_saved_tensors_hooks_and_inplace_checks_apply_to_jvp_rules():
    packed = []
    with fwAD.dual_level():
        d = fwAD.make_dual(cr.tensor([1.0, 2.0], dtype=cr.float64),
                           cr.tensor([1.0, 1.0], dtype=cr.float64))
        with cr.autograd.graph.saved_tensors_hooks(lambda t: packed.append(1) or t * 1,
                                                   lambda t: t):
            y = d.sin()
        assert packed
        np.testing.assert_allclose(fwAD.unpack_dual(y).tangent.numpy(), np.cos([1.0, 2.0]))
        z = d * 1
        q = z.sin()  # saves z
        z.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            fwAD.unpack_dual(q)


@pytest.mark.torch
def test_functional_and_func_jvp_use_the_rules_and_match_torch(monkeypatch):
    results = []
    orig = fwAD._tangent_by_rules

    def recorded(*args, **kwargs):
        results.append(orig(*args, **kwargs))
        return results[-1]

    monkeypatch.setattr(fwAD, "_tangent_by_rules", recorded)
    rng = np.random.default_rng(4)
    w, x, v = rng.standard_normal((4, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    res = {}
    for L in (cr, torch):
        def fn(xs, L=L):
            return (xs @ L.tensor(w)).tanh().exp().sum(-1)

        res[L.__name__] = (L.autograd.functional.jvp(fn, L.tensor(x), L.tensor(v))[1].numpy(),
                           L.func.jvp(fn, (L.tensor(x),), (L.tensor(v),))[1].numpy())
    assert len(results) == 2 and all(r is not fwAD._NO_RULE for r in results)
    for a, b in zip(res["chainrule"], res["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.torch
def test_forward_mode_jacobians_use_the_rules_and_match_torch(monkeypatch):
    import chainrule.func as crfunc

    hits = []
    orig = fwAD._jacobian_by_rules

    def recorded(*args, **kwargs):
        hits.append(orig(*args, **kwargs))
        return hits[-1]

    monkeypatch.setattr(fwAD, "_jacobian_by_rules", recorded)
    a, b = np.random.default_rng(2).standard_normal(3), np.random.default_rng(3).standard_normal((3, 2))
    res = {}
    for L, jacfwd in ((cr, crfunc.jacfwd), (torch, torch.func.jacfwd)):
        def f(x, w, L=L):
            return (x @ w).tanh() * x.sum()

        res[L.__name__] = (
            jacfwd(f, argnums=(0, 1))(L.tensor(a), L.tensor(b)),
            L.autograd.functional.jacobian(f, (L.tensor(a), L.tensor(b)), vectorize=True,
                                           strategy="forward-mode") if L is cr else
            L.autograd.functional.jacobian(f, (L.tensor(a), L.tensor(b))))
    assert hits and all(h is not None for h in hits)
    for c, t in zip(res["chainrule"], res["torch"]):
        for x, y in zip(c, t):
            np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-12, atol=1e-14)


def test_functional_jvp_through_parameters_that_require_grad_runs_on_arrays(monkeypatch):
    """A closure over a tensor that requires grad: the result is detached anyway, so the
    rules run on arrays (not recorded on Tensors)."""
    modes = []
    orig = fwAD._tangent_by_rules

    def recorded(tensor, lv, duals=None, arrays_only=False):
        modes.append(arrays_only)
        return orig(tensor, lv, duals, arrays_only)

    monkeypatch.setattr(fwAD, "_tangent_by_rules", recorded)
    w = cr.tensor([[1.0, 2.0], [0.5, -1.0]], dtype=cr.float64, requires_grad=True)
    x = cr.tensor([0.3, 0.7], dtype=cr.float64)
    _, jv = cr.autograd.functional.jvp(lambda x: (w @ x).sin(), x,
                                        cr.tensor([1.0, 0.0], dtype=cr.float64))
    assert modes == [True] and not jv.requires_grad
    expected = np.cos(w.detach().numpy() @ x.numpy()) * w.detach().numpy()[:, 0]
    np.testing.assert_allclose(jv.numpy(), expected, rtol=1e-12)


# --------------------------------------------------------------------------------------
# Batched Jacobians (jacfwd's one pass over the whole basis) vs reverse mode, every op
# --------------------------------------------------------------------------------------
def _reverse_jacobian(out, wrt):
    """d out / d wrt[j] for each j, one backward per output element (retain_graph)."""
    n = out.numel()
    rows = [[np.zeros(tuple(x.shape)) for x in wrt] for _ in range(n)]
    for k in range(n):
        e = np.zeros(n)
        e[k] = 1
        gs = cr.autograd.grad(out, wrt, cr.tensor(e.reshape(tuple(out.shape)), dtype=out.dtype),
                              retain_graph=True, allow_unused=True)
        for j, g in enumerate(gs):
            if g is not None:
                rows[k][j] = g.numpy()
    return [np.stack([r[j] for r in rows]).reshape(tuple(out.shape) + tuple(x.shape))
            if n else np.zeros(tuple(out.shape) + tuple(x.shape)) for j, x in enumerate(wrt)]


BATCHED_IDS = [n for n in IDS if n not in NAN_CASES and _float_inputs(TABLE[n][1])]


@pytest.mark.parametrize("name", BATCHED_IDS)
def test_batched_jacobian_by_rules_vs_reverse_mode(name):
    fn, arrays = TABLE[name]
    fl = _float_inputs(arrays)
    xs = [cr.tensor(a, requires_grad=i in fl) for i, a in enumerate(arrays)]
    outs = _diff_outputs(fn(cr, *xs))
    wrt = [xs[i] for i in fl]
    jac = fwAD._jacobian_by_rules(outs, wrt)
    if name in FALLBACK:
        assert jac is None
        return
    assert jac is not None, f"{name}: a node without a jvp rule"
    for o, row in zip(outs, jac):
        for got, want in zip(row, _reverse_jacobian(o, wrt)):
            assert got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9, err_msg=name)


@pytest.mark.parametrize("name", BATCHED_IDS)
def test_batched_backward_vs_one_backward_per_row(name):
    """One reverse pass with a batch of one-hot cotangents (the vectorized Jacobian) gives
    what one backward per cotangent gives, for every op of the table."""
    from chainrule.autograd.functional import _batched_backward

    fn, arrays = TABLE[name]
    fl = _float_inputs(arrays)
    xs = [cr.tensor(a, requires_grad=i in fl) for i, a in enumerate(arrays)]
    outs = _diff_outputs(fn(cr, *xs))
    wrt = [xs[i] for i in fl]
    for o in outs:
        n = o.numel()
        basis = np.eye(n, dtype=o._data.dtype).reshape((n,) + tuple(o.shape))
        got = _batched_backward([o], wrt, [basis], retain_graph=True)
        assert got is not None, f"{name}: no batched pass"
        for g, want, x in zip(got, _reverse_jacobian(o, wrt), wrt):
            g = np.zeros((n,) + tuple(x.shape)) if g is None else \
                np.broadcast_to(g, (n,) + tuple(x.shape))
            np.testing.assert_allclose(g.reshape(want.shape), want, rtol=1e-7, atol=1e-9,
                                       err_msg=name)


@pytest.mark.torch
def test_eig_jvp_vs_torch():
    """Forward mode through linalg.eig (complex results of a real input) agrees with torch,
    eigenpairs matched by eigenvalue (the two libraries may order them differently)."""
    import torch.autograd.forward_ad as tfw

    rng = np.random.default_rng(0)
    A, T = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    res = []
    for L, fw in ((cr, fwAD), (torch, tfw)):
        with fw.dual_level():
            lam, v = L.linalg.eig(fw.make_dual(L.tensor(A), L.tensor(T)))
            res.append([np.asarray(fw.unpack_dual(t).primal.detach().numpy()) for t in (lam, v)]
                       + [fw.unpack_dual(t).tangent.numpy() for t in (lam, v)])
    (l0, v0, dl0, dv0), (l1, v1, dl1, dv1) = res
    perm = [int(np.argmin(np.abs(l1 - x))) for x in l0]
    np.testing.assert_allclose(l0, l1[perm], atol=1e-10)
    np.testing.assert_allclose(dl0, dl1[perm], atol=1e-10)
    # eigenvectors are defined up to a unit phase: compare after aligning it
    phase = np.sum(np.conj(v1[:, perm]) * v0, axis=0)
    phase = phase / np.abs(phase)
    np.testing.assert_allclose(v0, v1[:, perm] * phase, atol=1e-10)
    np.testing.assert_allclose(dv0, dv1[:, perm] * phase, atol=1e-10)

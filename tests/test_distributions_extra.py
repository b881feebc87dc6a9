"""The second set of chainrule.distributions families (Chi2, Multinomial, NegativeBinomial,
Weibull, Pareto, HalfCauchy, VonMises, LowRankMultivariateNormal, Kumaraswamy, FisherSnedecor,
ContinuousBernoulli, RelaxedBernoulli, LogisticNormal, Wishart, LKJCholesky) against
torch.distributions: log_prob, cdf, icdf, entropy, moments and their gradients in float64 on the
same inputs; shapes, reprs, constraints, validation errors and KL; samples (different numbers
from torch's) by support and moments over many draws, rsample by pathwise gradients."""
import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.distributions as CD

torch = pytest.importorskip("torch")
TD = torch.distributions
# Wishart with ndim - 1 < df < ndim warns, as torch does (test_wishart_errors_and_warnings...)
pytestmark = [pytest.mark.torch, pytest.mark.filterwarnings("ignore:Low df values")]

P = np.array([0.5, 1.5, 3.0])
Q = np.array([2.0, 0.7, 1.3])
PR = np.array([0.2, 0.5, 0.9])
_SPD = np.array([[[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]],
                 [[1.0, 0.0, 0.2], [0.0, 2.0, 0.5], [0.2, 0.5, 1.0]]])
_X = np.array([[1.5, 0.2, 0.0], [0.2, 0.8, 0.1], [0.0, 0.1, 2.0]])
# name -> (positional parameter arrays, keyword parameter arrays, values to score)
CASES = {
    "Chi2": ([P], {}, np.array([0.4, 1.2, 3.3])),
    "Multinomial": ([], {"probs": np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])},
                    np.array([[1.0, 2.0, 3.0], [6.0, 0.0, 0.0]])),
    "Multinomial_logits": ([], {"logits": np.array([[0.2, -1.3, 0.5], [1.6, 0.1, -0.3]])},
                           np.array([[1.0, 2.0, 3.0], [0.0, 6.0, 0.0]])),
    "NegativeBinomial": ([np.array([2.0, 0.7, 5.0])], {"probs": PR},
                         np.array([0.0, 3.0, 12.0])),
    "NegativeBinomial_logits": ([np.array([2.0, 0.7, 5.0])],
                                {"logits": np.array([-1.0, 0.3, 2.0])},
                                np.array([1.0, 0.0, 7.0])),
    "Weibull": ([P, Q], {}, np.array([0.4, 1.2, 3.3])),
    "Pareto": ([P, Q], {}, np.array([0.6, 1.7, 5.0])),
    "HalfCauchy": ([P], {}, np.array([0.4, 1.2, 3.3])),
    # concentrations on both sides of 3.75, where the Bessel approximation switches form
    "VonMises": ([np.array([0.1, -1.0, 2.5, 3.0]), np.array([0.5, 2.0, 3.75, 6.0])], {},
                 np.array([0.5, -2.0, 1.0, -3.0])),
    "LowRankMultivariateNormal": ([np.array([[0.1, -0.5, 2.0], [1.0, 0.0, -1.0]]),
                                   np.array([[0.5, -1.0], [1.2, 0.3], [-0.4, 0.8]]),
                                   np.array([0.7, 1.5, 0.4])], {},
                                  np.array([[0.3, -1.0, 2.5], [0.0, 0.5, -0.2]])),
    "Kumaraswamy": ([P, Q], {}, np.array([0.3, 0.6, 0.9])),
    "FisherSnedecor": ([np.array([0.5, 3.0, 6.0]), np.array([1.5, 3.0, 8.0])], {},
                       np.array([0.4, 1.2, 3.3])),
    # 0.4995 lies inside lims, where the Taylor forms apply
    "ContinuousBernoulli": ([], {"probs": np.array([0.2, 0.4995, 0.9])},
                            np.array([0.3, 0.6, 0.95])),
    "ContinuousBernoulli_logits": ([], {"logits": np.array([-1.5, 0.001, 2.0])},
                                   np.array([0.3, 0.6, 0.95])),
    "RelaxedBernoulli": ([np.array(0.7)], {"probs": PR}, np.array([0.3, 0.6, 0.99])),
    "RelaxedBernoulli_logits": ([np.array(1.3)], {"logits": np.array([-1.5, 0.0, 2.0])},
                                np.array([0.3, 0.6, 0.99])),
    "LogisticNormal": ([np.array([[0.1, -0.5, 0.3], [1.0, 0.0, -1.0]]), P], {},
                       np.array([[0.2, 0.3, 0.1, 0.4], [0.7, 0.1, 0.15, 0.05]])),
    # df = 3.5 < p + 1 = 4: mode undefined (nan) for the first batch entry
    "Wishart": ([np.array([3.5, 6.0])], {"covariance_matrix": _SPD}, _X),
    "Wishart_precision": ([np.array([2.5, 7.0])], {"precision_matrix": _SPD}, _X),
    "Wishart_tril": ([np.array([4.5, 3.0])], {"scale_tril": np.linalg.cholesky(_SPD)}, _X),
    "InverseGamma": ([P, Q], {}, np.array([0.4, 1.2, 3.3])),
    "OneHotCategoricalStraightThrough": ([np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])], {},
                                         np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])),
    "LKJCholesky": ([], {"concentration": np.array([0.5, 1.0, 3.0])},
                    np.linalg.cholesky(np.array([[1.0, 0.3, -0.2], [0.3, 1.0, 0.5],
                                                 [-0.2, 0.5, 1.0]]))),
}
# extra constructor arguments that are not parameters (no gradient)
FIXED = {"Multinomial": {"total_count": 6}, "Multinomial_logits": {"total_count": 6},
         "LKJCholesky": {"dim": 3}}
PROPS = {
    "Chi2": ("mean", "mode", "variance", "stddev", "df"),
    "Multinomial": ("mean", "variance", "probs", "logits"),
    "Multinomial_logits": ("mean", "variance", "probs", "logits"),
    "NegativeBinomial": ("mean", "mode", "variance", "probs", "logits"),
    "NegativeBinomial_logits": ("mean", "mode", "variance", "probs", "logits"),
    "Weibull": ("mean", "variance", "stddev"),  # mode: test_weibull_mode
    "Pareto": ("mean", "mode", "variance"),
    "HalfCauchy": ("mean", "mode", "variance"),
    "VonMises": ("mean", "mode", "variance"),
    "LowRankMultivariateNormal": ("mean", "mode", "variance", "covariance_matrix",
                                  "precision_matrix", "scale_tril"),
    "Kumaraswamy": ("mean", "variance"),  # mode: test_kumaraswamy_mode
    "FisherSnedecor": ("mean", "mode", "variance"),
    "ContinuousBernoulli": ("mean", "variance", "stddev", "probs", "logits"),
    "ContinuousBernoulli_logits": ("mean", "variance", "stddev", "probs", "logits"),
    "RelaxedBernoulli": ("temperature", "probs", "logits"),
    "RelaxedBernoulli_logits": ("temperature", "probs", "logits"),
    "LogisticNormal": ("loc", "scale"),
    "Wishart": ("mean", "mode", "variance", "covariance_matrix", "precision_matrix",
                "scale_tril", "df"),
    "LKJCholesky": ("concentration",),
    "InverseGamma": ("mean", "mode", "variance", "concentration", "rate"),
    "OneHotCategoricalStraightThrough": ("mean", "mode", "variance", "probs", "logits"),
}
PROPS["Wishart_precision"] = PROPS["Wishart_tril"] = PROPS["Wishart"]
CDF = {"Weibull", "Pareto", "HalfCauchy", "Kumaraswamy", "ContinuousBernoulli",
       "ContinuousBernoulli_logits"}
ICDF = CDF
NO_ENTROPY = {"NegativeBinomial", "NegativeBinomial_logits", "VonMises", "FisherSnedecor",
              "RelaxedBernoulli", "RelaxedBernoulli_logits",
              "LogisticNormal", "LKJCholesky"}  # torch has none


def _family(name):
    return name.split("_")[0]


def _make(lib, name):
    args, kwargs, _ = CASES[name]
    D = CD if lib is cr else TD
    pos = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in args]
    kw = {k: lib.tensor(a, dtype=lib.float64, requires_grad=True) for k, a in kwargs.items()}
    # torch's cholesky_solve hands the unused upper triangle of scale_tril a gradient; pass
    # tril(leaf) so that both libraries are compared on the entries that matter
    given = {k: v.tril() if k == "scale_tril" else v for k, v in kw.items()}
    dist = getattr(D, _family(name))(*pos, **given, **FIXED.get(name, {}))
    return dist, pos + list(kw.values())


def _close(a, b, rtol=1e-9):
    np.testing.assert_allclose(np.asarray(a.detach().numpy()), b.detach().numpy(),
                               rtol=rtol, atol=1e-12, equal_nan=True)


def _grads_match(cr_out, t_out, cr_ps, t_ps, rtol=1e-7):
    """Gradients of a weighted sum of the outputs w.r.t. every parameter, both libraries."""
    w = np.linspace(0.5, 1.5, int(np.prod(t_out.shape)) or 1).reshape(t_out.shape)
    gc = cr.autograd.grad((cr_out * cr.tensor(w)).sum(), cr_ps, allow_unused=True,
                          retain_graph=True)
    gt = torch.autograd.grad((t_out * torch.tensor(w)).sum(), t_ps, allow_unused=True,
                             retain_graph=True)
    for a, b in zip(gc, gt):
        if b is None:
            assert a is None or not np.any(a.numpy())
        else:
            assert a is not None
            _close(a, b, rtol=rtol)


def _compare(oc, ot, pc, pt, rtol=1e-8):  # digamma agrees with torch to ~1e-9
    assert tuple(oc.shape) == tuple(ot.shape)
    assert str(oc.dtype) == str(ot.dtype)
    _close(oc, ot, rtol=rtol)
    if ot.requires_grad and np.all(np.isfinite(ot.detach().numpy())):
        _grads_match(oc, ot, pc, pt)


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_torch(name):
    dc, pc = _make(cr, name)
    dt, pt = _make(torch, name)
    assert tuple(dc.batch_shape) == tuple(dt.batch_shape)
    assert tuple(dc.event_shape) == tuple(dt.event_shape)
    assert dc.has_rsample == dt.has_rsample
    assert dc.has_enumerate_support == dt.has_enumerate_support
    assert repr(dc) == repr(dt)
    value = CASES[name][2]
    vc, vt = cr.tensor(value), torch.tensor(value)
    _compare(dc.log_prob(vc), dt.log_prob(vt), pc, pt)
    if name in CDF:
        _compare(dc.cdf(vc), dt.cdf(vt), pc, pt)
    if name in ICDF:
        q = np.array([0.1, 0.5, 0.8])
        _compare(dc.icdf(cr.tensor(q)), dt.icdf(torch.tensor(q)), pc, pt)
    if name in NO_ENTROPY:
        with pytest.raises(NotImplementedError):
            dt.entropy()
        with pytest.raises(NotImplementedError):
            dc.entropy()
    else:
        # torch's Multinomial.entropy takes lgamma(n + 1) in float32 (off by ~1e-7);
        # test_multinomial_entropy_by_enumeration checks ours exactly
        _compare(dc.entropy(), dt.entropy(), pc, pt,
                 rtol=1e-7 if name.startswith("Multinomial") else 1e-8)
    for prop in PROPS[name]:
        _compare(getattr(dc, prop), getattr(dt, prop), pc, pt)


@pytest.mark.parametrize("name", sorted(CASES))
def test_expand_and_sample_shapes_match_torch(name):
    dc, _ = _make(cr, name)
    dt, _ = _make(torch, name)
    new_batch = (2,) + tuple(dt.batch_shape)
    ec, et = dc.expand(new_batch), dt.expand(new_batch)
    assert tuple(ec.batch_shape) == tuple(et.batch_shape)
    assert tuple(ec.event_shape) == tuple(et.event_shape)
    assert repr(ec) == repr(et)
    value = CASES[name][2]
    _close(ec.log_prob(cr.tensor(value)), et.log_prob(torch.tensor(value)))
    sc, st = ec.sample((4,)), et.sample((4,))
    assert tuple(sc.shape) == tuple(st.shape)
    assert str(sc.dtype) == str(st.dtype)
    assert not sc.requires_grad
    if dt.has_rsample:
        rc, rt = dc.rsample((5,)), dt.rsample((5,))
        assert tuple(rc.shape) == tuple(rt.shape) and rc.requires_grad


@pytest.mark.parametrize("name", sorted(CASES))
def test_constraints_match_torch(name):
    dc, _ = _make(cr, name)
    dt, _ = _make(torch, name)
    # per instance: Wishart's depend on its dimension
    assert {k: repr(v) for k, v in dc.arg_constraints.items()} == \
        {k: repr(v) for k, v in dt.arg_constraints.items()}
    if hasattr(dt.support, "lower_bound") and torch.is_tensor(dt.support.lower_bound):
        # a support that depends on the parameters: same kind, same bound
        assert type(dc.support).__name__ == type(dt.support).__name__
        _close(dc.support.lower_bound, dt.support.lower_bound)
    else:
        assert repr(dc.support) == repr(dt.support)
    value = CASES[name][2]
    for x in (value, -value, value + 0.5):
        got = dc.support.check(cr.tensor(x)).numpy()
        want = dt.support.check(torch.tensor(x)).numpy()
        np.testing.assert_array_equal(got, want)


def _count_vectors(n, k):
    if k == 1:
        yield (n,)
        return
    for first in range(n + 1):
        for rest in _count_vectors(n - first, k - 1):
            yield (first,) + rest


def test_multinomial_entropy_by_enumeration():
    probs = np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])
    n = 5
    d = CD.Multinomial(n, cr.tensor(probs))
    counts = torch.tensor(list(_count_vectors(n, 3)), dtype=torch.float64)
    lp = TD.Multinomial(n, torch.tensor(probs)).log_prob(counts.unsqueeze(1))  # (vectors, 2)
    np.testing.assert_allclose(lp.exp().sum(0).numpy(), 1.0, rtol=1e-12)
    want = -(lp.exp() * lp).sum(0).numpy()
    np.testing.assert_allclose(d.entropy().numpy(), want, rtol=1e-12)


BAD_ARGS = [("Chi2", (-1.0,), {}), ("NegativeBinomial", (-1.0,), {"probs": 0.5}),
            ("NegativeBinomial", (2.0,), {"probs": 1.0}), ("Weibull", (1.0, -1.0), {}),
            ("Weibull", (0.0, 1.0), {}), ("Pareto", (-1.0, 1.0), {}),
            ("Pareto", (1.0, 0.0), {}), ("HalfCauchy", (0.0,), {}),
            ("VonMises", (0.0, -1.0), {}), ("Kumaraswamy", (1.0, -1.0), {}),
            ("Kumaraswamy", (0.0, 1.0), {}), ("FisherSnedecor", (1.0, 0.0), {}),
            ("ContinuousBernoulli", (), {"probs": 1.5}),
            ("RelaxedBernoulli", (0.5,), {"probs": 1.5}),
            ("LogisticNormal", ([0.0, 1.0], [1.0, -1.0]), {}),
            ("LowRankMultivariateNormal", ([0.0, 1.0], [[1.0], [0.5]], [1.0, -1.0]), {})]
BAD_VALUES = [("Chi2", (1.0,), {}, -1.0), ("NegativeBinomial", (2.0,), {"probs": 0.5}, 1.5),
              ("Weibull", (1.0, 2.0), {}, -1.0), ("Pareto", (2.0, 1.0), {}, 1.0),
              ("HalfCauchy", (1.0,), {}, -0.5), ("Kumaraswamy", (1.0, 2.0), {}, 1.5),
              ("FisherSnedecor", (1.0, 2.0), {}, -1.0),
              ("ContinuousBernoulli", (), {"probs": 0.3}, 1.5),
              ("RelaxedBernoulli", (0.5,), {"probs": 0.3}, 1.5),
              ("LogisticNormal", ([0.0, 1.0], [1.0, 2.0]), {}, [0.5, 0.6, 0.1])]


def _build(lib, name, args, kw):
    D = CD if lib is cr else TD
    return getattr(D, name)(*[lib.tensor(a) for a in args],
                            **{k: lib.tensor(v) for k, v in kw.items()}, validate_args=True)


@pytest.mark.parametrize("name,args,kw", BAD_ARGS, ids=[c[0] for c in BAD_ARGS])
def test_bad_parameters_raise_like_torch(name, args, kw):
    with pytest.raises(ValueError) as et:
        _build(torch, name, args, kw)
    with pytest.raises(ValueError) as ec:
        _build(cr, name, args, kw)
    assert str(ec.value) == str(et.value)


@pytest.mark.parametrize("name,args,kw,value", BAD_VALUES, ids=[c[0] for c in BAD_VALUES])
def test_values_outside_support_raise_like_torch(name, args, kw, value):
    dt, dc = _build(torch, name, args, kw), _build(cr, name, args, kw)
    with pytest.raises(ValueError) as et:
        dt.log_prob(torch.tensor(value))
    with pytest.raises(ValueError) as ec:
        dc.log_prob(cr.tensor(value))
    assert str(ec.value) == str(et.value)


def test_multinomial_errors_like_torch():
    for lib, D in ((cr, CD), (torch, TD)):
        with pytest.raises(ValueError):
            D.Multinomial(3)
        with pytest.raises(ValueError):
            D.Multinomial(3, probs=lib.tensor([0.5, 0.5]), logits=lib.tensor([0.0, 0.0]))
        with pytest.raises(ValueError):
            D.Multinomial(3, lib.tensor([0.5, 0.5])).log_prob(lib.tensor([2.0, 2.0]))
        with pytest.raises(NotImplementedError):
            D.Multinomial(lib.tensor(3.0), lib.tensor([0.5, 0.5]))
    for validate in (None, False):  # torch checks probs in its inner Categorical either way
        with pytest.raises(ValueError) as et:
            TD.Multinomial(3, torch.tensor([-0.5, 1.5]), validate_args=validate)
        with pytest.raises(ValueError) as ec:
            CD.Multinomial(3, cr.tensor([-0.5, 1.5]), validate_args=validate)
        assert str(ec.value) == str(et.value)


KL_PAIRS = [
    ("Chi2", [P], [Q]),
    ("Pareto", [P, Q], [np.array([0.4, 1.0, 2.0]), P]),
    ("ContinuousBernoulli", [np.array([0.2, 0.4995, 0.9])], [np.array([0.6, 0.3, 0.5001])]),
]


@pytest.mark.parametrize("name,pp,qp", KL_PAIRS, ids=[c[0] for c in KL_PAIRS])
def test_kl_matches_torch(name, pp, qp):
    def make(lib, params):
        ts = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in params]
        return getattr(CD if lib is cr else TD, name)(*ts), ts

    (pc, ppc), (qc, qpc) = make(cr, pp), make(cr, qp)
    (pt, ppt), (qt, qpt) = make(torch, pp), make(torch, qp)
    kc, kt = CD.kl_divergence(pc, qc), TD.kl_divergence(pt, qt)
    assert np.isinf(kt.detach().numpy()).any() == np.isinf(kc.detach().numpy()).any()
    _close(kc, kt, rtol=1e-8)
    finite = np.isfinite(kt.detach().numpy())
    w = cr.tensor(finite.astype(np.float64))
    gc = cr.autograd.grad((cr.where(cr.tensor(finite), kc, cr.zeros_like(kc)) * w).sum(),
                          ppc + qpc, allow_unused=True)
    gt = torch.autograd.grad(kt[torch.tensor(finite)].sum(), ppt + qpt, allow_unused=True)
    for a, b in zip(gc, gt):
        if b is not None:
            _close(a, b, rtol=1e-7)


def _draws(d, n=40000):
    return d.sample((n,)).numpy()


def test_sample_moments_and_support():
    cr.manual_seed(0)
    checks = [
        (CD.Chi2(cr.tensor([1.0, 4.0])), [1.0, 4.0], [2.0, 8.0]),
        (CD.NegativeBinomial(cr.tensor([2.0, 5.0]), cr.tensor([0.3, 0.6])),
         [2 * 0.3 / 0.7, 5 * 0.6 / 0.4], [2 * 0.3 / 0.49, 5 * 0.6 / 0.16]),
        (CD.Weibull(cr.tensor([1.0, 2.0]), cr.tensor([0.8, 3.0])),
         [math.gamma(1 + 1 / 0.8), 2 * math.gamma(1 + 1 / 3)],
         [math.gamma(1 + 2 / 0.8) - math.gamma(1 + 1 / 0.8) ** 2,
          4 * (math.gamma(1 + 2 / 3) - math.gamma(1 + 1 / 3) ** 2)]),
        # alpha > 4 keeps the sample variance's own variance finite; 8, 9 keep it small
        (CD.Pareto(cr.tensor([1.0, 2.0]), cr.tensor([8.0, 9.0])),
         [8 / 7, 2 * 9 / 8], [8 / (49 * 6), 4 * 9 / (64 * 7)]),
    ]
    for d, mean, var in checks:
        s = _draws(d)
        assert (d.support.check(cr.tensor(s)).numpy()).all(), type(d).__name__
        np.testing.assert_allclose(s.mean(0), mean, rtol=0.05, err_msg=type(d).__name__)
        np.testing.assert_allclose(s.var(0), var, rtol=0.15, err_msg=type(d).__name__)
    s = _draws(CD.NegativeBinomial(cr.tensor(3.0), cr.tensor(0.4)))
    assert (s == np.floor(s)).all()
    s = _draws(CD.HalfCauchy(cr.tensor(2.0)))
    assert (s >= 0).all() and abs(np.median(s) - 2.0) < 0.1  # median = scale
    probs = np.array([[0.2, 0.3, 0.5], [0.7, 0.1, 0.2]])
    s = _draws(CD.Multinomial(10, cr.tensor(probs)))
    assert s.shape == (40000, 2, 3) and (s.sum(-1) == 10).all() and (s >= 0).all()
    np.testing.assert_allclose(s.mean(0), 10 * probs, rtol=0.03)
    np.testing.assert_allclose(s.var(0), 10 * probs * (1 - probs), rtol=0.08)


def test_rsample_gradients_flow():
    scale = cr.tensor(2.0, requires_grad=True)
    conc = cr.tensor(1.5, requires_grad=True)
    x = CD.Weibull(scale, conc).rsample((6,))
    gs, gc = cr.autograd.grad(x.sum(), [scale, conc])
    np.testing.assert_allclose(gs.item(), (x / scale).sum().item(), rtol=1e-6)
    # d/dk of s * e^(log(E) / k) at fixed E = -x log(x / s) / k
    want = -(x * (x / scale).log() / conc).sum().item()
    np.testing.assert_allclose(gc.item(), want, rtol=1e-5)
    x = CD.Pareto(scale, conc).rsample((6,))
    (gs,) = cr.autograd.grad(x.sum(), [scale])
    np.testing.assert_allclose(gs.item(), (x / scale).sum().item(), rtol=1e-6)
    x = CD.HalfCauchy(scale).rsample((6,))
    (gs,) = cr.autograd.grad(x.sum(), [scale])
    np.testing.assert_allclose(gs.item(), (x / scale).sum().item(), rtol=1e-6)
    df = cr.tensor([3.0, 0.5], requires_grad=True)
    (g,) = cr.autograd.grad(CD.Chi2(df).rsample((7,)).sum(), [df])
    assert np.all(np.isfinite(g.numpy())) and np.all(g.numpy() != 0)


def test_low_rank_kl_and_shape_errors_match_torch():
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=(2, 3)), rng.normal(size=(3, 2)), rng.uniform(0.5, 2, 3),
              rng.normal(size=3), rng.normal(size=(3, 1)), rng.uniform(0.5, 2, 3)]
    cov = np.array([[1.5, 0.2, 0.1], [0.2, 0.8, -0.3], [0.1, -0.3, 1.1]])
    for lib, D in ((cr, CD), (torch, TD)):
        ts = [lib.tensor(a, requires_grad=True) for a in arrays + [cov]]
        p = D.LowRankMultivariateNormal(*ts[:3])
        q = D.LowRankMultivariateNormal(*ts[3:6])
        full = D.MultivariateNormal(ts[3], covariance_matrix=ts[6])
        kls = [D.kl_divergence(p, q), D.kl_divergence(q, p), D.kl_divergence(p, full),
               D.kl_divergence(full, p)]
        grads = lib.autograd.grad(sum((k * (i + 1)).sum() for i, k in enumerate(kls)), ts)
        if lib is cr:
            got = [k.detach().numpy() for k in kls] + [g.numpy() for g in grads]
        else:
            want = [k.detach().numpy() for k in kls] + [g.numpy() for g in grads]
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)
    for lib, D in ((cr, CD), (torch, TD)):
        with pytest.raises(ValueError):
            D.kl_divergence(D.LowRankMultivariateNormal(lib.zeros(2), lib.ones(2, 1), lib.ones(2)),
                            D.LowRankMultivariateNormal(lib.zeros(3), lib.ones(3, 1), lib.ones(3)))
        for args in [(lib.tensor(0.0), lib.ones(1, 1), lib.ones(1)),
                     (lib.zeros(2), lib.ones(2), lib.ones(2)),
                     (lib.zeros(2), lib.ones(3, 1), lib.ones(2)),
                     (lib.zeros(2), lib.ones(2, 1), lib.ones(3)),
                     (lib.zeros(4, 2), lib.ones(3, 2, 1), lib.ones(2))]:
            with pytest.raises(ValueError):
                D.LowRankMultivariateNormal(*args)


def test_kumaraswamy_mode():
    # torch's mode is nan for every a, b (sign slip in its log form, pytorch#173912): check ours
    # against the maximiser of torch's density on a fine grid instead
    a = np.array([2.0, 1.0, 3.0, 5.0, 0.5, 2.0])
    b = np.array([3.0, 2.0, 1.0, 0.8, 2.0, 0.9])
    mode = CD.Kumaraswamy(cr.tensor(a), cr.tensor(b)).mode.numpy()
    assert np.isnan(mode[3:]).all()  # a < 1 or b < 1: no interior maximum
    grid = np.linspace(1e-6, 1 - 1e-6, 200001)[:, None]
    lp = TD.Kumaraswamy(torch.tensor(a[:3]), torch.tensor(b[:3])).log_prob(torch.tensor(grid))
    np.testing.assert_allclose(mode[:3], grid[lp.argmax(0).numpy(), 0], atol=1e-5)


def test_stick_breaking_transform_matches_torch():
    x = np.array([[-1.2, 0.3, 2.0], [0.0, 0.0, 0.0]])
    tc, tt = CD.transforms.StickBreakingTransform(), TD.transforms.StickBreakingTransform()
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yc, yt = tc(xc), tt(xt)
    _close(yc, yt)
    np.testing.assert_allclose(yc.detach().numpy()[1], 0.25)  # x = 0: the simplex centre
    _close(tc.inv(yc), tt.inv(yt), rtol=1e-8)
    _compare(tc.log_abs_det_jacobian(xc, yc), tt.log_abs_det_jacobian(xt, yt), [xc], [xt])
    _grads_match(yc, yt, [xc], [xt])
    assert tc.event_dim == 1


def test_sample_moments_second_batch():
    cr.manual_seed(1)
    n = 40000
    # VonMises: circular mean = loc, 1 - |E e^(ix)| = circular variance (checked against torch)
    loc, kappa = np.array([0.5, -2.5, 3.0]), np.array([2.0, 0.3, 8.0])
    s = CD.VonMises(cr.tensor(loc, dtype=cr.float32),
                    cr.tensor(kappa, dtype=cr.float32)).sample((n,)).numpy()
    assert s.dtype == np.float32 and (np.abs(s) <= math.pi).all()
    resultant = np.exp(1j * s.astype(np.float64)).mean(0)
    var_t = TD.VonMises(torch.tensor(loc), torch.tensor(kappa)).variance.numpy()
    np.testing.assert_allclose(1 - np.abs(resultant), var_t, atol=0.015)
    np.testing.assert_allclose(np.angle(resultant * np.exp(-1j * loc)), 0.0, atol=0.1)
    # LowRankMultivariateNormal: sample mean and covariance
    w, diag = np.array([[0.5, -1.0], [1.2, 0.3], [-0.4, 0.8]]), np.array([0.7, 1.5, 0.4])
    d = CD.LowRankMultivariateNormal(cr.tensor(np.array([1.0, 0.0, -1.0])), cr.tensor(w),
                                     cr.tensor(diag))
    s = d.sample((n,)).numpy()
    np.testing.assert_allclose(s.mean(0), [1.0, 0.0, -1.0], atol=0.04)
    np.testing.assert_allclose(np.cov(s.T), w @ w.T + np.diag(diag), atol=0.08)
    checks = [
        (CD.Kumaraswamy(cr.tensor([2.0, 0.5]), cr.tensor([3.0, 2.0])),
         TD.Kumaraswamy(torch.tensor([2.0, 0.5]), torch.tensor([3.0, 2.0]))),
        (CD.FisherSnedecor(cr.tensor([4.0, 10.0]), cr.tensor([20.0, 30.0])),
         TD.FisherSnedecor(torch.tensor([4.0, 10.0]), torch.tensor([20.0, 30.0]))),
        (CD.ContinuousBernoulli(cr.tensor([0.2, 0.5, 0.95])),
         TD.ContinuousBernoulli(torch.tensor([0.2, 0.5, 0.95]))),
    ]
    for dc, dt in checks:
        s = dc.sample((n,)).numpy()
        assert dc.support.check(cr.tensor(s)).numpy().all(), type(dc).__name__
        np.testing.assert_allclose(s.mean(0), dt.mean.numpy(), rtol=0.03)
        np.testing.assert_allclose(s.var(0), dt.variance.numpy(), rtol=0.1)
    # RelaxedBernoulli at a low temperature: P(x > 1/2) = probs
    s = CD.RelaxedBernoulli(cr.tensor(0.1), probs=cr.tensor([0.2, 0.7])).sample((n,)).numpy()
    assert ((s > 0) & (s < 1)).all()
    np.testing.assert_allclose((s > 0.5).mean(0), [0.2, 0.7], atol=0.015)
    # LogisticNormal: on the simplex, and the stick-breaking inverse gives back the Normal
    loc, scale = np.array([0.3, -1.0, 0.5]), np.array([0.5, 1.0, 2.0])
    s = CD.LogisticNormal(cr.tensor(loc), cr.tensor(scale)).sample((n,))
    assert tuple(s.shape) == (n, 4)
    np.testing.assert_allclose(s.numpy().sum(-1), 1.0, atol=1e-5)
    x = TD.transforms.StickBreakingTransform().inv(torch.tensor(s.numpy(), dtype=torch.float64))
    np.testing.assert_allclose(x.mean(0).numpy(), loc, atol=0.04)
    np.testing.assert_allclose(x.std(0).numpy(), scale, rtol=0.03)


def test_rsample_pathwise_gradients_second_batch():
    """d/dtheta of the average of many rsample draws approaches d mean / d theta (torch)."""
    cr.manual_seed(3)
    cases = [
        ("Kumaraswamy", [np.array([2.0, 0.7]), np.array([3.0, 1.5])], {}),
        ("ContinuousBernoulli", [], {"probs": np.array([0.2, 0.8])}),
        # fewer draws: the implicit gamma gradient is a series per draw
        ("FisherSnedecor", [np.array([6.0, 9.0]), np.array([12.0, 20.0])], {}),
        ("LowRankMultivariateNormal", [np.array([0.5, -1.0]), np.array([[1.0], [0.5]]),
                                       np.array([0.3, 0.6])], {}),
    ]
    for name, args, kwargs in cases:
        pc = [cr.tensor(a, requires_grad=True) for a in args]
        kc = {k: cr.tensor(a, requires_grad=True) for k, a in kwargs.items()}
        pt = [torch.tensor(a, requires_grad=True) for a in args]
        kt = {k: torch.tensor(a, requires_grad=True) for k, a in kwargs.items()}
        n = 6000 if name == "FisherSnedecor" else 40000
        x = getattr(CD, name)(*pc, **kc).rsample((n,))
        assert x.requires_grad
        w = np.array([1.0, 2.0])
        got = cr.autograd.grad((x.mean(0) * cr.tensor(w)).sum(), pc + list(kc.values()),
                               allow_unused=True)
        m = getattr(TD, name)(*pt, **kt).mean
        want = torch.autograd.grad((m * torch.tensor(w)).sum(), pt + list(kt.values()),
                                   allow_unused=True)
        for g, h in zip(got, want):
            h = np.zeros(g.shape) if h is None else h.numpy()
            np.testing.assert_allclose(g.numpy(), h, rtol=0.1, atol=0.03, err_msg=name)
    # the Gumbel-sigmoid draws of RelaxedBernoulli and LogisticNormal's draws pass gradients
    t = cr.tensor(0.5, requires_grad=True)
    lg = cr.tensor([0.3, -0.2], requires_grad=True)
    g1, g2 = cr.autograd.grad(CD.RelaxedBernoulli(t, logits=lg).rsample((50,)).sum(), [t, lg])
    assert np.isfinite(g1.item()) and g1.item() != 0 and (g2.numpy() > 0).all()
    loc = cr.tensor([0.3, -0.2], requires_grad=True)
    y = CD.LogisticNormal(loc, cr.tensor([1.0, 1.0])).rsample((50,))
    (g,) = cr.autograd.grad((y * cr.tensor([1.0, 2.0, 3.0])).sum(), [loc])
    assert np.all(np.isfinite(g.numpy())) and np.any(g.numpy() != 0)


def test_weibull_mode():
    k = np.array([0.5, 0.7, 1.0, 1.25, 3.0])
    sc = np.array([2.0, 2.0, 2.0, 1.0, 1.5])
    kc, kt = cr.tensor(k, requires_grad=True), torch.tensor(k, requires_grad=True)
    mc = CD.Weibull(cr.tensor(sc), kc).mode
    mt = TD.Weibull(torch.tensor(sc), kt).mode
    # where torch's closed form holds (k >= 1) the values and gradients agree
    _close(mc[2:], mt[2:])
    (gc,) = cr.autograd.grad(mc[3:].sum(), [kc])
    (gt,) = torch.autograd.grad(mt[3:].sum(), [kt])  # nan at k < 1 (0 * nan through pow)
    np.testing.assert_allclose(gc.numpy()[3:], gt.numpy()[3:], rtol=1e-9)
    assert (gc.numpy()[:3] == 0).all()
    assert mc[2].item() == 0.0  # k = 1: the exponential, mode at 0
    # k < 1: density unbounded at 0 (outside the support): no mode. torch gives 2.0 for
    # k = 0.5, from (-1)^2 (pytorch#198186)
    assert np.isnan(mc.detach().numpy()[:2]).all()


def test_wishart_errors_and_warnings_like_torch():
    eye = np.eye(3)
    for lib, D in ((cr, CD), (torch, TD)):
        with pytest.raises(ValueError):  # df must exceed ndim - 1
            D.Wishart(lib.tensor(2.0), covariance_matrix=lib.tensor(eye))
        with pytest.warns(UserWarning, match="Low df values"):
            D.Wishart(lib.tensor(2.5), covariance_matrix=lib.tensor(eye))
        with pytest.raises(ValueError):  # not positive definite
            D.Wishart(lib.tensor(4.0), covariance_matrix=lib.tensor(-eye), validate_args=True)
        with pytest.raises(ValueError):
            D.Wishart(lib.tensor(4.0), covariance_matrix=lib.tensor([1.0, 2.0]))
        with pytest.raises(AssertionError):
            D.Wishart(lib.tensor(4.0))
        d = D.Wishart(lib.tensor(4.0), covariance_matrix=lib.tensor(eye), validate_args=True)
        with pytest.raises(ValueError):
            d.log_prob(lib.tensor(-eye))
    mc = CD.Wishart(cr.tensor(4.0), covariance_matrix=cr.tensor(eye), validate_args=True)
    mt = TD.Wishart(torch.tensor(4.0), covariance_matrix=torch.tensor(eye), validate_args=True)
    assert repr(mc) == repr(mt)
    with pytest.raises(ValueError) as ec:
        CD.Wishart(cr.tensor(4.0), covariance_matrix=cr.tensor(-eye), validate_args=True)
    with pytest.raises(ValueError) as et:
        TD.Wishart(torch.tensor(4.0), covariance_matrix=torch.tensor(-eye), validate_args=True)
    assert str(ec.value).split(" of distribution")[0] == str(et.value).split(" of distribution")[0]


def test_lkj_cholesky_errors_like_torch():
    for lib, D in ((cr, CD), (torch, TD)):
        with pytest.raises(ValueError):
            D.LKJCholesky(1, lib.tensor(1.0))
        with pytest.raises(ValueError):
            D.LKJCholesky(3, lib.tensor(-1.0), validate_args=True)
        with pytest.raises(ValueError):  # rows must have unit norm
            D.LKJCholesky(2, lib.tensor(1.0), validate_args=True).log_prob(lib.eye(2) * 2)


def test_wishart_samples_and_pathwise_gradient():
    cr.manual_seed(4)
    cov = _SPD[0]
    n = 20000
    s = CD.Wishart(cr.tensor(5.0, dtype=cr.float64), covariance_matrix=cr.tensor(cov))
    s = s.sample((n,)).numpy()
    assert (np.linalg.eigvalsh(s) > 0).all()
    np.testing.assert_allclose(s - np.swapaxes(s, -1, -2), 0.0, atol=1e-12)
    want_var = 5 * (cov ** 2 + np.outer(np.diag(cov), np.diag(cov)))
    assert (np.abs(s.mean(0) - 5 * cov) < 4 * np.sqrt(want_var / n)).all()  # 4 std errors
    np.testing.assert_allclose(s.var(0), want_var, rtol=0.08)
    # d/dtheta of the average rsample approaches d mean / d theta = d (df V) / d theta
    df = cr.tensor(6.0, dtype=cr.float64, requires_grad=True)
    tril = cr.tensor(np.linalg.cholesky(cov), requires_grad=True)
    x = CD.Wishart(df, scale_tril=tril).rsample((n,))
    w = np.arange(9.0).reshape(3, 3)
    g_df, g_tril = cr.autograd.grad((x.mean(0) * cr.tensor(w)).sum(), [df, tril])
    df_t = torch.tensor(6.0, dtype=torch.float64, requires_grad=True)
    tril_t = torch.tensor(np.linalg.cholesky(cov), requires_grad=True)
    m = TD.Wishart(df_t, scale_tril=tril_t).mean
    want = torch.autograd.grad((m * torch.tensor(w)).sum(), [df_t, tril_t])
    np.testing.assert_allclose(g_df.item(), want[0].item(), rtol=0.05)
    np.testing.assert_allclose(np.tril(g_tril.numpy()), np.tril(want[1].numpy()), rtol=0.05,
                               atol=0.3)


def test_lkj_cholesky_samples():
    # each off-diagonal correlation of LKJ(eta) in d dims is 2 Beta(b, b) - 1 with
    # b = eta - 1 + d / 2: mean 0, variance 1 / (2 eta + d - 1). torch 2.x's own sampler
    # misses this for every pair but (1, 0) (its Beta has first shape i - 1/2, not i / 2).
    cr.manual_seed(5)
    for d, eta in [(2, 1.0), (3, 0.5), (4, 2.0), (5, 1.5)]:
        s = CD.LKJCholesky(d, cr.tensor(eta, dtype=cr.float64)).sample((30000,))
        assert CD.constraints.corr_cholesky.check(s).numpy().all()
        assert TD.constraints.corr_cholesky.check(torch.tensor(s.numpy())).numpy().all()
        corr = s.numpy() @ np.swapaxes(s.numpy(), -1, -2)
        rows, cols = np.tril_indices(d, -1)
        r = corr[:, rows, cols]
        np.testing.assert_allclose(r.mean(0), 0.0, atol=0.02)
        np.testing.assert_allclose(r.var(0), 1 / (2 * eta + d - 1), rtol=0.05)
    s = CD.LKJCholesky(3, cr.tensor([0.5, 4.0])).sample((7,))
    assert tuple(s.shape) == (7, 2, 3, 3) and s.dtype == cr.float32


CB_P = np.array([0.2, 0.4995, 0.9])
# (p family, p parameters, q family, q parameters): each row has finite and infinite entries
CROSS_KL = [
    ("Pareto", [np.array([1.0, 2.0, 0.5]), np.array([0.5, 3.0, 1.5])],
     "Exponential", [np.array([0.5, 2.0, 1.0])]),
    ("Pareto", [np.array([1.0, 2.0, 0.5]), np.array([0.5, 3.0, 1.5])],
     "Gamma", [np.array([2.0, 0.7, 1.3]), np.array([0.5, 2.0, 1.0])]),
    ("Pareto", [np.array([1.0, 2.0, 0.5]), np.array([1.5, 3.0, 4.0])],
     "Normal", [np.array([0.0, 1.0, -1.0]), np.array([1.0, 2.0, 0.5])]),
    ("Uniform", [np.array([1.0, 2.5, 0.5]), np.array([2.0, 4.0, 3.0])],
     "Pareto", [np.array([0.8, 2.0, 1.0]), np.array([1.5, 3.0, 4.0])]),
    ("Beta", [np.array([0.5, 2.0, 3.0]), np.array([2.0, 0.7, 1.3])],
     "ContinuousBernoulli", [CB_P]),
    ("Uniform", [np.array([0.1, -0.5, 0.3]), np.array([0.6, 0.5, 0.9])],
     "ContinuousBernoulli", [CB_P]),
    ("ContinuousBernoulli", [CB_P], "Exponential", [np.array([0.5, 2.0, 1.0])]),
    ("ContinuousBernoulli", [CB_P], "Normal", [np.array([0.0, 1.0, -1.0]),
                                               np.array([1.0, 2.0, 0.5])]),
    ("ContinuousBernoulli", [CB_P], "Uniform", [np.array([-0.5, 0.2, -1.0]),
                                                np.array([1.5, 2.0, 1.1])]),
] + [(pn, pp, qn, qp) for (pn, pp), (qn, qp) in [
    (("Normal", [np.zeros(2), np.ones(2)]), ("Pareto", [np.ones(2), np.ones(2)])),
    (("Exponential", [np.ones(2)]), ("Pareto", [np.ones(2), np.ones(2)])),
    (("Gamma", [np.ones(2), np.ones(2)]), ("Pareto", [np.ones(2), np.ones(2)])),
    (("Gumbel", [np.zeros(2), np.ones(2)]), ("Pareto", [np.ones(2), np.ones(2)])),
    (("Laplace", [np.zeros(2), np.ones(2)]), ("Pareto", [np.ones(2), np.ones(2)])),
    (("Beta", [np.ones(2), np.ones(2)]), ("Pareto", [np.ones(2), np.ones(2)])),
    (("Pareto", [np.ones(2), np.ones(2)]), ("Uniform", [np.zeros(2), np.ones(2) * 5])),
    (("Pareto", [np.ones(2), np.ones(2)]), ("Beta", [np.ones(2), np.ones(2)])),
    (("Pareto", [np.ones(2), np.ones(2)]), ("ContinuousBernoulli", [np.full(2, 0.3)])),
    (("ContinuousBernoulli", [np.full(2, 0.3)]), ("Pareto", [np.ones(2), np.ones(2)])),
    (("Normal", [np.zeros(2), np.ones(2)]), ("ContinuousBernoulli", [np.full(2, 0.3)])),
    (("Exponential", [np.ones(2)]), ("ContinuousBernoulli", [np.full(2, 0.3)])),
    (("Gamma", [np.ones(2), np.ones(2)]), ("ContinuousBernoulli", [np.full(2, 0.3)])),
    (("Gumbel", [np.zeros(2), np.ones(2)]), ("ContinuousBernoulli", [np.full(2, 0.3)])),
    (("Laplace", [np.zeros(2), np.ones(2)]), ("ContinuousBernoulli", [np.full(2, 0.3)])),
]]


@pytest.mark.parametrize("pn,pp,qn,qp", CROSS_KL,
                         ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(CROSS_KL)])
def test_cross_family_kl_matches_torch(pn, pp, qn, qp):
    def make(lib, name, params):
        ts = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in params]
        return getattr(CD if lib is cr else TD, name)(*ts, validate_args=False), ts

    (pc, ppc), (qc, qpc) = make(cr, pn, pp), make(cr, qn, qp)
    (pt, ppt), (qt, qpt) = make(torch, pn, pp), make(torch, qn, qp)
    kc, kt = CD.kl_divergence(pc, qc), TD.kl_divergence(pt, qt)
    assert tuple(kc.shape) == tuple(kt.shape)
    _close(kc, kt, rtol=1e-8)  # inf where torch has inf
    finite = np.isfinite(kt.detach().numpy())
    if finite.any():
        mask_c, mask_t = cr.tensor(finite), torch.tensor(finite)
        gc = cr.autograd.grad(cr.where(mask_c, kc, cr.zeros_like(kc)).sum(), ppc + qpc,
                              allow_unused=True)
        gt = torch.autograd.grad(torch.where(mask_t, kt, torch.zeros_like(kt)).sum(),
                                 ppt + qpt, allow_unused=True)
        for a, b in zip(gc, gt):
            if b is not None:
                _close(a, b, rtol=1e-7)


def test_kl_continuous_bernoulli_uniform_boundary():
    # KL(CB || U(0, 1)) = -H(CB) and KL(U(0, 1) || CB) = -E_U[log CB]: finite. torch returns
    # inf for low == 0 / high == 1 (its support test uses >= and <=).
    p = CD.ContinuousBernoulli(cr.tensor([0.3, 0.7], dtype=cr.float64))
    u = CD.Uniform(cr.tensor(0.0, dtype=cr.float64), cr.tensor(1.0, dtype=cr.float64))
    pt = TD.ContinuousBernoulli(torch.tensor([0.3, 0.7], dtype=torch.float64))
    _close(CD.kl_divergence(p, u), -pt.entropy())
    x = torch.linspace(0, 1, 200001, dtype=torch.float64).unsqueeze(-1)
    want = -pt.log_prob(x).mean(0)  # -E_U[log q], H(U(0, 1)) = 0
    np.testing.assert_allclose(CD.kl_divergence(u, p).numpy(), want.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
def test_log_prob_second_order_gradients_match_torch(name):
    """log_prob is a composition of differentiable ops: the gradient of |d log_prob / d theta|^2
    (create_graph=True) agrees with torch's."""
    value = CASES[name][2]
    out = []
    for lib in (cr, torch):
        dist, params = _make(lib, name)
        lp = dist.log_prob(lib.tensor(value)).sum()
        grads = lib.autograd.grad(lp, params, create_graph=True)
        second = lib.autograd.grad(sum((g * g).sum() for g in grads), params)
        out.append([g.detach().numpy() for g in second])
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-10)  # trigamma: ~1e-8


def test_one_hot_straight_through_rsample_gradient_matches_torch():
    probs = np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])
    w = np.arange(6.0).reshape(2, 3)
    got = []
    for lib, D in ((cr, CD), (torch, TD)):
        p = lib.tensor(probs, requires_grad=True)
        x = D.OneHotCategoricalStraightThrough(p).rsample((4,))
        assert tuple(x.shape) == (4, 2, 3) and x.requires_grad
        assert (x.detach().numpy().sum(-1) == 1).all()
        (g,) = lib.autograd.grad((x * lib.tensor(w)).sum(), [p])
        got.append(g.numpy())
    np.testing.assert_allclose(got[0], got[1])  # the draw is constant: 4 * w both ways


GPD = (np.array([0.0, 1.0, -1.0, 0.5, 0.0]), np.array([1.0, 2.0, 0.5, 1.0, 1.5]),
       np.array([0.0, 0.3, -0.4, 1.2, 1e-9]))


def test_generalized_pareto_matches_torch_in_float32():
    # torch's GeneralizedPareto fails in float64 (isclose against a float32 zero)
    arrays = [a.astype(np.float32) for a in GPD]
    v = np.array([0.5, 2.0, -0.5, 3.0, 0.7], dtype=np.float32)
    q = np.array([0.1, 0.5, 0.8, 0.99, 0.3], dtype=np.float32)
    pc = [cr.tensor(a, requires_grad=True) for a in arrays]
    pt = [torch.tensor(a, requires_grad=True) for a in arrays]
    dc, dt = CD.GeneralizedPareto(*pc), TD.GeneralizedPareto(*pt)
    assert repr(dc) == repr(dt) and dc.has_rsample
    assert type(dc.support).__name__ == type(dt.support).__name__ == "_Interval"
    _close(dc.support.lower_bound, dt.support.lower_bound)
    _close(dc.support.upper_bound, dt.support.upper_bound)
    assert {k: repr(c) for k, c in dc.arg_constraints.items()} == \
        {k: repr(c) for k, c in dt.arg_constraints.items()}
    outs = [(dc.log_prob(cr.tensor(v)), dt.log_prob(torch.tensor(v))),
            (dc.cdf(cr.tensor(v)), dt.cdf(torch.tensor(v))),
            (dc.log_survival_function(cr.tensor(v)), dt.log_survival_function(torch.tensor(v))),
            (dc.icdf(cr.tensor(q)), dt.icdf(torch.tensor(q))), (dc.entropy(), dt.entropy()),
            (dc.mean, dt.mean), (dc.variance, dt.variance), (dc.mode, dt.mode)]
    for oc, ot in outs:
        assert tuple(oc.shape) == tuple(ot.shape) and str(oc.dtype) == str(ot.dtype)
        np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=2e-6,
                                   atol=1e-6, equal_nan=True)
        finite = np.isfinite(ot.detach().numpy())
        if ot.requires_grad and finite.all():
            gc = cr.autograd.grad(oc.sum(), pc, allow_unused=True)
            gt = torch.autograd.grad(ot.sum(), pt, allow_unused=True)
            for a, b in zip(gc, gt):
                if b is not None:
                    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError):  # below loc: outside the support
        CD.GeneralizedPareto(*[cr.tensor(a) for a in arrays], validate_args=True).log_prob(
            cr.tensor(np.full(5, -2.0, dtype=np.float32)))
    assert tuple(dc.expand((3, 5)).sample((2,)).shape) == tuple(dt.expand((3, 5)).sample((2,)).shape)


def test_generalized_pareto_float64_is_consistent():
    loc, scale, xi = (cr.tensor(a) for a in GPD)
    d = CD.GeneralizedPareto(loc, scale, xi)
    # xi = 0 is the shifted exponential
    e = TD.Exponential(torch.tensor(1 / GPD[1][0]))
    x = np.array([0.3, 1.0, 2.5])
    d0 = CD.GeneralizedPareto(cr.tensor(0.0, dtype=cr.float64), cr.tensor(1.0, dtype=cr.float64),
                              cr.tensor(0.0, dtype=cr.float64))
    _close(d0.log_prob(cr.tensor(x)), e.log_prob(torch.tensor(x)))
    _close(d0.cdf(cr.tensor(x)), e.cdf(torch.tensor(x)))
    # the density is the derivative of the cdf, and icdf inverts cdf
    u = cr.tensor(np.array([0.05, 0.3, 0.6, 0.9, 0.97]))
    v = d.icdf(u).detach().requires_grad_()
    _close(d.cdf(v), torch.tensor(u.numpy()), rtol=1e-12)
    (dens,) = cr.autograd.grad(d.cdf(v).sum(), [v])
    np.testing.assert_allclose(dens.numpy(), d.log_prob(v).exp().detach().numpy(), rtol=1e-10)
    cr.manual_seed(6)
    s = CD.GeneralizedPareto(cr.tensor([0.0, 1.0]), cr.tensor([1.0, 2.0]),
                             cr.tensor([-0.3, 0.1])).sample((40000,)).numpy()
    np.testing.assert_allclose(s.mean(0), [1 / 1.3, 1 + 2 / 0.9], rtol=0.03)
    assert s[:, 0].max() <= 1 / 0.3 and (s >= [0.0, 1.0]).all()


def test_inverse_gamma_samples():
    cr.manual_seed(7)
    c = cr.tensor([4.0, 6.0], dtype=cr.float64, requires_grad=True)
    r = cr.tensor([2.0, 1.0], dtype=cr.float64, requires_grad=True)
    x = CD.InverseGamma(c, r).rsample((40000,))
    mean = x.mean(0)
    np.testing.assert_allclose(mean.detach().numpy(), [2 / 3, 1 / 5], rtol=0.03)
    # pathwise: d E[x] / d rate = 1 / (c - 1)
    (g,) = cr.autograd.grad(mean.sum(), [r])
    np.testing.assert_allclose(g.numpy(), [1 / 3, 1 / 5], rtol=0.03)


def test_power_softplus_abs_transforms_match_torch():
    x = np.array([[0.3, 1.2, 2.5], [0.7, 0.1, 4.0]])
    pairs = [(CD.transforms.PowerTransform(cr.tensor(2.5, dtype=cr.float64)),
              TD.transforms.PowerTransform(torch.tensor(2.5, dtype=torch.float64))),
             (CD.transforms.PowerTransform(-1.0), TD.transforms.PowerTransform(-1.0)),
             (CD.SoftplusTransform(), TD.SoftplusTransform())]
    for tc, tt in pairs:
        assert repr(tc) == repr(tt)
        assert int(tc.sign) == int(tt.sign)
        xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yc, yt = tc(xc), tt(xt)
        _compare(yc, yt, [xc], [xt])
        _close(tc.inv(yc), tt.inv(yt), rtol=1e-9)
        _compare(tc.log_abs_det_jacobian(xc, yc), tt.log_abs_det_jacobian(xt, yt), [xc], [xt])
    ac, at = CD.AbsTransform(), TD.AbsTransform()
    assert repr(ac) == repr(at) and ac.bijective == at.bijective is False
    _close(ac(cr.tensor(-x)), at(torch.tensor(-x)))
    _close(ac.inv(cr.tensor(x)), at.inv(torch.tensor(x)))
    # the names torch.distributions exports at top level
    for name in ("AffineTransform", "ComposeTransform", "ExpTransform", "PowerTransform",
                 "SigmoidTransform", "StickBreakingTransform", "TanhTransform", "Transform"):
        assert getattr(CD, name) is getattr(CD.transforms, name)
        assert name in CD.__all__ and hasattr(TD, name)


MODULES = [("chi2", "Chi2"), ("multinomial", "Multinomial"),
           ("negative_binomial", "NegativeBinomial"), ("weibull", "Weibull"),
           ("pareto", "Pareto"), ("half_cauchy", "HalfCauchy"), ("von_mises", "VonMises"),
           ("lowrank_multivariate_normal", "LowRankMultivariateNormal"),
           ("kumaraswamy", "Kumaraswamy"), ("fishersnedecor", "FisherSnedecor"),
           ("continuous_bernoulli", "ContinuousBernoulli"),
           ("relaxed_bernoulli", "RelaxedBernoulli"), ("relaxed_bernoulli", "LogitRelaxedBernoulli"),
           ("logistic_normal", "LogisticNormal"), ("wishart", "Wishart"),
           ("lkj_cholesky", "LKJCholesky"), ("inverse_gamma", "InverseGamma"),
           ("generalized_pareto", "GeneralizedPareto"),
           ("one_hot_categorical", "OneHotCategoricalStraightThrough")]


@pytest.mark.parametrize("module,name", MODULES, ids=[m + "." + n for m, n in MODULES])
def test_module_paths_like_torch(module, name):
    import importlib

    theirs = importlib.import_module("torch.distributions." + module)
    ours = importlib.import_module("chainrule.distributions." + module)
    assert hasattr(theirs, name)  # the list is right
    assert getattr(ours, name).__name__ == name
    if name in TD.__all__:
        assert getattr(CD, name) is getattr(ours, name) and name in CD.__all__


TRANSFORMED = ["Weibull", "Pareto", "HalfCauchy", "Kumaraswamy", "RelaxedBernoulli",
               "LogisticNormal", "InverseGamma"]


@pytest.mark.parametrize("name", TRANSFORMED)
def test_transformed_families_are_built_like_torch(name):
    dc, _ = _make(cr, name)
    dt, _ = _make(torch, name)
    assert isinstance(dc, CD.TransformedDistribution)
    assert isinstance(dt, TD.TransformedDistribution)
    assert repr(dc.base_dist) == repr(dt.base_dist)
    assert [repr(t) for t in dc.transforms] == [repr(t) for t in dt.transforms]
    value = cr.tensor(CASES[name][2])
    if name != "HalfCauchy":  # abs has no log-det: its closed form is the only path
        # the closed forms agree with the generic change-of-variables path
        generic = CD.TransformedDistribution.log_prob(dc, value)
        np.testing.assert_allclose(dc.log_prob(value).detach().numpy(),
                                   generic.detach().numpy(), rtol=1e-10)
    ec = dc.expand((2,) + tuple(dc.batch_shape))
    assert isinstance(ec, type(dc)) and tuple(ec.base_dist.batch_shape)[:1] == (2,)

"""chainrule.distributions against torch.distributions: values and gradients in float64,
shapes, reprs, validation errors, expand, samples by support and moments."""
import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.distributions as CD

torch = pytest.importorskip("torch")
TD = torch.distributions

# name -> (parameter arrays, values to score, extra kwargs); parameters are float64 leaves.
P = np.array([0.5, 1.5, 3.0])
CASES = {
    "Normal": ([np.array([0.1, -0.5, 2.0]), P], np.array([0.3, -1.0, 2.5]), {}),
    "Gamma": ([P, np.array([2.0, 0.7, 1.3])], np.array([0.4, 1.2, 3.3]), {}),
    "Beta": ([P, np.array([2.0, 0.7, 1.3])], np.array([0.4, 0.2, 0.9]), {}),
    "Dirichlet": ([np.array([[0.5, 1.5, 3.0], [2.0, 0.7, 1.3]])],
                  np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]]), {}),
    "Poisson": ([P], np.array([0.0, 2.0, 5.0]), {}),
    "Geometric": ([np.array([0.2, 0.5, 0.9])], np.array([0.0, 2.0, 5.0]), {}),
    "Cauchy": ([np.array([0.1, -0.5, 2.0]), P], np.array([0.3, -1.0, 2.5]), {}),
    "Gumbel": ([np.array([0.1, -0.5, 2.0]), P], np.array([0.3, -1.0, 2.5]), {}),
    "HalfNormal": ([P], np.array([0.3, 1.0, 2.5]), {}),
    "LogNormal": ([np.array([0.1, -0.5, 2.0]), P], np.array([0.3, 1.0, 2.5]), {}),
    "StudentT": ([np.array([0.7, 1.5, 4.0]), np.array([0.1, -0.5, 2.0]), P],
                 np.array([0.3, -1.0, 2.5]), {}),
    "OneHotCategorical": ([np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])],
                          np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]), {}),
}
PROPS = {"Normal": ("mean", "mode", "variance", "stddev"),
         "Gamma": ("mean", "mode", "variance", "stddev"),
         "Beta": ("mean", "mode", "variance"), "Dirichlet": ("mean", "mode", "variance"),
         "Poisson": ("mean", "mode", "variance"), "Geometric": ("mean", "mode", "variance"),
         "Cauchy": ("mean", "mode", "variance"),
         "Gumbel": ("mean", "mode", "variance", "stddev"),
         "HalfNormal": ("mean", "mode", "variance"),
         "LogNormal": ("mean", "mode", "variance"), "StudentT": ("mean", "mode", "variance"),
         "OneHotCategorical": ("mean", "mode", "variance")}
CDF = {"Normal", "Cauchy", "Gumbel", "HalfNormal", "LogNormal"}
ICDF = {"Normal", "Cauchy", "Gumbel", "HalfNormal", "LogNormal"}


def _make(lib, name, params, kw):
    D = CD if lib is cr else TD
    ts = [lib.tensor(p, dtype=lib.float64, requires_grad=True) for p in params]
    return getattr(D, name)(*ts, **kw), ts


def _close(a, b, rtol=1e-9):
    np.testing.assert_allclose(np.asarray(a.detach().numpy()), b.detach().numpy(),
                               rtol=rtol, atol=1e-12, equal_nan=True)


def _grads_match(cr_out, t_out, cr_ps, t_ps):
    cr_ps_g = [p for p in cr_ps]
    w = np.linspace(0.5, 1.5, int(np.prod(t_out.shape)) or 1).reshape(t_out.shape)
    gc = cr.autograd.grad((cr_out * cr.tensor(w)).sum(), cr_ps_g, allow_unused=True,
                          retain_graph=True)
    gt = torch.autograd.grad((t_out * torch.tensor(w)).sum(), t_ps, allow_unused=True,
                             retain_graph=True)
    for a, b in zip(gc, gt):
        if b is None:
            assert a is None or not np.any(a.numpy())
        else:  # trigamma (digamma's derivative) agrees with torch's to ~1e-8
            _close(a, b, rtol=1e-7)


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_torch(name):
    params, value, kw = CASES[name]
    dc, pc = _make(cr, name, params, kw)
    dt, pt = _make(torch, name, params, kw)
    assert tuple(dc.batch_shape) == tuple(dt.batch_shape)
    assert tuple(dc.event_shape) == tuple(dt.event_shape)
    assert dc.has_rsample == dt.has_rsample
    assert repr(dc) == repr(dt)
    vc, vt = cr.tensor(value), torch.tensor(value)
    for method in ("log_prob",) + (("cdf",) if name in CDF else ()):
        oc, ot = getattr(dc, method)(vc), getattr(dt, method)(vt)
        assert tuple(oc.shape) == tuple(ot.shape) and str(oc.dtype) == str(ot.dtype)
        _close(oc, ot)
        _grads_match(oc, ot, pc, pt)
    if name in ICDF:
        q = np.array([0.1, 0.5, 0.8])
        oc, ot = dc.icdf(cr.tensor(q)), dt.icdf(torch.tensor(q))
        _close(oc, ot)
        _grads_match(oc, ot, pc, pt)
    if name != "Poisson":  # torch's Poisson has no entropy
        oc, ot = dc.entropy(), dt.entropy()
        _close(oc, ot)
        _grads_match(oc, ot, pc, pt)
    for prop in PROPS[name]:
        oc, ot = getattr(dc, prop), getattr(dt, prop)
        assert tuple(oc.shape) == tuple(ot.shape)
        _close(oc, ot)
        if ot.requires_grad and np.all(np.isfinite(ot.detach().numpy())):
            _grads_match(oc, ot, pc, pt)


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_expand_and_sample_shapes_match_torch(name):
    params, value, kw = CASES[name]
    dc, _ = _make(cr, name, params, kw)
    dt, _ = _make(torch, name, params, kw)
    new_batch = (2,) + tuple(dt.batch_shape)
    ec, et = dc.expand(new_batch), dt.expand(new_batch)
    assert tuple(ec.batch_shape) == tuple(et.batch_shape)
    assert tuple(ec.event_shape) == tuple(et.event_shape)
    assert repr(ec) == repr(et)
    _close(ec.log_prob(cr.tensor(value)), et.log_prob(torch.tensor(value)))
    sc, st = ec.sample((4,)), et.sample((4,))
    assert tuple(sc.shape) == tuple(st.shape)
    assert str(sc.dtype) == str(st.dtype)
    assert not sc.requires_grad
    if dt.has_rsample:
        rc = dc.rsample((5,))
        assert tuple(rc.shape) == (5,) + tuple(dt.batch_shape) + tuple(dt.event_shape)


@pytest.mark.torch
def test_expand_existing_classes_match_torch():
    probs = np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])
    cases = [
        ("Normal", [np.zeros(3), np.ones(3)], (2, 3), np.full(3, 0.3)),
        ("Uniform", [np.zeros(3), np.ones(3) * 2], (2, 3), np.full(3, 0.3)),
        ("Exponential", [np.ones(3)], (2, 3), np.full(3, 0.3)),
        ("Laplace", [np.zeros(3), np.ones(3)], (2, 3), np.full(3, 0.3)),
        ("Bernoulli", [np.array([0.2, 0.7, 0.5])], (2, 3), np.array([0.0, 1.0, 1.0])),
        ("Categorical", [probs], (4, 2), np.array([0.0, 2.0])),
    ]
    for name, params, shape, value in cases:
        dc, _ = _make(cr, name, params, {})
        dt, _ = _make(torch, name, params, {})
        ec, et = dc.expand(shape), dt.expand(shape)
        assert tuple(ec.batch_shape) == tuple(et.batch_shape) == shape, name
        assert repr(ec) == repr(et), name
        _close(ec.log_prob(cr.tensor(value)), et.log_prob(torch.tensor(value)))
        assert tuple(ec.sample((3,)).shape) == tuple(et.sample((3,)).shape), name
    loc, cov = np.zeros(2), np.array([[2.0, 0.3], [0.3, 1.0]])
    mc = CD.MultivariateNormal(cr.tensor(loc), covariance_matrix=cr.tensor(cov)).expand((4,))
    mt = TD.MultivariateNormal(torch.tensor(loc), covariance_matrix=torch.tensor(cov)).expand((4,))
    assert tuple(mc.batch_shape) == tuple(mt.batch_shape) == (4,)
    _close(mc.log_prob(cr.tensor([0.5, -0.2])), mt.log_prob(torch.tensor([0.5, -0.2])))
    ic = CD.Independent(CD.Normal(cr.zeros(3, dtype=cr.float64), 1.0), 1).expand((5,))
    it = TD.Independent(TD.Normal(torch.zeros(3, dtype=torch.float64), 1.0), 1).expand((5,))
    assert tuple(ic.batch_shape) == tuple(it.batch_shape) == (5,)
    assert tuple(ic.event_shape) == tuple(it.event_shape) == (3,)
    assert tuple(ic.sample((2,)).shape) == tuple(it.sample((2,)).shape)


KL_PAIRS = [
    ("Gamma", [P, np.array([2.0, 0.7, 1.3])], [np.array([1.0, 2.0, 0.4]), P]),
    ("Beta", [P, np.array([2.0, 0.7, 1.3])], [np.array([1.0, 2.0, 0.4]), P]),
    ("Dirichlet", [np.array([[0.5, 1.5, 3.0]])], [np.array([[2.0, 0.7, 1.3]])]),
    ("Poisson", [P], [np.array([1.0, 2.0, 0.4])]),
    ("Geometric", [np.array([0.2, 0.5, 0.9])], [np.array([0.4, 0.3, 0.6])]),
    ("Gumbel", [np.zeros(3), P], [np.ones(3), np.array([1.0, 2.0, 0.4])]),
    ("HalfNormal", [P], [np.array([1.0, 2.0, 0.4])]),
    ("LogNormal", [np.zeros(3), P], [np.ones(3), np.array([1.0, 2.0, 0.4])]),
    ("OneHotCategorical", [np.array([0.2, 0.3, 0.5])], [np.array([0.6, 0.1, 0.3])]),
    ("Exponential", [P], [np.array([1.0, 2.0, 0.4])]),
    ("Categorical", [np.array([0.2, 0.3, 0.5])], [np.array([0.6, 0.1, 0.3])]),
    ("Bernoulli", [np.array([0.2, 0.3, 0.5])], [np.array([0.6, 0.1, 0.3])]),
]


@pytest.mark.torch
@pytest.mark.parametrize("name,pp,qp", KL_PAIRS, ids=[c[0] for c in KL_PAIRS])
def test_kl_matches_torch(name, pp, qp):
    pc, ppc = _make(cr, name, pp, {})
    qc, qpc = _make(cr, name, qp, {})
    pt, ppt = _make(torch, name, pp, {})
    qt, qpt = _make(torch, name, qp, {})
    kc, kt = CD.kl_divergence(pc, qc), TD.kl_divergence(pt, qt)
    _close(kc, kt)
    _grads_match(kc, kt, ppc + qpc, ppt + qpt)


def test_register_kl_dispatches_most_specific():
    class MyNormal(CD.Normal):
        pass

    @CD.register_kl(MyNormal, CD.Normal)
    def _kl(p, q):
        return cr.tensor(42.0)

    p = MyNormal(cr.tensor(0.0), cr.tensor(1.0))
    q = CD.Normal(cr.tensor(1.0), cr.tensor(1.0))
    assert CD.kl_divergence(p, q).item() == 42.0
    assert CD.kl_divergence(q, q).item() == 0.0
    assert abs(CD.kl_divergence(q, p).item() - 0.5) < 1e-7
    with pytest.raises(TypeError):
        CD.register_kl(int, CD.Normal)


@pytest.mark.torch
def test_validation_errors_match_torch():
    bad = [("Gamma", (-1.0, 1.0)), ("Beta", (1.0, -2.0)), ("Cauchy", (0.0, -1.0)),
           ("StudentT", (-1.0,)), ("HalfNormal", (0.0,)), ("Poisson", (-1.0,)),
           ("Gumbel", (0.0, 0.0)), ("LogNormal", (0.0, -1.0))]
    for name, args in bad:
        with pytest.raises(ValueError) as et:
            getattr(TD, name)(*[torch.tensor(a) for a in args], validate_args=True)
        with pytest.raises(ValueError) as ec:
            getattr(CD, name)(*[cr.tensor(a) for a in args], validate_args=True)
        if name not in ("Beta", "StudentT"):  # torch reports these from an inner distribution
            assert str(ec.value) == str(et.value), name
    for name, args, value in [("Gamma", (1.0, 1.0), -1.0), ("HalfNormal", (1.0,), -1.0),
                              ("Beta", (1.0, 2.0), 1.5), ("LogNormal", (0.0, 1.0), -1.0),
                              ("Poisson", (2.0,), 1.5)]:
        dt = getattr(TD, name)(*[torch.tensor(a) for a in args], validate_args=True)
        dc = getattr(CD, name)(*[cr.tensor(a) for a in args], validate_args=True)
        with pytest.raises(ValueError) as et:
            dt.log_prob(torch.tensor(value))
        with pytest.raises(ValueError) as ec:
            dc.log_prob(cr.tensor(value))
        assert str(ec.value) == str(et.value), name


def _moments(d, n=20000):
    s = d.sample((n,)).numpy()
    return s.mean(0), s.var(0), s


def test_sample_moments_and_support():
    cr.manual_seed(0)
    g = CD.Gamma(cr.tensor([0.5, 2.0, 5.0]), cr.tensor([1.0, 2.0, 0.5]))
    m, v, s = _moments(g)
    assert (s > 0).all()
    np.testing.assert_allclose(m, [0.5, 1.0, 10.0], rtol=0.06)
    np.testing.assert_allclose(v, [0.5, 0.5, 20.0], rtol=0.15)
    b = CD.Beta(cr.tensor([2.0, 0.5]), cr.tensor([3.0, 0.5]))
    m, v, s = _moments(b)
    assert ((s >= 0) & (s <= 1)).all()
    np.testing.assert_allclose(m, [0.4, 0.5], atol=0.02)
    dr = CD.Dirichlet(cr.tensor([1.0, 2.0, 3.0]))
    m, _, s = _moments(dr)
    np.testing.assert_allclose(s.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(m, [1 / 6, 2 / 6, 3 / 6], atol=0.02)
    po = CD.Poisson(cr.tensor([0.5, 4.0]))
    m, v, s = _moments(po)
    assert (s == np.floor(s)).all() and (s >= 0).all()
    np.testing.assert_allclose(m, [0.5, 4.0], rtol=0.06)
    ge = CD.Geometric(cr.tensor([0.3, 0.8]))
    m, _, s = _moments(ge)
    assert (s == np.floor(s)).all() and (s >= 0).all()
    np.testing.assert_allclose(m, [1 / 0.3 - 1, 0.25], rtol=0.08)
    gu = CD.Gumbel(cr.tensor(1.0), cr.tensor(2.0))
    m, v, _ = _moments(gu)
    assert abs(m - (1 + 2 * 0.5772156649)) < 0.1 and abs(v / (math.pi ** 2 / 6 * 4) - 1) < 0.1
    hn = CD.HalfNormal(cr.tensor(2.0))
    m, _, s = _moments(hn)
    assert (s >= 0).all() and abs(m - 2 * math.sqrt(2 / math.pi)) < 0.06
    ln = CD.LogNormal(cr.tensor(0.0), cr.tensor(0.5))
    m, _, s = _moments(ln)
    assert (s > 0).all() and abs(m - math.exp(0.125)) < 0.03
    st = CD.StudentT(cr.tensor(5.0), cr.tensor(1.0), cr.tensor(2.0))
    m, v, _ = _moments(st)
    assert abs(m - 1.0) < 0.1 and abs(v / (4 * 5 / 3) - 1) < 0.15
    ca = CD.Cauchy(cr.tensor(1.0), cr.tensor(2.0))
    s = ca.sample((20000,)).numpy()
    assert abs(np.median(s) - 1.0) < 0.1
    oh = CD.OneHotCategorical(cr.tensor([0.2, 0.3, 0.5]))
    m, _, s = _moments(oh)
    assert (s.sum(-1) == 1).all()
    np.testing.assert_allclose(m, [0.2, 0.3, 0.5], atol=0.02)


def test_rsample_gradients_flow():
    loc = cr.tensor(0.5, requires_grad=True)
    scale = cr.tensor(2.0, requires_grad=True)
    for d in (CD.LogNormal(loc, scale), CD.Gumbel(loc, scale), CD.Cauchy(loc, scale),
              CD.StudentT(3.0, loc, scale)):
        gl, gs = cr.autograd.grad(d.rsample((10,)).sum(), [loc, scale])
        assert gl is not None and gs is not None and gs.abs().item() > 0
    hs = cr.tensor(2.0, requires_grad=True)
    x = CD.HalfNormal(hs).rsample((7,))
    (g,) = cr.autograd.grad(x.sum(), [hs])
    np.testing.assert_allclose(g.item(), (x / hs).sum().item(), rtol=1e-5)
    rate = cr.tensor(2.0, requires_grad=True)
    x = CD.Gamma(cr.tensor(3.0), rate).rsample((6,))
    (g,) = cr.autograd.grad(x.sum(), [rate])
    np.testing.assert_allclose(g.item(), -(x / rate).sum().item(), rtol=1e-5)

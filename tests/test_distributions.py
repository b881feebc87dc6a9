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


@pytest.mark.torch
def test_gamma_rsample_implicit_gradient_matches_torch():
    cr.manual_seed(1)
    conc = cr.tensor([0.3, 2.0, 40.0], dtype=cr.float64, requires_grad=True)
    x = CD.Gamma(conc, cr.tensor(1.0, dtype=cr.float64)).rsample((50,))
    (g,) = cr.autograd.grad((x * cr.tensor([1.0, 2.0, 3.0])).sum(), [conc])
    xt = torch.tensor(x.detach().numpy())
    want = (torch._standard_gamma_grad(torch.tensor(conc.detach().numpy()).expand(50, 3), xt)
            * torch.tensor([1.0, 2.0, 3.0])).sum(0)
    # torch's gradient is an approximation good to ~1e-4; the series here is exact
    np.testing.assert_allclose(g.numpy(), want.numpy(), rtol=5e-4)
    # Dirichlet / Beta / StudentT pass gradients through their gamma draws
    for d, p in [(CD.Dirichlet(conc), conc), (CD.Beta(conc, conc.detach()), conc),
                 (CD.StudentT(conc, 0.0, 1.0), conc)]:
        (g,) = cr.autograd.grad((d.rsample((7,)) * cr.tensor([1.0, -2.0, 3.0])).sum(), [p])
        assert np.all(np.isfinite(g.numpy())) and np.any(g.numpy() != 0)
    # pathwise estimator: d/d conc E[x] = 1 for Gamma(conc, 1), averaged over many draws
    cr.manual_seed(2)
    c = cr.tensor([0.5, 3.0], dtype=cr.float64, requires_grad=True)
    (g,) = cr.autograd.grad(CD.Gamma(c, 1.0).rsample((20000,)).mean(0).sum(), [c])
    np.testing.assert_allclose(g.numpy(), [1.0, 1.0], rtol=0.05)


def _leaf(lib, a):
    return lib.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


@pytest.mark.torch
def test_binomial_matches_torch():
    pr = np.array([0.2, 0.5, 0.9])
    value = np.array([0.0, 3.0, 10.0])
    for kw in ("probs", "logits"):
        arg = pr if kw == "probs" else np.log(pr / (1 - pr))
        pc, pt = _leaf(cr, arg), _leaf(torch, arg)
        dc = CD.Binomial(cr.tensor(10.0, dtype=cr.float64), **{kw: pc})
        dt = TD.Binomial(torch.tensor(10.0, dtype=torch.float64), **{kw: pt})
        assert repr(dc) == repr(dt)
        for oc, ot in [(dc.log_prob(cr.tensor(value)), dt.log_prob(torch.tensor(value))),
                       (dc.entropy(), dt.entropy()), (dc.mean, dt.mean),
                       (dc.variance, dt.variance)]:
            _close(oc, ot)
            _grads_match(oc, ot, [pc], [pt])
        _close(dc.mode, dt.mode)
        ec, et = dc.expand((2, 3)), dt.expand((2, 3))
        assert repr(ec) == repr(et)
        sc, st = ec.sample((4,)), et.sample((4,))
        assert tuple(sc.shape) == tuple(st.shape) and str(sc.dtype) == str(st.dtype)
    q = (CD.Binomial(10, cr.tensor([0.3, 0.4, 0.5])), TD.Binomial(10, torch.tensor([0.3, 0.4, 0.5])))
    _close(CD.kl_divergence(CD.Binomial(10, cr.tensor(pr)), q[0]),
           TD.kl_divergence(TD.Binomial(10, torch.tensor(pr)), q[1]), rtol=1e-6)
    cr.manual_seed(0)
    s = CD.Binomial(cr.tensor([5.0, 20.0]), cr.tensor([0.3, 0.6])).sample((20000,)).numpy()
    assert (s == np.floor(s)).all() and (s >= 0).all() and (s <= [5, 20]).all()
    np.testing.assert_allclose(s.mean(0), [1.5, 12.0], rtol=0.05)


def _transform_lists(lib):
    T = (CD if lib is cr else TD).transforms
    return {
        "exp_affine": [T.ExpTransform(), T.AffineTransform(1.0, 2.0)],
        "neg_affine": [T.AffineTransform(lib.tensor(0.5, dtype=lib.float64), -3.0)],
        "sigmoid": [T.SigmoidTransform()],
        "tanh_affine": [T.TanhTransform(), T.AffineTransform(0.0, 2.0)],
        "compose": T.ComposeTransform([T.AffineTransform(0.3, 0.5), T.ExpTransform()]),
    }


@pytest.mark.torch
@pytest.mark.parametrize("key", ["exp_affine", "neg_affine", "sigmoid", "tanh_affine",
                                 "compose"])
def test_transformed_distribution_matches_torch(key):
    loc = np.array([0.1, -0.4])
    scale = np.array([0.7, 1.3])
    lc, sc_ = _leaf(cr, loc), _leaf(cr, scale)
    lt, st_ = _leaf(torch, loc), _leaf(torch, scale)
    dc = CD.TransformedDistribution(CD.Normal(lc, sc_), _transform_lists(cr)[key])
    dt = TD.TransformedDistribution(TD.Normal(lt, st_), _transform_lists(torch)[key])
    assert repr(dc) == repr(dt)
    assert tuple(dc.batch_shape) == tuple(dt.batch_shape) and dc.has_rsample == dt.has_rsample
    x = dt.sample((3,)).detach()
    xc = cr.tensor(x.numpy())
    for oc, ot in [(dc.log_prob(xc), dt.log_prob(x)), (dc.cdf(xc), dt.cdf(x)),
                   (dc.icdf(cr.tensor([0.2, 0.7])), dt.icdf(torch.tensor([0.2, 0.7])))]:
        _close(oc, ot, rtol=1e-8)
        _grads_match(oc, ot, [lc, sc_], [lt, st_])
    r = dc.rsample((4,))
    assert tuple(r.shape) == (4, 2)
    (g,) = cr.autograd.grad(r.sum(), [lc])
    assert np.all(g.numpy() != 0)
    assert tuple(dc.expand((5, 2)).sample((3,)).shape) == (3, 5, 2)


@pytest.mark.torch
def test_transforms_match_torch():
    x = np.array([-1.2, 0.3, 2.0])
    for key in ("exp_affine", "sigmoid", "tanh_affine"):
        for tc, tt in zip(_transform_lists(cr)[key], _transform_lists(torch)[key]):
            assert repr(tc) == repr(tt)
            yc, yt = tc(cr.tensor(x)), tt(torch.tensor(x))
            _close(yc, yt)
            _close(tc.inv(yc), tt.inv(yt), rtol=1e-7)
            _close(tc.log_abs_det_jacobian(cr.tensor(x), yc),
                   tt.log_abs_det_jacobian(torch.tensor(x), yt))
    cc, ct = _transform_lists(cr)["compose"], _transform_lists(torch)["compose"]
    assert repr(cc) == repr(ct)
    yc, yt = cc(cr.tensor(x)), ct(torch.tensor(x))
    _close(cc.log_abs_det_jacobian(cr.tensor(x), yc), ct.log_abs_det_jacobian(torch.tensor(x), yt))
    _close(cc.inv(yc), ct.inv(yt))
    ac = CD.transforms.AffineTransform(cr.zeros(2), cr.tensor([2.0, 3.0]), event_dim=1)
    at = TD.transforms.AffineTransform(torch.zeros(2), torch.tensor([2.0, 3.0]), event_dim=1)
    z = np.ones((4, 2), dtype=np.float32)
    _close(ac.log_abs_det_jacobian(cr.tensor(z), ac(cr.tensor(z))),
           at.log_abs_det_jacobian(torch.tensor(z), at(torch.tensor(z))), rtol=1e-6)


@pytest.mark.torch
def test_relaxed_one_hot_categorical_matches_torch():
    logits = np.array([[0.2, -1.0, 0.5], [1.0, 0.0, -0.3]])
    lc, lt = _leaf(cr, logits), _leaf(torch, logits)
    tc_, tt_ = _leaf(cr, 0.7), _leaf(torch, 0.7)
    dc = CD.RelaxedOneHotCategorical(tc_, logits=lc)
    dt = TD.RelaxedOneHotCategorical(tt_, logits=lt)
    assert repr(dc) == repr(dt) and dc.has_rsample and dt.has_rsample
    assert tuple(dc.batch_shape) == (2,) and tuple(dc.event_shape) == (3,)
    v = np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])
    oc, ot = dc.log_prob(cr.tensor(v)), dt.log_prob(torch.tensor(v))
    _close(oc, ot)
    _grads_match(oc, ot, [lc, tc_], [lt, tt_])
    cr.manual_seed(0)
    s = dc.rsample((5,))
    assert tuple(s.shape) == (5, 2, 3)
    np.testing.assert_allclose(s.detach().numpy().sum(-1), 1.0, atol=1e-9)
    gl, gt = cr.autograd.grad((s * cr.tensor([1.0, 2.0, 3.0])).sum(), [lc, tc_])
    assert np.any(gl.numpy() != 0) and gt.item() != 0
    # low temperature: argmax of samples follows the categorical probabilities
    d = CD.RelaxedOneHotCategorical(cr.tensor(0.05), probs=cr.tensor([0.2, 0.3, 0.5]))
    s = d.sample((20000,)).numpy()
    np.testing.assert_allclose(np.bincount(s.argmax(-1), minlength=3) / 20000,
                               [0.2, 0.3, 0.5], atol=0.02)


@pytest.mark.torch
def test_mixture_same_family_matches_torch():
    w = np.array([[0.2, 0.8], [0.5, 0.5]])
    loc = np.array([[-1.0, 2.0], [0.0, 1.0]])
    scale = np.array([[0.5, 1.0], [2.0, 0.3]])
    pc = [_leaf(cr, a) for a in (w, loc, scale)]
    pt = [_leaf(torch, a) for a in (w, loc, scale)]
    dc = CD.MixtureSameFamily(CD.Categorical(probs=pc[0]), CD.Normal(pc[1], pc[2]))
    dt = TD.MixtureSameFamily(TD.Categorical(probs=pt[0]), TD.Normal(pt[1], pt[2]))
    assert repr(dc) == repr(dt)
    assert tuple(dc.batch_shape) == (2,) and tuple(dc.event_shape) == ()
    x = np.array([0.3, -0.7])
    for oc, ot in [(dc.log_prob(cr.tensor(x)), dt.log_prob(torch.tensor(x))),
                   (dc.cdf(cr.tensor(x)), dt.cdf(torch.tensor(x))), (dc.mean, dt.mean),
                   (dc.variance, dt.variance)]:
        _close(oc, ot)
        _grads_match(oc, ot, pc, pt)
    assert tuple(dc.sample((4,)).shape) == tuple(dt.sample((4,)).shape) == (4, 2)
    ec, et = dc.expand((3, 2)), dt.expand((3, 2))
    assert tuple(ec.batch_shape) == tuple(et.batch_shape)
    _close(ec.log_prob(cr.tensor(x)), et.log_prob(torch.tensor(x)))
    mvc = CD.MixtureSameFamily(CD.Categorical(probs=cr.tensor([0.3, 0.7])),
                               CD.Independent(CD.Normal(cr.zeros(2, 3), cr.ones(2, 3)), 1))
    mvt = TD.MixtureSameFamily(TD.Categorical(probs=torch.tensor([0.3, 0.7])),
                               TD.Independent(TD.Normal(torch.zeros(2, 3), torch.ones(2, 3)), 1))
    v = np.full(3, 0.5, dtype=np.float32)
    _close(mvc.log_prob(cr.tensor(v)), mvt.log_prob(torch.tensor(v)), rtol=1e-6)
    assert tuple(mvc.sample((5,)).shape) == tuple(mvt.sample((5,)).shape) == (5, 3)
    cr.manual_seed(0)
    m = CD.MixtureSameFamily(CD.Categorical(probs=cr.tensor([0.25, 0.75])),
                             CD.Normal(cr.tensor([-2.0, 2.0]), cr.tensor([0.5, 0.5])))
    s = m.sample((20000,)).numpy()
    assert abs(s.mean() - 1.0) < 0.06 and abs((s < 0).mean() - 0.25) < 0.02
    with pytest.raises(ValueError):
        CD.MixtureSameFamily(CD.Categorical(probs=cr.ones(3)), CD.Normal(cr.zeros(2), 1.0))


@pytest.mark.torch
def test_support_and_arg_constraints_match_torch():
    for name in sorted(CASES) + ["Uniform", "Bernoulli", "Exponential", "Laplace",
                                 "Categorical", "MultivariateNormal", "Binomial",
                                 "RelaxedOneHotCategorical"]:
        cc, ct = getattr(CD, name), getattr(TD, name)
        if not isinstance(ct.arg_constraints, dict):  # torch computes Uniform's per instance
            continue
        assert {k: repr(v) for k, v in cc.arg_constraints.items()} == \
            {k: repr(v) for k, v in ct.arg_constraints.items()}, name
        if not isinstance(ct.__dict__.get("support"), property) and "support" in ct.__dict__:
            assert repr(cc.support) == repr(ct.support), name
    assert repr(CD.Categorical(cr.ones(4)).support) == repr(TD.Categorical(torch.ones(4)).support)
    ic = CD.Independent(CD.Gamma(cr.ones(2), 1.0), 1)
    it = TD.Independent(TD.Gamma(torch.ones(2), 1.0), 1)
    assert repr(ic.support) == repr(it.support)
    tc = CD.TransformedDistribution(CD.Normal(0.0, 1.0), [CD.transforms.ExpTransform()])
    tt = TD.TransformedDistribution(TD.Normal(0.0, 1.0), [TD.transforms.ExpTransform()])
    assert repr(tc.support) == repr(tt.support)
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    for cons in ("real", "positive", "nonnegative", "unit_interval", "nonnegative_integer",
                 "boolean"):
        got = getattr(CD.constraints, cons).check(cr.tensor(x)).numpy()
        want = getattr(TD.constraints, cons).check(torch.tensor(x)).numpy()
        assert (got == want).all(), cons
    s = np.array([[0.2, 0.8], [0.5, 0.6], [1.0, 0.0]])
    for cons in ("simplex", "one_hot"):
        got = getattr(CD.constraints, cons).check(cr.tensor(s)).numpy()
        want = getattr(TD.constraints, cons).check(torch.tensor(s)).numpy()
        assert (got == want).all(), cons


@pytest.mark.torch
def test_kl_mvn_and_independent_match_torch():
    loc_p, loc_q = np.array([0.1, -0.3]), np.array([1.0, 0.5])
    cov_p = np.array([[1.5, 0.2], [0.2, 0.8]])
    cov_q = np.array([[0.7, -0.1], [-0.1, 1.2]])
    pc = [_leaf(cr, a) for a in (loc_p, cov_p, loc_q, cov_q)]
    pt = [_leaf(torch, a) for a in (loc_p, cov_p, loc_q, cov_q)]
    kc = CD.kl_divergence(CD.MultivariateNormal(pc[0], covariance_matrix=pc[1]),
                          CD.MultivariateNormal(pc[2], covariance_matrix=pc[3]))
    kt = TD.kl_divergence(TD.MultivariateNormal(pt[0], covariance_matrix=pt[1]),
                          TD.MultivariateNormal(pt[2], covariance_matrix=pt[3]))
    _close(kc, kt, rtol=1e-8)
    _grads_match(kc, kt, pc, pt)
    a, b = _leaf(cr, [[0.5, 1.0, 2.0]]), _leaf(torch, [[0.5, 1.0, 2.0]])
    kc = CD.kl_divergence(CD.Independent(CD.Gamma(a, 1.0), 1), CD.Independent(CD.Gamma(1.0, a), 1))
    kt = TD.kl_divergence(TD.Independent(TD.Gamma(b, 1.0), 1), TD.Independent(TD.Gamma(1.0, b), 1))
    assert tuple(kc.shape) == tuple(kt.shape) == (1,)
    _close(kc, kt)
    _grads_match(kc, kt, [a], [b])


@pytest.mark.torch
def test_existing_classes_mode_cdf_icdf_match_torch():
    lo, hi = np.array([0.0, -1.0]), np.array([2.0, 0.5])
    v, q = np.array([0.3, 0.2]), np.array([0.1, 0.8])
    cases = [("Uniform", [lo, hi], ("mode", "mean", "variance"), True),
             ("Exponential", [np.array([0.5, 2.0])], ("mode", "mean", "variance"), True),
             ("Laplace", [lo, np.array([0.7, 1.5])], ("mode", "mean", "variance", "stddev"),
              True),
             ("Bernoulli", [np.array([0.3, 0.5])], ("mode", "mean", "variance"), False)]
    for name, params, props, has_cdf in cases:
        dc, pc = _make(cr, name, params, {})
        dt, pt = _make(torch, name, params, {})
        for prop in props:
            _close(getattr(dc, prop), getattr(dt, prop))
        if has_cdf:
            for oc, ot in [(dc.cdf(cr.tensor(v)), dt.cdf(torch.tensor(v))),
                           (dc.icdf(cr.tensor(q)), dt.icdf(torch.tensor(q)))]:
                _close(oc, ot)
                _grads_match(oc, ot, pc, pt)


@pytest.mark.torch
def test_enumerate_support_and_flags_match_torch():
    for name in ("Bernoulli", "Categorical", "OneHotCategorical", "Normal", "Gamma",
                 "Binomial", "Poisson"):
        assert getattr(CD, name).has_enumerate_support == \
            getattr(TD, name).has_enumerate_support, name
    pr = np.array([[0.2, 0.7], [0.5, 0.1]])
    for expand in (True, False):
        ec = CD.Bernoulli(cr.tensor(pr)).enumerate_support(expand)
        et = TD.Bernoulli(torch.tensor(pr)).enumerate_support(expand)
        assert tuple(ec.shape) == tuple(et.shape) and str(ec.dtype) == str(et.dtype)
        np.testing.assert_array_equal(ec.numpy(), et.numpy())
        ec = CD.Binomial(3, cr.tensor(pr)).enumerate_support(expand)
        et = TD.Binomial(3, torch.tensor(pr)).enumerate_support(expand)
        np.testing.assert_array_equal(ec.numpy(), et.numpy())
        ec = CD.OneHotCategorical(cr.tensor(pr)).enumerate_support(expand)
        et = TD.OneHotCategorical(torch.tensor(pr)).enumerate_support(expand)
        np.testing.assert_array_equal(ec.numpy(), et.numpy())
    with pytest.raises(NotImplementedError):
        CD.Poisson(cr.tensor(1.0)).entropy()
    with pytest.raises(NotImplementedError):
        CD.Beta(1.0, 1.0).cdf(cr.tensor(0.5))
    for n in (0, 1):
        ic = CD.Independent(CD.Bernoulli(cr.tensor(pr)), n)
        it = TD.Independent(TD.Bernoulli(torch.tensor(pr)), n)
        assert ic.has_enumerate_support == it.has_enumerate_support
    np.testing.assert_array_equal(
        CD.Independent(CD.Bernoulli(cr.tensor(pr)), 0).enumerate_support().numpy(),
        TD.Independent(TD.Bernoulli(torch.tensor(pr)), 0).enumerate_support().numpy())

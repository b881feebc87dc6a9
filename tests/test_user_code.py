"""Everyday PyTorch user code, run twice: with torch and with chainrule swapped in.

Each test is a snippet written the way tutorials and user scripts write it, taking the
library as arguments (``torch, nn, F, optim``). The harness runs it with PyTorch and with
chainrule and compares whatever it returns: tensor values, grads, shapes, dtypes,
printed text and exception types. Random values cannot match PyTorch's generator, so
snippets that sample compare shapes and dtypes only; data comes from NumPy.
"""
import math

import numpy as np
import pytest

import chainrule

torch_lib = pytest.importorskip("torch")

pytestmark = pytest.mark.torch


def _libs(name):
    if name == "torch":
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        from torch import optim
        return torch, nn, F, optim
    import chainrule as torch
    import chainrule.nn as nn
    import chainrule.nn.functional as F
    from chainrule import optim
    return torch, nn, F, optim


def _is_tensor(x):
    return isinstance(x, (torch_lib.Tensor, chainrule.Tensor))


def _same(ours, theirs, path="result", rtol=1e-5, atol=1e-6):
    """Assert chainrule's result ``ours`` matches torch's ``theirs`` (recursively)."""
    if _is_tensor(theirs):
        assert isinstance(ours, chainrule.Tensor), f"{path}: {type(ours)} is not a Tensor"
        assert tuple(ours.shape) == tuple(theirs.shape), \
            f"{path}: shape {ours.shape} vs {theirs.shape}"
        assert str(ours.dtype) == str(theirs.dtype), \
            f"{path}: dtype {ours.dtype} vs {theirs.dtype}"
        assert ours.requires_grad == theirs.requires_grad, f"{path}: requires_grad"
        a = ours.detach().numpy()
        b = theirs.detach().resolve_conj().resolve_neg().numpy()
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True, err_msg=path)
        return
    if isinstance(theirs, type) and issubclass(theirs, BaseException):
        assert isinstance(ours, type) and ours.__name__ == theirs.__name__, \
            f"{path}: raised {ours} vs {theirs}"
        return
    if isinstance(theirs, torch_lib.Size):
        assert type(ours).__name__ == "Size" and tuple(ours) == tuple(theirs), \
            f"{path}: {ours!r} vs {theirs!r}"
        return
    if isinstance(theirs, (torch_lib.dtype, torch_lib.device)):
        assert str(ours) == str(theirs), f"{path}: {ours} vs {theirs}"
        return
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs), \
            f"{path}: keys {list(ours)} vs {list(theirs)}"
        for k in theirs:
            _same(ours[k], theirs[k], f"{path}[{k!r}]", rtol, atol)
        return
    if isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) or (isinstance(ours, tuple)
                                              and isinstance(theirs, tuple)), \
            f"{path}: {type(ours).__name__} vs {type(theirs).__name__}"
        assert len(ours) == len(theirs), f"{path}: length {len(ours)} vs {len(theirs)}"
        for i, (o, t) in enumerate(zip(ours, theirs)):
            _same(o, t, f"{path}[{i}]", rtol, atol)
        return
    if isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray) and ours.dtype == theirs.dtype, \
            f"{path}: {type(ours)} {getattr(ours, 'dtype', '')} vs ndarray {theirs.dtype}"
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=path)
        return
    if isinstance(theirs, (bool, np.bool_)):
        assert type(ours) is type(theirs) and ours == theirs, f"{path}: {ours!r} vs {theirs!r}"
        return
    if isinstance(theirs, float):
        assert type(ours) is float, f"{path}: {type(ours).__name__} vs float"
        assert math.isclose(ours, theirs, rel_tol=rtol, abs_tol=atol) or \
            (math.isnan(ours) and math.isnan(theirs)), f"{path}: {ours} vs {theirs}"
        return
    if isinstance(theirs, (int, str, type(None))):
        assert type(ours) is type(theirs) and ours == theirs, f"{path}: {ours!r} vs {theirs!r}"
        return
    raise TypeError(f"{path}: don't know how to compare {type(theirs)}")


def both(snippet, **kw):
    """Run ``snippet(torch, nn, F, optim)`` with each library and compare the results."""
    theirs = snippet(*_libs("torch"))
    ours = snippet(*_libs("chainrule"))
    _same(ours, theirs, **kw)
    return ours, theirs


def raised(fn, *args, **kwargs):
    """The exception class ``fn`` raises (None if it returns)."""
    try:
        fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - the class is what is compared
        return type(e)
    return None


def _rng(seed=0):
    return np.random.default_rng(seed)


xfail = pytest.mark.xfail


# -- "Learning PyTorch with examples" ------------------------------------------------

def test_polynomial_fit_manual_updates():
    def snippet(torch, nn, F, optim):
        x = torch.linspace(-math.pi, math.pi, 200)
        y = torch.sin(x)
        a = torch.tensor(0.1, requires_grad=True)
        b = torch.tensor(-0.2, requires_grad=True)
        c = torch.tensor(0.3, requires_grad=True)
        d = torch.tensor(0.05, requires_grad=True)
        lr = 1e-6
        log = []
        for t in range(60):
            y_pred = a + b * x + c * x ** 2 + d * x ** 3
            loss = (y_pred - y).pow(2).sum()
            if t % 20 == 19:
                log.append(f"{t} {loss.item():.3f}")
            loss.backward()
            with torch.no_grad():
                a -= lr * a.grad
                b -= lr * b.grad
                c -= lr * c.grad
                d -= lr * d.grad
                a.grad = None
                b.grad = None
                c.grad.zero_()
                d.grad.zero_()
        return log, a, b, c, d, f"y = {a.item():.4f} + {b.item():.4f} x"
    both(snippet, rtol=1e-4)


def test_polynomial_fit_numpy_style_dtype_device():
    def snippet(torch, nn, F, optim):
        dtype = torch.float
        device = torch.device("cpu")
        x = torch.linspace(-math.pi, math.pi, 100, device=device, dtype=dtype)
        y = torch.sin(x)
        w = torch.tensor(_rng().standard_normal(4), device=device, dtype=dtype,
                         requires_grad=True)
        for _ in range(30):
            y_pred = w[0] + w[1] * x + w[2] * x ** 2 + w[3] * x ** 3
            loss = (y_pred - y).pow(2).sum()
            loss.backward()
            with torch.no_grad():
                w -= 1e-6 * w.grad
                w.grad = None
        return w, loss, w.is_leaf, loss.grad_fn.name(), str(device)
    both(snippet, rtol=1e-4)


def test_legendre_custom_function():
    def snippet(torch, nn, F, optim):
        class LegendrePolynomial3(torch.autograd.Function):
            @staticmethod
            def forward(ctx, input):
                ctx.save_for_backward(input)
                return 0.5 * (5 * input ** 3 - 3 * input)

            @staticmethod
            def backward(ctx, grad_output):
                input, = ctx.saved_tensors
                return grad_output * 1.5 * (5 * input ** 2 - 1)

        x = torch.linspace(-1, 1, 50, dtype=torch.float64)
        y = torch.sin(x)
        a = torch.full((), 0.0, dtype=torch.float64, requires_grad=True)
        b = torch.full((), -1.0, dtype=torch.float64, requires_grad=True)
        c = torch.full((), 0.0, dtype=torch.float64, requires_grad=True)
        d = torch.full((), 0.3, dtype=torch.float64, requires_grad=True)
        P3 = LegendrePolynomial3.apply
        for _ in range(20):
            y_pred = a + b * P3(c + d * x)
            loss = (y_pred - y).pow(2).sum()
            loss.backward()
            with torch.no_grad():
                for p in (a, b, c, d):
                    p -= 5e-3 * p.grad
                    p.grad = None
        return a, b, c, d, loss.detach(), type(y_pred.grad_fn).__name__.endswith("Backward0")
    both(snippet)


def test_sequential_mse_sgd_loop():
    def snippet(torch, nn, F, optim):
        x = torch.linspace(-math.pi, math.pi, 100)
        y = torch.sin(x)
        p = torch.tensor([1, 2, 3])
        xx = x.unsqueeze(-1).pow(p)
        model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
        with torch.no_grad():
            model[0].weight.copy_(torch.tensor([[0.1, -0.2, 0.05]]))
            model[0].bias.fill_(0.0)
        loss_fn = nn.MSELoss(reduction="sum")
        optimizer = optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
        losses = []
        for t in range(25):
            y_pred = model(xx)
            loss = loss_fn(y_pred, y)
            losses.append(round(loss.item(), 2))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        linear = model[0]
        return (xx.shape, xx.dtype, losses[-1], linear.weight, linear.bias,
                linear.weight.grad, str(model))
    both(snippet, rtol=1e-4, atol=1e-4)


def test_dynamic_control_flow_module():
    def snippet(torch, nn, F, optim):
        class DynamicNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Parameter(torch.tensor(0.1))
                self.b = nn.Parameter(torch.tensor(0.2))
                self.c = nn.Parameter(torch.tensor(-0.1))
                self.d = nn.Parameter(torch.tensor(0.3))
                self.e = nn.Parameter(torch.tensor(0.01))

            def forward(self, x, n):
                y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
                for exp in range(4, n):
                    y = y + self.e * x ** exp
                return y

            def string(self):
                return f"y = {self.a.item():.3f} + {self.b.item():.3f} x"

        x = torch.linspace(-1, 1, 64)
        y = torch.sin(x)
        model = DynamicNet()
        criterion = torch.nn.MSELoss(reduction="sum")
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        for t in range(12):
            y_pred = model(x, 4 + t % 3)
            loss = criterion(y_pred, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        names = [n for n, _ in model.named_parameters()]
        return names, model.string(), [p.detach() for p in model.parameters()], repr(model)
    both(snippet, rtol=1e-4)


# -- tensor basics -------------------------------------------------------------------

def test_tensor_from_lists_and_numpy():
    def snippet(torch, nn, F, optim):
        a = torch.tensor([[1, 2], [3, 4]])
        b = torch.tensor([[1.0, 2], [3, 4]])
        c = torch.tensor([True, False])
        d = torch.tensor(np.arange(6).reshape(2, 3))
        e = torch.tensor(np.ones(3, dtype=np.float32))
        f = torch.tensor([1, 2], dtype=torch.float64)
        g = torch.tensor(3.5)
        h = torch.tensor([])
        i = torch.as_tensor([1.5, 2.5])
        j = torch.tensor(np.float64(2.0))
        return (a, b, c, d, e, f, g, h, i, j, a.dtype, b.dtype, h.shape, g.dim(), g.shape,
                a.size(), a.size(0), a.size(-1), a.dim(), a.ndim, a.numel(), torch.numel(b),
                len(a))
    both(snippet)


def test_item_tolist_numpy():
    def snippet(torch, nn, F, optim):
        x = torch.tensor([[1.5, 2.0], [3.0, 4.25]])
        n = torch.tensor([[1, 2], [3, 4]])
        return (x.tolist(), n.tolist(), x[0, 1].item(), n.sum().item(), x.sum().item(),
                torch.tensor(True).item(), x.numpy(), n.numpy(), x.max().tolist(),
                float(x[1, 1]), int(n[1, 0]), bool(n[0, 0] == 1), x.mean().item())
    both(snippet)


def test_from_numpy_shares_memory():
    def snippet(torch, nn, F, optim):
        a = np.arange(4.0)
        t = torch.from_numpy(a)
        a[0] = 10.0
        t[1] = 20.0
        n = t.numpy()
        n[2] = 30.0
        return t, a.copy(), t.dtype, torch.from_numpy(np.arange(3)).dtype
    both(snippet)


def test_transpose_properties():
    def snippet(torch, nn, F, optim):
        x = torch.arange(24.0).reshape(2, 3, 4)
        m = torch.arange(6).reshape(2, 3)
        return (m.T, m.t(), x.mT, x.transpose(0, 1).shape, x.permute(2, 0, 1).shape,
                m.T.is_contiguous(), x.mT.shape)
    both(snippet)


def test_contiguous_makes_contiguous():
    def snippet(torch, nn, F, optim):
        m = torch.arange(6).reshape(2, 3)
        c = m.T.contiguous()
        return (c.is_contiguous(), m.transpose(0, 1).contiguous().stride(), c is m.T,
                torch.ones(2, 3, 4).permute(2, 0, 1).contiguous().is_contiguous())
    both(snippet)


def test_scalar_arithmetic():
    def snippet(torch, nn, F, optim):
        x = torch.tensor([1.0, 2.0, 3.0])
        i = torch.tensor([1, 2, 3])
        return (x + 1, 2 * x, x / 2, 1 / x, x ** 2, 2 ** x, x - 0.5, -x, i + 1, i * 2.5,
                i / 2, i // 2, i % 2, x + np.float64(1.5), x * np.float32(2.0),
                i + np.int64(2), x + True, i * True, abs(-x), x // 2, 7 % i, i ** 2)
    both(snippet)


def test_numpy_scalar_on_left():
    def snippet(torch, nn, F, optim):
        x = torch.tensor([1.0, 2.0, 3.0])
        r = np.float64(2.0) * x
        return type(r).__name__ == "Tensor", r.dtype
    both(snippet)


def test_inplace_ops():
    def snippet(torch, nn, F, optim):
        x = torch.zeros(2, 3)
        x.add_(1)
        x.mul_(3)
        x[0].sub_(1)
        x.div_(2)
        x.clamp_(max=1.2)
        x.pow_(2)
        y = torch.ones(3)
        y += 2
        y *= torch.tensor([1.0, 2.0, 3.0])
        z = torch.arange(6).reshape(2, 3)
        z.fill_(7)
        w = torch.ones(4)
        w.zero_()
        w.uniform_(0, 1)
        w.normal_()
        u = torch.empty(3).fill_(2.5)
        return x, y, z, w.shape, u, x.add_(1) is x
    both(snippet)


def test_random_shapes_and_dtypes():
    def snippet(torch, nn, F, optim):
        torch.manual_seed(0)
        outs = [torch.rand(2, 3), torch.randn(4), torch.randn((2, 2)), torch.randint(0, 10, (3,)),
                torch.randint(5, (2, 2)), torch.randperm(5), torch.normal(0.0, 1.0, size=(3,)),
                torch.normal(torch.zeros(3), torch.ones(3)),
                torch.multinomial(torch.tensor([0.2, 0.3, 0.5]), 2),
                torch.multinomial(torch.tensor([0.2, 0.3, 0.5]), 4, replacement=True),
                torch.rand(2, dtype=torch.float64), torch.bernoulli(torch.full((3,), 0.5)),
                torch.randn_like(torch.zeros(2, 2)), torch.rand_like(torch.zeros(3)),
                torch.randint_like(torch.zeros(3), 4), torch.empty(3).uniform_(-1, 1)]
        perm = torch.randperm(6)
        return ([(o.shape, o.dtype) for o in outs], sorted(perm.tolist()),
                bool((outs[0] >= 0).all()), bool((outs[3] < 10).all()),
                torch.initial_seed())
    both(snippet)


def test_factories():
    def snippet(torch, nn, F, optim):
        x = torch.ones(2, 3, dtype=torch.float64)
        return (torch.arange(5), torch.arange(1, 4), torch.arange(0, 1, 0.25),
                torch.arange(5.0), torch.arange(0, 10, 3, dtype=torch.float32),
                torch.linspace(0, 1, 5), torch.logspace(0, 2, 3), torch.logspace(0, 3, 4, base=2),
                torch.eye(3), torch.eye(2, 3), torch.full((2, 2), 7), torch.full((2,), 1.5),
                torch.full((2,), True), torch.zeros_like(x), torch.ones_like(x, dtype=torch.int32),
                torch.full_like(x, 3), torch.empty(2, 3).shape, torch.empty(0).shape,
                torch.zeros(3, dtype=torch.long), torch.zeros((2, 3)), torch.ones([2]),
                torch.zeros(2, 3).dtype, torch.empty_like(x).dtype)
    both(snippet)


def test_cat_stack_where_clamp():
    def snippet(torch, nn, F, optim):
        a = torch.tensor([[1.0, -2.0], [3.0, -4.0]])
        b = torch.tensor([[5.0, 6.0]])
        return (torch.cat([a, b]), torch.cat((a, a), dim=1), torch.cat([a, b], 0),
                torch.stack([a, a]), torch.stack([a, a], dim=-1), torch.hstack([a, a]),
                torch.vstack([a, b]), torch.where(a > 0, a, torch.zeros_like(a)),
                torch.where(a > 0, a, 0.0), torch.where(a > 0), torch.clamp(a, min=0),
                torch.clamp(a, -1, 1), a.clamp(max=2), torch.clip(a, -1, 1),
                torch.clamp(a, min=torch.tensor([0.0, -3.0])), a.clamp_min(0))
    both(snippet)


def test_comparisons_and_bools():
    def snippet(torch, nn, F, optim):
        a = torch.tensor([1.0, 2.0, 3.0])
        b = torch.tensor([1.0, 2.5, 3.0])
        m = a == b
        return (m, a != b, a < 2, a >= 2.0, m == True, m.any(), m.all(), m.sum(),  # noqa: E712
                bool(m.any()), m.float(), m.long(), (a > 1) & (a < 3), ~m, m | ~m, m ^ m,
                torch.allclose(a, b), torch.allclose(a, a + 1e-9), torch.equal(a, a.clone()),
                torch.equal(a, b), torch.isclose(a, b), torch.isclose(a, b, atol=0.6),
                torch.is_tensor(a), torch.is_tensor([1]), isinstance(a, torch.Tensor),
                a.eq(b), a.gt(1), a.le(b), torch.logical_and(m, a > 1), torch.logical_not(m),
                a.count_nonzero(), torch.nonzero(m), m.nonzero(as_tuple=True))
    both(snippet)


def test_dtype_helpers():
    def snippet(torch, nn, F, optim):
        before = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)
        try:
            t = torch.tensor([1.0])
            z = torch.zeros(2)
            ar = torch.arange(3.0)
            after = torch.get_default_dtype()
        finally:
            torch.set_default_dtype(torch.float32)
        fi = torch.finfo(torch.float32)
        ii = torch.iinfo(torch.int64)
        return (before, after, t.dtype, z.dtype, ar.dtype, fi.eps, fi.max, fi.min, fi.tiny,
                fi.bits, torch.finfo().eps, torch.finfo(torch.float16).max, ii.max, ii.min,
                torch.iinfo(torch.uint8).max, torch.iinfo(torch.int32).bits,
                torch.float is torch.float32, torch.long is torch.int64,
                torch.double is torch.float64, torch.int is torch.int32,
                str(torch.float), repr(torch.long), torch.float32.is_floating_point,
                torch.int64.is_floating_point, torch.float32.itemsize, torch.int16.itemsize,
                torch.complex64.is_complex, torch.bool.is_signed, torch.int8.is_signed)
    both(snippet)


def test_finfo_repr():
    def snippet(torch, nn, F, optim):
        return (repr(torch.finfo(torch.float32)), repr(torch.iinfo(torch.int32)),
                str(torch.finfo(torch.float64)), torch.finfo(torch.float32).resolution,
                torch.finfo(torch.float64).dtype, torch.iinfo(torch.int8).dtype)
    both(snippet)


def test_device_handling():
    def snippet(torch, nn, F, optim):
        device = "cuda" if torch.cuda.is_available() else "cpu"
        dev = torch.device(device)
        x = torch.ones(2, device=dev)
        y = x.to(device)
        z = x.to("cpu", torch.float64)
        w = x.to(dev, dtype=torch.int64)
        return (device, dev, dev.type, dev.index, str(x.device), x.device, y is x, z.dtype,
                w.dtype, x.cpu() is x, x.is_cuda, torch.cuda.device_count(),
                torch.device("cpu") == x.device, repr(torch.device("cpu")),
                x.to(torch.float16).dtype, x.to(torch.zeros(1, dtype=torch.int8)).dtype,
                x.device.type == "cpu")
    both(snippet)


def test_type_strings():
    def snippet(torch, nn, F, optim):
        x = torch.ones(2)
        return (x.type(), torch.tensor([1]).type(), torch.tensor([True]).type(),
                x.type(torch.float64).dtype, x.type(torch.int32), x.double().type(),
                x.half().dtype, x.int().dtype, x.bool().dtype, x.byte().dtype,
                x.short().dtype, x.char().dtype, x.float().dtype, x.long().dtype,
                x.type(torch.float16).type())
    both(snippet)


def test_type_with_type_string():
    def snippet(torch, nn, F, optim):
        x = torch.ones(2)
        return (x.type("torch.DoubleTensor").dtype, x.type("torch.LongTensor").type(),
                x.type("torch.IntTensor").dtype)
    both(snippet)


def test_cuda_device_objects_can_be_built():
    def snippet(torch, nn, F, optim):
        d = torch.device("cuda:0")
        return (d.type, d.index, str(d), torch.device("cuda", 1).index, repr(d),
                torch.device("cuda") == torch.device("cpu"))
    both(snippet)


def test_new_tensor_methods():
    def snippet(torch, nn, F, optim):
        x = torch.ones(2, 3, dtype=torch.float64)
        return (x.new_zeros(2), x.new_ones((1, 2)), x.new_full((2,), 3), x.new_tensor([1, 2]),
                x.new_empty(3).shape, x.new_empty(3).dtype, x.new_zeros(2, 2, dtype=torch.int32),
                x.new_tensor([1.5]), x.new_ones(3, requires_grad=True))
    both(snippet)


def test_clone_detach_grad_bookkeeping():
    def snippet(torch, nn, F, optim):
        x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        z = y.clone().detach()
        w = x.detach().clone().requires_grad_()
        (y.sum() + (w ** 2).sum()).backward()
        g1 = x.grad.clone()
        x.grad.zero_()
        (x ** 3).sum().backward()
        d = x.data
        d[0] = 10.0
        leaves = (x.is_leaf, y.is_leaf, z.is_leaf, w.is_leaf, z.requires_grad, y.requires_grad)
        return (g1, x.grad, w.grad, leaves, x, y.grad_fn.name(), z.grad_fn,
                x.grad_fn, d.requires_grad, x.data.is_leaf)
    both(snippet)


def test_grad_fn_names():
    def snippet(torch, nn, F, optim):
        x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        outs = [x + 1, x * x, x @ x, x.sum(), x.mean(), x.exp(), x.relu(), x.view(4), x[0],
                x.t(), x.pow(2), torch.tanh(x), x / 2, -x, x.sigmoid(), F.softmax(x, 1),
                x.reshape(-1), x.unsqueeze(0), torch.cat([x, x]), x.max(), x.abs(),
                torch.mm(x, x), x.sqrt(), x.log(), F.mse_loss(x, x.detach()),
                F.cross_entropy(x, torch.tensor([0, 1])), x.clone(), x.sum(dim=0),
                x.squeeze(), x.expand(2, 2, 2), x.norm()]
        return [o.grad_fn.name() for o in outs]
    both(snippet)


def test_indexing():
    def snippet(torch, nn, F, optim):
        x = torch.arange(12.0).reshape(3, 4)
        m = x > 5
        idx = torch.tensor([0, 2])
        return (x[0], x[:, 1], x[1:, ::2], x[[0, 2]], x[[0, 2], [1, 3]], x[m], x[idx],
                x[idx, :2], x[..., -1], x[None].shape, x[:, None, :].shape, x[-1, -1],
                x[torch.tensor([True, False, True])], x[1][2], x[x[:, 0] > 3],
                x[torch.tensor(1)], x[0, idx], x[:, [True, False, True, False]])
    both(snippet)


def test_index_assignment_and_masked_ops():
    def snippet(torch, nn, F, optim):
        x = torch.zeros(3, 4)
        x[0] = 1
        x[:, 1] = torch.tensor([2.0, 3.0, 4.0])
        x[x > 3] = -1
        x[[1, 2], [0, 0]] = 9
        y = torch.arange(6.0).reshape(2, 3)
        y.masked_fill_(y > 3, 0.5)
        z = torch.arange(6.0).masked_fill(torch.tensor([1, 0, 1, 0, 1, 0]).bool(), -1)
        s = torch.zeros(3, 5).scatter_(1, torch.tensor([[0], [2], [4]]), 1.0)
        s2 = torch.zeros(2, 4).scatter_(1, torch.tensor([[1, 3], [0, 0]]),
                                        torch.tensor([[5.0, 6.0], [7.0, 8.0]]))
        sa = torch.zeros(5).scatter_add_(0, torch.tensor([0, 1, 1, 4]), torch.ones(4))
        p = torch.zeros(3, 3)
        p.index_put_((torch.tensor([0, 2]), torch.tensor([1, 1])), torch.tensor([5.0, 6.0]))
        q = torch.zeros(4)
        q.index_put_((torch.tensor([0, 0, 3]),), torch.tensor([1.0, 2.0, 3.0]), accumulate=True)
        onehot = F.one_hot(torch.tensor([0, 2, 1]), num_classes=3)
        filled = torch.zeros(4).index_fill_(0, torch.tensor([1, 3]), 2)
        return x, y, z, s, s2, sa, p, q, onehot, filled
    both(snippet)


def test_unique_bincount_histc():
    def snippet(torch, nn, F, optim):
        x = torch.tensor([3, 1, 2, 3, 1, 3])
        u = torch.unique(x)
        u2, inv = torch.unique(x, return_inverse=True)
        u3, counts = x.unique(return_counts=True)
        u4 = torch.unique(x, sorted=True, return_inverse=True, return_counts=True)
        uc = torch.unique_consecutive(torch.tensor([1, 1, 2, 2, 3, 1]))
        h = torch.histc(torch.tensor([1.0, 2.0, 1.0, 4.0, 2.5]), bins=4, min=0, max=4)
        return (u, u2, inv, u3, counts, u4, uc, torch.bincount(x),
                torch.bincount(x, minlength=6),
                torch.bincount(x, weights=torch.tensor([0.5, 1, 1, 1, 1, 2])), h,
                torch.histc(torch.tensor([1.0, 2.0, 3.0]), bins=3))
    both(snippet)


def test_searchsorted_bucketize():
    def snippet(torch, nn, F, optim):
        seq = torch.tensor([1, 3, 5, 7, 9])
        vals = torch.tensor([[3, 6, 9], [3, 6, 9]])
        bnd = torch.tensor([1.0, 5.0, 10.0])
        return (torch.searchsorted(seq, vals), torch.searchsorted(seq, vals, right=True),
                torch.searchsorted(seq, torch.tensor([0, 10]), side="right"),
                torch.searchsorted(torch.tensor([[1, 3, 5], [2, 4, 6]]),
                                   torch.tensor([[2], [5]])),
                torch.bucketize(torch.tensor([0.5, 5.0, 7.0, 12.0]), bnd),
                torch.bucketize(torch.tensor([0.5, 5.0, 7.0, 12.0]), bnd, right=True),
                torch.searchsorted(seq, 4), torch.searchsorted(seq, vals, out_int32=True).dtype)
    both(snippet)


def test_cdist_diff_meshgrid():
    def snippet(torch, nn, F, optim):
        a = torch.tensor(_rng().standard_normal((4, 3)), requires_grad=True)
        b = torch.tensor(_rng(1).standard_normal((5, 3)))
        d = torch.cdist(a, b)
        d.sum().backward()
        d1 = torch.cdist(a.detach(), b, p=1)
        x = torch.tensor([1, 4, 9, 16, 25])
        gx, gy = torch.meshgrid(torch.arange(3), torch.arange(2), indexing="ij")
        hx, hy = torch.meshgrid(torch.arange(3), torch.arange(2), indexing="xy")
        return (d, a.grad, d1, torch.diff(x), torch.diff(x, n=2), x.diff(),
                torch.diff(torch.arange(6.0).reshape(2, 3), dim=0),
                torch.diff(x, prepend=torch.tensor([0])), gx, gy, hx, hy)
    both(snippet)


def test_tril_indices_block_diag_cartesian():
    def snippet(torch, nn, F, optim):
        return (torch.tril_indices(3, 3), torch.triu_indices(3, 3, offset=1),
                torch.tril_indices(4, 3, -1),
                torch.block_diag(torch.ones(2, 2), torch.tensor([[5.0]]), torch.zeros(1, 3)),
                torch.cartesian_prod(torch.tensor([1, 2]), torch.tensor([3, 4, 5])),
                torch.combinations(torch.tensor([1, 2, 3])),
                torch.tril(torch.ones(3, 3)), torch.triu(torch.ones(3, 3), diagonal=1))
    both(snippet)


def test_pad_sequence():
    def snippet(torch, nn, F, optim):
        from importlib import import_module
        rnn = import_module(torch.__name__ + ".nn.utils.rnn")
        seqs = [torch.tensor([1, 2, 3]), torch.tensor([4]), torch.tensor([5, 6])]
        fs = [torch.ones(2, 3), torch.zeros(4, 3)]
        return (rnn.pad_sequence(seqs), rnn.pad_sequence(seqs, batch_first=True),
                rnn.pad_sequence(seqs, batch_first=True, padding_value=-1),
                rnn.pad_sequence(fs).shape,
                rnn.pad_sequence(seqs, batch_first=True, padding_side="left"),
                torch.nn.utils.rnn.pad_sequence(fs, batch_first=True).shape)
    both(snippet)


def test_tensor_formatting():
    def snippet(torch, nn, F, optim):
        loss = torch.tensor(0.123456)
        x = torch.tensor([[1.0, 2.5], [3.0, -4.0]])
        i = torch.tensor([1, 2, 3])
        r = torch.tensor([1.0, 2.0], requires_grad=True)
        return (f"{loss:.4f}", f"loss={loss.item():.3f}", str(x), repr(i),
                repr(r * 2), str(torch.tensor(3)), f"{torch.tensor(2.5):.1f}",
                "{:.2e}".format(torch.tensor(12345.0)), str(torch.zeros(2, dtype=torch.float64)),
                repr(torch.tensor([], dtype=torch.long)), repr(torch.tensor([True, False])),
                repr(torch.arange(3.0).sum()), str(x.sum().item()), repr(x.shape),
                str(x.size()), repr(torch.tensor(1e-8)), repr(torch.tensor([1e10, 1.0])),
                repr(torch.tensor([0.1, 0.25], dtype=torch.float16)),
                "%.2f" % torch.tensor(1.234), f"{torch.tensor(7):d}")
    both(snippet)


def test_logging_patterns():
    def snippet(torch, nn, F, optim):
        pred = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
        target = torch.tensor([1, 0, 0])
        correct = (pred.argmax(1) == target).sum().item()
        correct2 = (pred.argmax(dim=1) == target).type(torch.float).sum().item()
        acc = 100 * correct / len(target)
        running = 0.0
        running += F.cross_entropy(pred, target).item() * pred.size(0)
        _, predicted = torch.max(pred.data, 1)
        return (correct, correct2, f"Accuracy: {acc:>0.1f}%", round(running, 5), predicted,
                predicted.eq(target).sum().item(), pred.argmax(1).tolist())
    both(snippet)


def test_grad_mode_contexts():
    def snippet(torch, nn, F, optim):
        x = torch.ones(2, requires_grad=True)

        @torch.no_grad()
        def evaluate(t):
            return t * 2

        @torch.inference_mode()
        def infer(t):
            return t * 3

        with torch.inference_mode():
            a = x * 2
            inf = torch.is_inference_mode_enabled()
        with torch.autograd.set_detect_anomaly(True):
            b = (x * 2).sum()
            b.backward()
        with torch.set_grad_enabled(False):
            c = x * 2
        with torch.no_grad():
            with torch.enable_grad():
                e = x * 2
        torch.autograd.set_detect_anomaly(False)
        return (evaluate(x).requires_grad, infer(x).requires_grad, a.requires_grad, inf,
                x.grad, c.requires_grad, e.requires_grad, torch.is_grad_enabled(),
                x.is_inference())
    both(snippet)


def test_inference_mode_results_are_inference_tensors():
    def snippet(torch, nn, F, optim):
        x = torch.ones(2, requires_grad=True)
        with torch.inference_mode():
            a = x * 2
            b = torch.ones(2)
            c = F.relu(x)
        return a.is_inference(), b.is_inference(), c.is_inference(), x.is_inference()
    both(snippet)


def test_format_0d_tensor_without_spec():
    def snippet(torch, nn, F, optim):
        loss = torch.tensor(0.123456)
        n = torch.tensor(3)
        return (f"{loss}", f"{n}", "{}".format(loss), f"loss: {loss}", f"{torch.ones(2)}",
                f"{torch.tensor([1, 2, 3]).sum()}")
    both(snippet)


def test_backward_errors():
    def snippet(torch, nn, F, optim):
        x = torch.ones(2, requires_grad=True)
        y = x * 2
        y.sum().backward()
        return (raised(lambda: (x * 2).backward()),
                raised(lambda: y.sum().backward()),
                raised(lambda: torch.ones(2).sum().backward()),
                raised(lambda: x.numpy()),
                raised(lambda: torch.ones(2, 3) @ torch.ones(2, 3)),
                raised(lambda: torch.ones(2) + torch.ones(3)),
                raised(lambda: torch.ones(3)[5]),
                raised(lambda: torch.tensor([1.0, 2.0]).item()),
                raised(lambda: torch.ones(2).view(3)),
                raised(lambda: x.add_(1)))
    both(snippet)


def test_cuda_call_raises_assertion_error():
    def snippet(torch, nn, F, optim):
        return (raised(lambda: torch.ones(2).cuda()), raised(lambda: torch.ones(2).to("cuda")),
                raised(lambda: torch.zeros(1, device="cuda")))
    both(snippet)


# -- nn usage ------------------------------------------------------------------------

def _init_linear(torch, model):
    """Deterministic weights from NumPy (torch's RNG can't be matched)."""
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.tensor(_rng(i).uniform(-0.5, 0.5, tuple(p.shape)), dtype=p.dtype))


def test_module_subclass_buffers_state_dict():
    def snippet(torch, nn, F, optim):
        class Net(nn.Module):
            def __init__(self, n_in=4, n_hidden=8, n_out=3):
                super().__init__()
                self.fc1 = nn.Linear(n_in, n_hidden)
                self.act = nn.ReLU()
                self.drop = nn.Dropout(0.2)
                self.fc2 = nn.Linear(n_hidden, n_out)
                self.bn = nn.BatchNorm1d(n_hidden)
                self.register_buffer("running", torch.zeros(n_out))
                self.register_buffer("tmp", torch.ones(1), persistent=False)

            def forward(self, x):
                x = self.drop(self.act(self.bn(self.fc1(x))))
                out = self.fc2(x)
                if self.training:
                    self.running.mul_(0.9).add_(0.1 * out.detach().mean(0))
                return out

        model = Net()
        _init_linear(torch, model)
        x = torch.tensor(_rng(5).standard_normal((6, 4)), dtype=torch.float32)
        model.eval()
        y_eval = model(x)
        training_flags = (model.training, model.fc1.training)
        model.train()
        model.drop.p = 0.0
        y_train = model(x)
        sd = model.state_dict()
        model2 = Net()
        res = model2.load_state_dict(sd)
        n_params = sum(p.numel() for p in model.parameters())
        n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
        named = [(n, tuple(p.shape)) for n, p in model.named_parameters()]
        bufs = [n for n, _ in model.named_buffers()]
        return (y_eval, y_train, training_flags, list(sd.keys()), n_params, n_train, named,
                bufs, str(model), model2.running, sd["bn.num_batches_tracked"],
                res.missing_keys, res.unexpected_keys, str(res),
                [n for n, _ in model.named_children()], len(list(model.modules())))
    both(snippet)


def test_nn_init_and_dtype_conversion():
    def snippet(torch, nn, F, optim):
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))

        def init_weights(m):
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)
                nn.init.constant_(m.weight, 0.1)

        model.apply(init_weights)
        torch.manual_seed(0)
        w = torch.empty(3, 5)
        shapes = []
        for fn in (nn.init.xavier_uniform_, nn.init.xavier_normal_, nn.init.kaiming_uniform_,
                   nn.init.kaiming_normal_, nn.init.orthogonal_, nn.init.normal_,
                   nn.init.uniform_, nn.init.trunc_normal_, nn.init.ones_):
            shapes.append(fn(w).shape)
        nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
        gain = nn.init.calculate_gain("relu")
        model.to(torch.float64)
        out = model(torch.ones(2, 3, dtype=torch.float64))
        model.float()
        return (out, gain, shapes, model[0].weight.dtype, model[2].bias,
                nn.init.calculate_gain("tanh"), nn.init.calculate_gain("leaky_relu", 0.2))
    both(snippet)


def test_training_loop_adam_scheduler_clip():
    def snippet(torch, nn, F, optim):
        X = torch.tensor(_rng(1).standard_normal((32, 5)), dtype=torch.float32)
        Y = torch.tensor(_rng(2).integers(0, 3, 32))
        model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 3))
        _init_linear(torch, model)
        optimizer = optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-4)
        scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
        criterion = nn.CrossEntropyLoss()
        lrs, norms, log = [], [], []
        for epoch in range(5):
            model.train()
            for i in range(0, 32, 8):
                xb, yb = X[i:i + 8], Y[i:i + 8]
                optimizer.zero_grad()
                loss = criterion(model(xb), yb)
                loss.backward()
                norms.append(nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0))
                optimizer.step()
            scheduler.step()
            lrs.append(scheduler.get_last_lr())
            lrs.append(optimizer.param_groups[0]["lr"])
            model.eval()
            with torch.no_grad():
                acc = (model(X).argmax(1) == Y).float().mean()
            log.append(f"epoch {epoch}: loss {loss.item():.4f} acc {acc:.3f}")
        return lrs, norms, log, model[0].weight, list(optimizer.state_dict()["state"].keys())
    both(snippet, rtol=1e-4, atol=1e-5)


def test_schedulers_per_epoch():
    def snippet(torch, nn, F, optim):
        out = []
        for make in (lambda o: optim.lr_scheduler.ExponentialLR(o, gamma=0.9),
                     lambda o: optim.lr_scheduler.CosineAnnealingLR(o, T_max=5),
                     lambda o: optim.lr_scheduler.MultiStepLR(o, milestones=[2, 4], gamma=0.1),
                     lambda o: optim.lr_scheduler.LambdaLR(o, lambda e: 0.95 ** e),
                     lambda o: optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=6),
                     lambda o: optim.lr_scheduler.LinearLR(o, start_factor=0.5, total_iters=3)):
            p = nn.Parameter(torch.ones(2))
            o = optim.SGD([p], lr=0.1, momentum=0.9)
            s = make(o)
            lrs = []
            for _ in range(6):
                o.step()
                s.step()
                lrs.append(round(o.param_groups[0]["lr"], 10))
            out.append(lrs)
        p = nn.Parameter(torch.ones(2))
        o = optim.SGD([p], lr=0.1)
        plateau = optim.lr_scheduler.ReduceLROnPlateau(o, mode="min", factor=0.5, patience=1)
        for v in [1.0, 0.9, 0.95, 0.96, 0.97, 0.98]:
            plateau.step(v)
            out.append(o.param_groups[0]["lr"])
        return out
    both(snippet)


def test_print_model_and_parameters():
    def snippet(torch, nn, F, optim):
        class ConvNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(1, 6, 5)
                self.pool = nn.MaxPool2d(2, 2)
                self.conv2 = nn.Conv2d(6, 16, 3, padding=1)
                self.fc = nn.Linear(16 * 2 * 2, 10)
                self.seq = nn.Sequential(nn.Linear(10, 10), nn.LeakyReLU(0.1),
                                         nn.Dropout(p=0.5))
                self.blocks = nn.ModuleList([nn.Linear(10, 10) for _ in range(2)])
                self.heads = nn.ModuleDict({"a": nn.Linear(10, 1)})
                self.emb = nn.Embedding(10, 3, padding_idx=0)
                self.ln = nn.LayerNorm(10)
                self.lstm = nn.LSTM(3, 4, batch_first=True)

            def forward(self, x):
                x = self.pool(F.relu(self.conv1(x)))
                x = self.pool(F.relu(self.conv2(x)))
                x = torch.flatten(x, 1)
                return self.seq(self.fc(x))

        model = ConvNet()
        out = model(torch.zeros(2, 1, 14, 14))
        return (str(model), out.shape, sum(p.numel() for p in model.parameters()),
                [(n, p.shape) for n, p in model.named_parameters()][:6],
                repr(nn.Linear(3, 2, bias=False)), repr(nn.Conv1d(2, 4, 3, stride=2)),
                repr(nn.BatchNorm2d(8)), repr(nn.GELU()), repr(nn.Softmax(dim=1)),
                repr(nn.CrossEntropyLoss()), repr(nn.Identity()))
    both(snippet)


def test_parameter_repr_and_optimizer_repr():
    def snippet(torch, nn, F, optim):
        p = nn.Parameter(torch.tensor([1.0, 2.0]))
        lin = nn.Linear(2, 1)
        with torch.no_grad():
            lin.weight.fill_(0.5)
        o = optim.SGD([p], lr=0.1, momentum=0.9)
        a = optim.Adam(lin.parameters(), lr=1e-3)
        return (repr(p), repr(lin.weight), str(p.data), isinstance(p, torch.Tensor),
                type(p).__name__, repr(o), repr(a), p.requires_grad,
                nn.Parameter(torch.ones(1), requires_grad=False).requires_grad)
    both(snippet)


def test_state_dict_save_load_roundtrip(tmp_path):
    def snippet(torch, nn, F, optim):
        model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
        _init_linear(torch, model)
        opt = optim.Adam(model.parameters(), lr=0.01)
        model(torch.ones(4, 2)).sum().backward()
        opt.step()
        path = tmp_path / f"ckpt_{torch.__name__}.pt"
        torch.save({"epoch": 3, "model_state_dict": model.state_dict(),
                    "optimizer_state_dict": opt.state_dict(), "loss": 0.5}, path)
        ck = torch.load(path)
        model2 = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
        model2.load_state_dict(ck["model_state_dict"])
        opt2 = optim.Adam(model2.parameters(), lr=0.01)
        opt2.load_state_dict(ck["optimizer_state_dict"])
        model2.eval()
        return (ck["epoch"], ck["loss"], model2(torch.ones(1, 2)),
                opt2.state_dict()["param_groups"][0]["lr"], list(ck.keys()),
                opt2.state_dict()["state"][0]["step"])
    both(snippet)


# -- everyday extras (chainrule/_misc_ops.py) --------------------------------------------

def test_diff_trapezoid_angles():
    def snippet(torch, nn, F, optim):
        t = torch.tensor(_rng().standard_normal((3, 5)), requires_grad=True)
        x = torch.linspace(0, 2, 5, dtype=torch.float64)
        out = (torch.diff(t).pow(2).sum() + torch.diff(t, n=2, dim=1).sum()
               + torch.diff(t, dim=0, append=t[:1]).abs().sum()
               + torch.trapezoid(t).sum() + torch.trapezoid(t, x).sum()
               + torch.trapezoid(t, dx=0.5, dim=0).sum() + torch.trapz(t, x).sum()
               + torch.cumulative_trapezoid(t, x).sum() + torch.deg2rad(t).sum()
               + torch.rad2deg(t).mean() + torch.sinc(t).sum() + torch.sinc(t * 0).sum())
        out.backward()
        b = torch.tensor([True, False, False, True])
        return (out, t.grad, torch.diff(b), torch.diff(torch.tensor([1, 4, 9, 16]), n=2),
                torch.diff(t, n=2, dim=0, prepend=t), torch.deg2rad(torch.tensor([180, 90])),
                torch.rad2deg(torch.tensor([math.pi])), torch.sinc(torch.tensor([0, 1, 2])),
                torch.diff(t).grad_fn.name(), torch.deg2rad(t).grad_fn.name(),
                torch.sinc(t).grad_fn.name(), t.diff(dim=0), t.deg2rad(), t.sinc(),
                torch.trapezoid(torch.tensor([1.0, 2.0, 3.0])),
                torch.cumulative_trapezoid(torch.tensor([1.0, 2.0, 3.0]), dx=2.0),
                raised(torch.diff, torch.tensor([1, 2, 4]), prepend=torch.tensor(0)),
                raised(torch.diff, torch.tensor(3)), torch.diff(torch.tensor([1, 2]), n=5),
                torch.diff(torch.arange(6).reshape(2, 3), dim=1,
                           prepend=torch.tensor([[0], [0]])))
    both(snippet)


def test_quantile_cov_corrcoef():
    def snippet(torch, nn, F, optim):
        data = torch.tensor(_rng(3).standard_normal((4, 7)), requires_grad=True)
        q = torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64)
        loss = (torch.quantile(data, 0.3, dim=1).sum() + torch.quantile(data, q).sum()
                + data.quantile(q, dim=0, keepdim=True).sum()
                + torch.cov(data).sum() + torch.corrcoef(data).sum())
        loss.backward()
        nan = torch.tensor([[1.0, float("nan"), 3.0, 2.0], [4.0, 0.0, 1.0, 2.0]])
        outs = [torch.quantile(data.detach(), 0.5, dim=1, interpolation=m)
                for m in ("linear", "lower", "higher", "midpoint", "nearest")]
        return (loss, data.grad, outs, torch.quantile(nan, 0.5, dim=1),
                torch.nanquantile(nan, 0.5, dim=1), torch.nanquantile(nan, q.float()),
                torch.quantile(data, q, dim=1, keepdim=True).shape,
                torch.quantile(data, 0.2, keepdim=True).shape,
                torch.quantile(torch.tensor([1.0, 2.0, 3.0, 4.0]), 0.5),
                torch.cov(torch.tensor([1.0, 2.0, 4.0])), torch.cov(data, correction=0),
                torch.cov(data, fweights=torch.tensor([1, 2, 1, 1, 3, 1, 1]),
                          aweights=torch.rand(7).abs() * 0 + 0.5),
                torch.corrcoef(torch.tensor([[1.0, 2.0, 3.0], [3.0, 1.0, 0.5]])),
                raised(torch.quantile, torch.tensor([1, 2]), 0.5),
                raised(torch.quantile, data, 1.5))
    both(snippet)


def test_histc_histogram():
    def snippet(torch, nn, F, optim):
        x = torch.tensor(_rng(4).standard_normal(200), dtype=torch.float32)
        h = torch.histogram(x, bins=5)
        h2 = torch.histogram(x.double(), bins=torch.tensor([-3.0, -1.0, 0.0, 2.0],
                                                           dtype=torch.float64))
        h3 = torch.histogram(x, bins=4, range=(-1.0, 1.0), density=True)
        return (torch.histc(x, bins=10), torch.histc(x, bins=4, min=-1, max=1),
                x.histc(bins=3, min=0, max=3), torch.histc(torch.tensor([2.0, 2.0]), bins=3),
                h.hist, h.bin_edges, h2[0], h2[1], h3.hist, type(h).__name__,
                raised(torch.histc, torch.tensor([1, 2, 3])))
    both(snippet)


def test_integer_helpers_and_predicates():
    def snippet(torch, nn, F, optim):
        a = torch.tensor([12, 18, -7, 0])
        b = torch.tensor([8, 27, 21, 5])
        x = torch.tensor([-1.5, 0.0, 2.0])
        rows, cols = torch.unravel_index(torch.tensor([0, 5, 7]), (3, 4))
        return (torch.gcd(a, b), torch.lcm(a, b), a.gcd(b), torch.heaviside(x, torch.tensor(0.5)),
                torch.ldexp(torch.tensor([1.0, 3.0]), torch.tensor([2, 3])),
                torch.positive(x), rows, cols, torch.unravel_index(torch.tensor(5), (2, 3)),
                torch.is_nonzero(torch.tensor([3])), torch.is_nonzero(torch.tensor(0.0)),
                raised(torch.is_nonzero, torch.tensor([1, 2])),
                torch.is_same_size(a, b), torch.is_signed(a), torch.is_signed(a.to(torch.uint8)),
                torch.typename(x), torch.typename(torch.tensor([1])),
                x.is_signed(), x.is_nonzero() if False else None)
    both(snippet)


def test_runtime_knobs():
    def snippet(torch, nn, F, optim):
        torch.set_num_threads(2)
        torch.use_deterministic_algorithms(True)
        det = torch.are_deterministic_algorithms_enabled()
        torch.use_deterministic_algorithms(False)
        torch.set_float32_matmul_precision("high")
        prec = torch.get_float32_matmul_precision()
        torch.set_float32_matmul_precision("highest")
        return (torch.get_num_threads(), det, torch.are_deterministic_algorithms_enabled(),
                prec,
                torch.backends.cudnn.is_available() if hasattr(torch.backends, "cudnn") else None)
    both(snippet)


def test_compile_is_identity_here():
    # Real torch.compile costs seconds to import dynamo; chainrule has no compiler, so
    # compile must hand back something that computes exactly what the original does.
    torch, nn, _, _ = _libs("chainrule")
    model = nn.Linear(2, 2)
    x = torch.ones(3, 2)

    @torch.compile
    def f(t):
        return t * 2

    @torch.compile(mode="reduce-overhead", fullgraph=True)
    def g(t):
        return t + 1

    assert torch.equal(torch.compile(model)(x), model(x))
    assert torch.equal(f(x), x * 2) and torch.equal(g(x), x + 1)


def test_is_cpu_get_device():
    def snippet(torch, nn, F, optim):
        x = torch.ones(2)
        return x.is_cpu, x.get_device(), x.is_cuda
    both(snippet)


def test_inplace_sampling_methods():
    def snippet(torch, nn, F, optim):
        torch.manual_seed(0)
        w = torch.empty(50, 4)
        checks = [bool(((w.uniform_(-2, 3) >= -2) & (w < 3)).all()),
                  w.normal_(0, 0.01).abs().max().item() < 1,
                  bool(((w.bernoulli_(0.3) == 0) | (w == 1)).all()),
                  bool((w.exponential_() > 0).all()), bool((w.geometric_(0.5) >= 1).all()),
                  bool((w.log_normal_() > 0).all()), w.cauchy_().shape,
                  bool((w.random_(5) == w.floor()).all()), bool((w.random_(2, 4) >= 2).all()),
                  bool((torch.zeros(9, dtype=torch.int64).random_(3) < 3).all()),
                  torch.zeros(3).bernoulli_(torch.tensor([0.0, 1.0, 1.0])).tolist(),
                  torch.tensor([[0.0, 1.0], [1.0, 0.0]]).multinomial(1).tolist(),
                  torch.full((4,), 1.0).bernoulli().tolist(), w.uniform_() is w]
        p = torch.zeros(3, requires_grad=True)
        errors = [raised(p.uniform_), raised(p.normal_), raised(p.bernoulli_),
                  raised(torch.zeros(2, dtype=torch.int64).uniform_),
                  raised(torch.zeros(2).uniform_, 3, 1)]
        with torch.no_grad():
            p.uniform_(-0.1, 0.1)
        return checks, errors, p.requires_grad, p.is_leaf, w.dtype
    both(snippet)


# -- wave 2: daily tensor code -----------------------------------------------------------

def test_legacy_constructors():
    def snippet(torch, nn, F, optim):
        return (torch.FloatTensor([1, 2]), torch.LongTensor([1, 2]), torch.Tensor([1, 2]),
                torch.Tensor(2, 3).shape, torch.FloatTensor(3).dtype, torch.DoubleTensor([1]),
                torch.IntTensor([3]), torch.BoolTensor([True]), torch.ByteTensor([1]),
                torch.Tensor().shape, torch.tensor([torch.tensor(1.0), torch.tensor(2.0)]),
                torch.stack([torch.tensor(1.0), torch.tensor(2.0)]),
                torch.tensor([np.float32(1.0), np.float32(2.0)]),
                torch.tensor(np.array([1, 2], dtype=np.int32)),
                isinstance(torch.ones(1), torch.FloatTensor))
    both(snippet)


def test_shape_manipulation():
    def snippet(torch, nn, F, optim):
        x = torch.arange(24.0).reshape(2, 3, 4)
        a, b = torch.chunk(x, 2, dim=2)
        parts = torch.split(x, [1, 2], dim=1)
        return (x.view(-1, 4).shape, x.view(6, -1), x.flatten(), x.flatten(1).shape,
                x.unsqueeze(1).shape, x[:, :1].squeeze(1).shape, x.squeeze().shape,
                torch.ones(3, 1).expand_as(torch.ones(3, 4)), x.repeat(1, 2, 1).shape,
                a.shape, b.shape, [p.shape for p in parts], x.reshape(4, -1).shape,
                x.permute(0, 2, 1).reshape(2, -1), x.contiguous().view(2, 12).shape,
                torch.flip(x, dims=[0]), x.roll(1, dims=2), x.unbind(0)[1], x.movedim(0, -1).shape,
                x.view(2, 3, 2, 2).shape, torch.ones(2, 3).repeat_interleave(2, dim=0).shape,
                x.swapaxes(0, 1).shape, x.narrow(2, 1, 2), torch.ones(5).split(2),
                tuple(x.size()[1:]), x.shape[-1], x.new_ones(x.shape[:2]).shape)
    both(snippet)


def test_size_slices_are_sizes():
    def snippet(torch, nn, F, optim):
        x = torch.ones(2, 3, 4)
        return x.shape[1:], x.size()[:-1], repr(x.shape[1:]), x.shape[1:].numel()
    both(snippet)


def test_reductions_users_write():
    def snippet(torch, nn, F, optim):
        x = torch.tensor(_rng(7).standard_normal((4, 5)), dtype=torch.float32)
        vals, idx = torch.max(x, dim=1)
        mx = x.max(1)
        top = torch.topk(x, 2)
        srt = torch.sort(x, dim=1, descending=True)
        return (vals, idx, mx[0], mx.indices, x.max(), x.argmax(), x.argmax(dim=1, keepdim=True),
                top.values, top.indices, srt[0], srt[1], x.std(), x.std(dim=0),
                x.var(unbiased=False),
                x.var(dim=1, keepdim=True), x.mean(dim=(0, 1)), torch.sum(x, dim=(0, 1)),
                x.sum(0, keepdim=True), x.prod(1), x.cumsum(0), x.norm(), torch.norm(x, dim=1),
                x.norm(p=1), x.abs().min(dim=0), torch.median(x), x.median(dim=1).values,
                x.logsumexp(1), torch.mean(torch.tensor([1, 2, 3]).float()), x.amax(1),
                x.amin(dim=(0, 1)), torch.min(x, torch.zeros_like(x)), x.all(), (x > 0).any(1),
                torch.std_mean(x, dim=0), torch.var_mean(x), x.mode(1).values if False else None,
                x.kthvalue(2, dim=1).values, x.nansum(), x.count_nonzero(dim=0), x.aminmax())
    both(snippet)


def test_matmul_family():
    def snippet(torch, nn, F, optim):
        a = torch.tensor(_rng(8).standard_normal((2, 3, 4)))
        b = torch.tensor(_rng(9).standard_normal((2, 4, 5)))
        m = torch.tensor(_rng(10).standard_normal((3, 3))) + 3 * torch.eye(3, dtype=torch.float64)
        v = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
        return (a @ b, torch.bmm(a, b), torch.matmul(a, b[0]), torch.einsum("bij,bjk->bik", a, b),
                torch.einsum("ii", m), torch.einsum("i,j->ij", v, v), torch.outer(v, v),
                torch.dot(v, v), m @ v, torch.mv(m, v), torch.inverse(m), torch.det(m),
                torch.linalg.norm(m), torch.linalg.inv(m), torch.linalg.solve(m, v),
                torch.linalg.eigh(m @ m.T)[0], torch.trace(m), torch.diag(m), torch.diag(v),
                torch.linalg.matrix_norm(m, ord="fro"), torch.linalg.vector_norm(v, ord=2),
                torch.tensordot(a, b, dims=([2], [1])).shape, torch.kron(m, torch.eye(2,
                                                                               dtype=torch.float64)).shape,
                torch.cross(v, v.flip(0), dim=0), torch.linalg.det(m))
    both(snippet)


def test_printing_tensors():
    def snippet(torch, nn, F, optim):
        out = [str(torch.arange(2000)), str(torch.arange(20.0).reshape(4, 5) / 3),
               repr(torch.tensor([1e-5, 1.0, 1e5])), repr(torch.tensor([123456789.0])),
               repr(torch.zeros(0, 3)), repr(torch.arange(8.0).reshape(2, 2, 2)),
               repr(torch.tensor([[1, -2], [300, 4]])), repr(torch.tensor([1.5, float("nan"),
                                                                          float("inf")])),
               repr(torch.ones(2, requires_grad=True)), repr(torch.ones(2, dtype=torch.float64)),
               repr(torch.tensor(2, dtype=torch.int32)), repr(torch.arange(1500.0).reshape(30, 50)),
               repr(torch.tensor([0.1, 0.2]) * 3), repr(torch.tensor([1.0, 2.0]).int())]
        torch.set_printoptions(precision=2)
        out.append(repr(torch.tensor([1.23456, 2.5])))
        torch.set_printoptions(sci_mode=False)
        out.append(repr(torch.tensor([1e-6, 1.0])))
        torch.set_printoptions(profile="default")
        out.append(repr(torch.tensor([1.23456, 1e-6])))
        return out
    both(snippet)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # see test_numpy_asarray_...
def test_python_protocols():
    def snippet(torch, nn, F, optim):
        x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
        s = torch.tensor(2.5)
        i = torch.tensor(1)
        rows = [r for r in x]
        lst = ["a", "b", "c"]
        return (len(x), rows, list(torch.arange(3)), lst[i], list(range(torch.tensor(3))),
                math.sqrt(s), int(s), float(i), round(s.item(), 1), sum([s, s]),
                max([torch.tensor(1.0), torch.tensor(3.0)]), 2.0 in torch.tensor([1.0, 2.0]),
                raised(bool, x), bool(torch.tensor([0.0])),
                [t.item() for t in x.flatten()], sorted(torch.tensor([3, 1, 2]).tolist()),
                torch.tensor([1, 2]) * np.array([3, 4]) if False else None,
                np.asarray(x).shape, str(np.array(x).dtype), x.numpy().tolist(),
                np.float32(s) == 2.5, np.mean(x.numpy()).item(), hash(x) == hash(x),
                x.__len__(), s.__index__() if False else None, i.__index__(), x.dim(),
                abs(torch.tensor(-2)), divmod(7, 2))
    both(snippet)


def test_numpy_array_operands():
    def snippet(torch, nn, F, optim):
        x = torch.tensor([1.0, 2.0])
        r1 = x + np.array([1.0, 1.0])
        r2 = x * np.float32(3)
        r3 = torch.tensor([1, 2]) + np.int32(1)
        return r1, r2, r3, (x > np.float64(1.5))
    both(snippet)


def test_autograd_apis():
    def snippet(torch, nn, F, optim):
        x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x ** 3
        g, = torch.autograd.grad(y.sum(), x, create_graph=True)
        g2, = torch.autograd.grad(g.sum(), x)
        z = x * 2
        z.retain_grad()
        seen = []
        h = x.register_hook(lambda grad: seen.append(grad.clone()))
        w = (z ** 2)
        w.backward(torch.ones_like(w), retain_graph=True)
        w.sum().backward()
        h.remove()
        jac = torch.autograd.functional.jacobian(lambda t: t ** 2, x.detach())
        hess = torch.autograd.functional.hessian(lambda t: (t ** 3).sum(), x.detach())
        u = torch.ones(2, requires_grad=True)
        out = (u * 3).sum()
        gs = torch.autograd.grad(out, [u], retain_graph=True, allow_unused=True)
        v = torch.ones(2, requires_grad=True)
        unused = torch.autograd.grad(out, [u, v], allow_unused=True)
        return (g, g2, z.grad, x.grad, seen, jac, hess, gs, unused[1],
                raised(torch.autograd.grad, out, [v]), g.requires_grad, z.is_leaf)
    both(snippet)


def test_functional_calls():
    def snippet(torch, nn, F, optim):
        x = torch.tensor(_rng(11).standard_normal((4, 5)), dtype=torch.float32)
        t = torch.tensor([0, 3, 1, 4])
        img = torch.tensor(_rng(12).standard_normal((1, 2, 6, 6)), dtype=torch.float32)
        k = torch.tensor(_rng(13).standard_normal((3, 2, 3, 3)), dtype=torch.float32)
        return (F.relu(x), F.softmax(x, dim=-1), F.log_softmax(x, dim=1),
                F.cross_entropy(x, t), F.cross_entropy(x, t, label_smoothing=0.1),
                F.cross_entropy(x, t, reduction="none"), F.nll_loss(F.log_softmax(x, 1), t),
                F.binary_cross_entropy(torch.sigmoid(x), (x > 0).float()),
                F.binary_cross_entropy_with_logits(x, (x > 0).float(), pos_weight=torch.ones(5)),
                F.mse_loss(x, x * 0.5), F.l1_loss(x, x * 0), F.smooth_l1_loss(x, x * 0.2),
                F.huber_loss(x, x * 0, delta=0.5), F.pad(x, (1, 2)), F.pad(img, (1, 1, 2, 0),
                                                                           mode="reflect").shape,
                F.interpolate(img, scale_factor=2, mode="nearest").shape,
                F.interpolate(img, size=(3, 3), mode="bilinear", align_corners=False),
                F.conv2d(img, k, padding=1), F.max_pool2d(img, 2), F.avg_pool2d(img, 3, stride=3),
                F.adaptive_avg_pool2d(img, (1, 1)).flatten(1), F.dropout(x, 0.5, training=False),
                F.normalize(x, dim=1), F.gelu(x), F.silu(x), F.leaky_relu(x, 0.1), F.elu(x),
                F.softplus(x), F.tanh(x), F.sigmoid(x), F.hardtanh(x), F.kl_div(
                    F.log_softmax(x, 1), F.softmax(x * 2, 1), reduction="batchmean"),
                F.cosine_similarity(x, x.flip(0)), F.one_hot(t, 6),
                F.embedding(t, torch.eye(5)), F.linear(x, torch.ones(2, 5), torch.zeros(2)),
                F.layer_norm(x, (5,)), F.glu(torch.ones(2, 4)), F.logsigmoid(x),
                F.softmin(x, 1), F.relu6(x * 4), F.mish(x), F.hardswish(x), F.selu(x))
    both(snippet, rtol=1e-4, atol=1e-5)


def test_module_utilities():
    def snippet(torch, nn, F, optim):
        import copy
        from collections import OrderedDict
        model = nn.Sequential(OrderedDict([("fc1", nn.Linear(3, 4)), ("act", nn.ReLU()),
                                           ("fc2", nn.Linear(4, 2))]))
        _init_linear(torch, model)
        for p in model.fc1.parameters():
            p.requires_grad = False
        trainable = [n for n, p in model.named_parameters() if p.requires_grad]
        opt = optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1)
        feats = []
        handle = model.act.register_forward_hook(lambda m, i, o: feats.append(o.detach()))
        out = model(torch.ones(2, 3))
        out.sum().backward()
        opt.step()
        handle.remove()
        model(torch.ones(1, 3))
        clone = copy.deepcopy(model)
        model.zero_grad()
        model.requires_grad_(True)
        opt.add_param_group({"params": model.fc1.parameters(), "lr": 0.01})
        mods = [n for n, _ in model.named_modules()]
        lst = nn.ModuleList()
        lst.append(nn.Linear(1, 1))
        lst.extend([nn.ReLU()])
        return (trainable, feats, clone.fc2.weight, model.fc2.weight.grad, mods, len(lst),
                [type(m).__name__ for m in model.children()], model.fc1.weight.requires_grad,
                len(opt.param_groups), opt.param_groups[1]["lr"], model[0] is model.fc1,
                str(lst), model.fc1.in_features, model.fc2.out_features,
                next(model.parameters()).dtype, next(model.parameters()).device)
    both(snippet)


def test_data_pipeline():
    def snippet(torch, nn, F, optim):
        from importlib import import_module
        data = import_module(torch.__name__ + ".utils.data")
        X = torch.arange(20.0).reshape(10, 2)
        y = torch.arange(10)
        ds = data.TensorDataset(X, y)
        dl = data.DataLoader(ds, batch_size=4, shuffle=False)
        batches = [(xb.shape, yb.tolist()) for xb, yb in dl]
        dl2 = data.DataLoader(ds, batch_size=3, drop_last=True)

        class Squares(data.Dataset):
            def __len__(self):
                return 5

            def __getitem__(self, i):
                return torch.tensor([float(i)]), i * i

        sq = [(a.shape, b) for a, b in data.DataLoader(Squares(), batch_size=2)]
        g = torch.Generator().manual_seed(0)
        tr, va = data.random_split(ds, [8, 2], generator=g)
        sh = sorted(int(v) for _, yb in data.DataLoader(ds, batch_size=3, shuffle=True)
                    for v in yb)
        return (len(ds), ds[3], batches, len(dl), len(dl2), sq, len(tr), len(va), sh,
                [b[1].tolist() for b in sq] if False else None, type(ds[0]).__name__)
    both(snippet)


def test_scalar_conversion_error_types():
    def snippet(torch, nn, F, optim):
        x = torch.ones(2)
        return raised(float, x), raised(int, x), raised(x.item), raised(complex, x)
    both(snippet)


def test_numpy_asarray_without_deprecation_warning():
    """NumPy 2 passes copy= to __array__: chainrule's takes it without a DeprecationWarning
    (torch 2.13's own __array__ warns on np.array(t, copy=True), so only chainrule runs under
    the error filter; the values are compared with torch's)."""
    import warnings

    def arrays(lib):
        x = lib.ones(2)
        return np.asarray(x), np.array(x, copy=True), np.asarray(x, dtype=np.float64)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = arrays(chainrule)
    theirs = arrays(torch_lib)
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


# -- device picking and mixed precision (chainrule/cuda, accelerator.py, amp.py) --------------

@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")
def test_device_picking_idioms():
    def snippet(torch, nn, F, optim):
        device = (torch.accelerator.current_accelerator().type
                  if torch.accelerator.is_available() else "cpu")
        dev2 = ("cuda" if torch.cuda.is_available()
                else "mps" if torch.backends.mps.is_available() else "cpu")
        model = nn.Linear(2, 1).to(device)
        x = torch.ones(3, 2).to(device, non_blocking=True)
        torch.cuda.empty_cache()
        torch.cuda.manual_seed_all(0)
        torch.cuda.synchronize() if torch.cuda.is_available() else None
        return (device, dev2, model(x).shape, torch.accelerator.device_count(),
                torch.accelerator.current_accelerator(), torch.cuda.device_count(),
                torch.cuda.memory_allocated(), torch.cuda.max_memory_allocated(),
                torch.cuda.is_bf16_supported(), torch.cuda.is_initialized(),
                raised(torch.cuda.current_device), raised(torch.cuda.get_device_name, 0),
                raised(torch.accelerator.current_device_index),
                torch.backends.cudnn.is_available())
    both(snippet)


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")
def test_amp_training_loop():
    def snippet(torch, nn, F, optim):
        X = torch.tensor(_rng(20).standard_normal((16, 3)), dtype=torch.float32)
        Y = torch.tensor(_rng(21).standard_normal((16, 1)), dtype=torch.float32)
        out = []
        for scaler in (torch.amp.GradScaler("cpu"), torch.amp.GradScaler(enabled=False),
                       torch.cuda.amp.GradScaler(), torch.amp.GradScaler("cpu", init_scale=4.0,
                                                                         growth_interval=2)):
            model = nn.Linear(3, 1)
            _init_linear(torch, model)
            opt = optim.SGD(model.parameters(), lr=0.05)
            scales = []
            for step in range(4):
                opt.zero_grad()
                with torch.autocast(device_type="cuda", dtype=torch.float16,
                                    enabled=scaler.is_enabled() and False):
                    loss = F.mse_loss(model(X), Y)
                if step == 2:
                    loss = loss * float("inf")
                scaler.scale(loss).backward()
                scaler.unscale_(opt)
                nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                scaler.step(opt)
                scaler.update()
                scales.append(scaler.get_scale())
            out.append((scales, model.weight, scaler.is_enabled(), scaler.state_dict()))
        s = torch.amp.GradScaler("cpu")
        p = nn.Parameter(torch.ones(2))
        o = optim.SGD([p], lr=0.1)
        scaled = s.scale([(p * 2).sum(), ((p * 3).sum(),)])
        scaled[0].backward()
        errors = [raised(s.scale, 3.0)]
        s.unscale_(o)
        errors.append(raised(s.unscale_, o))
        s.step(o)
        errors.append(raised(s.step, o))
        return out, scaled, p, errors, scaled[0].grad_fn.name()
    both(snippet)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_autocast_disabled_and_decorator():
    def snippet(torch, nn, F, optim):
        x = torch.ones(2, 2)

        @torch.autocast(device_type="cpu", enabled=False)
        def f(a):
            return a @ a

        with torch.autocast("cpu", enabled=False):
            y = x @ x
        with torch.autocast("cuda"):
            z = x @ x
        with torch.cuda.amp.autocast():
            w = x @ x
        from importlib import import_module
        amp = import_module(torch.__name__ + ".amp")
        return (y, z, w, f(x), amp.autocast("cuda").fast_dtype, raised(torch.autocast, 0))
    both(snippet)


# -- torch.testing, torch.special, torch.random ---------------------------------------

def test_testing_assert_close():
    def snippet(torch, nn, F, optim):
        from importlib import import_module
        T = import_module(torch.__name__ + ".testing").assert_close

        def report(*args, **kwargs):
            try:
                T(*args, **kwargs)
            except Exception as e:  # noqa: BLE001 - the class and text are compared
                return type(e).__name__, str(e)
            return None

        a = torch.tensor([1.0, 2.0, 3.0])
        return [report(a, a + 1e-7), report(a, torch.tensor([1.0, 2.5, 3.0])),
                report(a, a.double()), report(a, a.double(), check_dtype=False),
                report(a, a[:2]), report(1.0, 1.0 + 1e-9), report(1.0, 1.1),
                report([a, a], (a, a)), report({"x": a}, {"x": a * 2}),
                report([a, [a]], [a, [a * 2]]), report(torch.tensor([1, 2]), torch.tensor([1, 3])),
                report(torch.tensor([float("nan")]), torch.tensor([float("nan")])),
                report(torch.tensor([float("nan")]), torch.tensor([float("nan")]), equal_nan=True),
                report(a, a * 1.01, rtol=0.1, atol=0), report(a, a * 2, msg="custom"),
                report(a, a * 2, rtol=0.1), report(np.array([1.0, 2.0]), np.array([1.0, 2.0])),
                report(torch.ones(2, 2), torch.tensor([[1.0, 1.0], [1.0, 5.0]])),
                report(torch.tensor(True), torch.tensor(False)), report(True, False), report(3, 4),
                report(torch.ones(2, requires_grad=True), torch.ones(2)),
                report(torch.tensor(1.0), torch.tensor(1.5)),
                report(torch.tensor(3), torch.tensor(4)),
                report(torch.ones(3, dtype=torch.float16),
                       torch.ones(3, dtype=torch.float16) * 1.01),
                report([1.0, 2.0], [1.0, 2.0]), report({"a": 1.0}, {"a": 1.5})]
    both(snippet)


def test_special_functions():
    def snippet(torch, nn, F, optim):
        x = torch.tensor([0.1, 0.5, 0.9, 1e-4], dtype=torch.float64, requires_grad=True)
        s = torch.special
        outs = [s.expit(x), s.logit(x), s.erf(x), s.erfc(x), s.erfinv(x), s.gammaln(x + 1),
                s.digamma(x + 1), s.psi(x + 1), s.ndtr(x), s.ndtri(x), s.log_ndtr(x - 3),
                s.entr(x), s.xlogy(x, x), s.xlog1py(x, x), s.sinc(x), s.expm1(x), s.log1p(x),
                s.exp2(x), s.multigammaln(x + 2, 3), s.polygamma(1, x + 1), s.round(x * 10),
                s.softmax(x, 0), s.log_softmax(x, dim=0), s.logsumexp(x, 0)]
        total = sum(o.sum() for o in outs)
        total.backward()
        return (outs, x.grad, s.entr(torch.tensor([-1.0, 0.0, 2.0])),
                s.xlog1py(torch.tensor([0.0, 2.0]), torch.tensor([float("nan"), 1.0])))
    both(snippet)


def test_random_module_fork_rng():
    def snippet(torch, nn, F, optim):
        torch.random.manual_seed(123)
        with torch.random.fork_rng():
            a = torch.rand(3)
        b = torch.rand(3)
        state = torch.random.get_rng_state()
        c = torch.randn(2)
        torch.random.set_rng_state(state)
        d = torch.randn(2)
        return (torch.equal(a, b), torch.equal(c, d), torch.random.initial_seed(),
                isinstance(torch.random.default_generator, torch.Generator))
    both(snippet)


def test_packed_sequences_with_lstm():
    def snippet(torch, nn, F, optim):
        from importlib import import_module
        rnn_utils = import_module(torch.__name__ + ".nn.utils.rnn")
        seqs = [torch.tensor(_rng(30 + i).standard_normal((n, 3)), dtype=torch.float32)
                for i, n in enumerate((4, 2, 3))]
        lengths = torch.tensor([len(s) for s in seqs])
        padded = rnn_utils.pad_sequence(seqs, batch_first=True)
        lstm = nn.LSTM(3, 5, batch_first=True)
        _init_linear(torch, lstm)
        packed = rnn_utils.pack_padded_sequence(padded, lengths, batch_first=True,
                                                enforce_sorted=False)
        out, (h, c) = lstm(packed)
        unpacked, out_lens = rnn_utils.pad_packed_sequence(out, batch_first=True)
        loss = unpacked.sum() + h.sum()
        loss.backward()
        packed2 = rnn_utils.pack_sequence(seqs, enforce_sorted=False)
        gru = nn.GRU(3, 2)
        _init_linear(torch, gru)
        o2, h2 = gru(packed2)
        return (padded.shape, packed.batch_sizes, packed.sorted_indices, unpacked, out_lens,
                h, c, lstm.weight_ih_l0.grad, packed2.data.shape, h2,
                rnn_utils.pad_packed_sequence(o2)[0].shape,
                [t.shape for t in rnn_utils.unpad_sequence(padded, lengths, batch_first=True)])
    both(snippet, rtol=1e-4, atol=1e-5)


# -- wave 4: namespace functions scripts call ------------------------------------------------

def test_window_functions():
    def snippet(torch, nn, F, optim):
        out = []
        for f in (torch.hann_window, torch.hamming_window, torch.blackman_window,
                  torch.bartlett_window, torch.kaiser_window):
            out += [f(5), f(8, periodic=False), f(1), f(0), f(6, dtype=torch.float64)]
        return (out, torch.hamming_window(5, True, 0.5, 0.5), torch.kaiser_window(5, True, 5.0),
                raised(torch.hann_window, 4, dtype=torch.int64))
    both(snippet, atol=2e-6)


def test_tensor_unfold_frames():
    def snippet(torch, nn, F, optim):
        audio = torch.tensor(_rng(40).standard_normal(64), dtype=torch.float32,
                             requires_grad=True)
        frames = audio.unfold(0, 16, 8) * torch.hann_window(16)
        frames.pow(2).sum().backward()
        img = torch.arange(36.0).reshape(1, 6, 6)
        patches = img.unfold(1, 3, 3).unfold(2, 3, 3)
        return frames, audio.grad, patches.shape, patches[0, 1, 1]
    both(snippet)


def test_namespace_activations_and_defaults():
    def snippet(torch, nn, F, optim):
        x = torch.tensor([-2.0, -0.5, 0.0, 0.5, 2.0])
        w = torch.tensor([0.25])
        torch.set_default_tensor_type(torch.DoubleTensor)
        try:
            dd = (torch.get_default_dtype(), torch.tensor([1.0]).dtype)
        finally:
            torch.set_default_tensor_type("torch.FloatTensor")
        return (torch.selu(x), torch.celu(x, 0.5), torch.threshold(x, 0.1, 20.0),
                torch.prelu(x, w), torch.hardshrink(x, 0.5), torch.relu_(x.clone()),
                torch.rrelu(x, training=False), torch.alpha_dropout(x, 0.5, False),
                torch.group_norm(torch.ones(2, 4, 3), 2).shape, torch.rms_norm(x, (5,)),
                torch.bilinear(torch.ones(2, 3), torch.ones(2, 4), torch.ones(5, 3, 4)).shape,
                dd, torch.get_default_dtype(), torch.is_anomaly_enabled(),
                torch.get_default_device(),
                raised(torch.set_default_tensor_type, "torch.cuda.FloatTensor"),
                raised(torch.set_default_tensor_type, torch.LongTensor))
    both(snippet)


# -- wave 5: whole-program patterns ------------------------------------------------------

def test_cnn_classifier_train_eval(tmp_path):
    def snippet(torch, nn, F, optim):
        from importlib import import_module
        data = import_module(torch.__name__ + ".utils.data")

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential(
                    nn.Conv2d(1, 4, kernel_size=3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                    nn.MaxPool2d(2), nn.Conv2d(4, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
                self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.0), nn.Linear(8, 3))

            def forward(self, x):
                return self.classifier(self.features(x))

        def weights_init(m):
            classname = m.__class__.__name__
            if classname.find("Conv") != -1:
                nn.init.normal_(m.weight.data, 0.0, 0.02)
            elif classname.find("BatchNorm") != -1:
                nn.init.normal_(m.weight.data, 1.0, 0.02)
                nn.init.constant_(m.bias.data, 0)

        net = Net()
        net.apply(weights_init)
        _init_linear(torch, net)
        X = torch.tensor(_rng(50).standard_normal((24, 1, 8, 8)), dtype=torch.float32)
        Y = torch.tensor(_rng(51).integers(0, 3, 24))
        loader = data.DataLoader(data.TensorDataset(X, Y), batch_size=8)
        criterion = nn.CrossEntropyLoss()
        optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
        history = []
        for epoch in range(2):
            running_loss = 0.0
            for i, (inputs, labels) in enumerate(loader, 0):
                optimizer.zero_grad(set_to_none=True)
                outputs = net(inputs)
                loss = criterion(outputs, labels)
                loss.backward()
                optimizer.step()
                running_loss += loss.item()
            history.append(f"[{epoch + 1}] loss: {running_loss / len(loader):.3f}")
        path = tmp_path / f"{torch.__name__}_net.pth"
        torch.save(net.state_dict(), path)
        net2 = Net()
        net2.load_state_dict(torch.load(path, weights_only=True))
        net2.eval()
        correct = total = 0
        with torch.no_grad():
            for images, labels in loader:
                outputs = net2(images)
                _, predicted = torch.max(outputs, 1)
                total += labels.size(0)
                correct += (predicted == labels).sum().item()
        grads_none = [p.grad is None for p in net2.parameters()]
        return (history, correct, total, f"Accuracy: {100 * correct // total} %", grads_none,
                net.features[1].running_mean, net.features[1].num_batches_tracked)
    both(snippet, rtol=1e-4, atol=1e-5)


def test_transfer_learning_freeze_replace_head():
    def snippet(torch, nn, F, optim):
        backbone = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 6), nn.ReLU())
        model = nn.Sequential()
        model.add_module("backbone", backbone)
        model.add_module("fc", nn.Linear(6, 2))
        _init_linear(torch, model)
        for param in model.parameters():
            param.requires_grad = False
        num_ftrs = model.fc.in_features
        model.fc = nn.Linear(num_ftrs, 3)
        _init_linear(torch, model.fc)
        opt = optim.SGD(model.fc.parameters(), lr=0.1, momentum=0.9)
        sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.1)
        x = torch.tensor(_rng(52).standard_normal((5, 4)), dtype=torch.float32)
        y = torch.tensor([0, 1, 2, 0, 1])
        for _ in range(3):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            sched.step()
        return (model.fc.weight, [p.grad is None for p in model.backbone.parameters()],
                loss, str(model), sched.get_last_lr(),
                sum(p.numel() for p in model.parameters() if p.requires_grad))
    both(snippet, rtol=1e-4)


def test_char_rnn_manual_sgd():
    def snippet(torch, nn, F, optim):
        class RNN(nn.Module):
            def __init__(self, input_size, hidden_size, output_size):
                super().__init__()
                self.hidden_size = hidden_size
                self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
                self.h2o = nn.Linear(hidden_size, output_size)
                self.softmax = nn.LogSoftmax(dim=1)

            def forward(self, input, hidden):
                combined = torch.cat((input, hidden), 1)
                hidden = torch.tanh(self.i2h(combined))
                return self.softmax(self.h2o(hidden)), hidden

            def init_hidden(self):
                return torch.zeros(1, self.hidden_size)

        rnn = RNN(5, 8, 3)
        _init_linear(torch, rnn)
        criterion = nn.NLLLoss()
        letters = "abcde"

        def line_to_tensor(line):
            t = torch.zeros(len(line), 1, len(letters))
            for li, letter in enumerate(line):
                t[li][0][letters.find(letter)] = 1
            return t

        losses = []
        for word, cat in (("abc", 0), ("dea", 1), ("eeb", 2), ("cab", 0)):
            category_tensor = torch.tensor([cat], dtype=torch.long)
            line_tensor = line_to_tensor(word)
            hidden = rnn.init_hidden()
            rnn.zero_grad()
            for i in range(line_tensor.size()[0]):
                output, hidden = rnn(line_tensor[i], hidden)
            loss = criterion(output, category_tensor)
            loss.backward()
            for p in rnn.parameters():
                p.data.add_(p.grad.data, alpha=-0.05)
            losses.append(loss.item())
            top_n, top_i = output.topk(1)
        return losses, rnn.i2h.weight, top_i[0].item(), output
    both(snippet, rtol=1e-4, atol=1e-6)


def test_transformer_encoder_with_positional_buffer():
    def snippet(torch, nn, F, optim):
        class PositionalEncoding(nn.Module):
            def __init__(self, d_model, max_len=50):
                super().__init__()
                position = torch.arange(max_len).unsqueeze(1)
                div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
                pe = torch.zeros(max_len, 1, d_model)
                pe[:, 0, 0::2] = torch.sin(position * div_term)
                pe[:, 0, 1::2] = torch.cos(position * div_term)
                self.register_buffer("pe", pe)

            def forward(self, x):
                return x + self.pe[:x.size(0)]

        d_model, nhead = 8, 2
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=16, dropout=0.0)
        enc = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        _init_linear(torch, enc)
        pos = PositionalEncoding(d_model)
        src = torch.tensor(_rng(53).standard_normal((5, 3, d_model)), dtype=torch.float32)
        mask = nn.Transformer.generate_square_subsequent_mask(5)
        mask2 = torch.triu(torch.ones(5, 5) * float("-inf"), diagonal=1)
        out = enc(pos(src), mask=mask)
        out.sum().backward()
        mha = nn.MultiheadAttention(d_model, nhead, batch_first=True)
        _init_linear(torch, mha)
        q = src.transpose(0, 1)
        att, weights = mha(q, q, q, need_weights=True)
        sdpa = F.scaled_dot_product_attention(q, q, q, is_causal=True)
        return (out, mask, mask2, att, weights, sdpa, enc.layers[0].linear1.weight.grad,
                [n for n, _ in pos.named_buffers()], pos.pe.shape)
    both(snippet, rtol=1e-4, atol=1e-5)


def test_vae_loss_and_gan_step():
    def snippet(torch, nn, F, optim):
        torch.manual_seed(0)
        mu = torch.tensor(_rng(54).standard_normal((4, 2)), dtype=torch.float32,
                          requires_grad=True)
        logvar = torch.tensor(_rng(55).standard_normal((4, 2)) * 0.1, dtype=torch.float32,
                              requires_grad=True)
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        z_shape = (mu + eps * std).shape
        recon = torch.sigmoid(mu @ torch.ones(2, 6))
        x = (torch.arange(24.0).reshape(4, 6) % 2)
        BCE = F.binary_cross_entropy(recon, x, reduction="sum")
        KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        (BCE + KLD).backward()
        netD = nn.Sequential(nn.Linear(6, 1), nn.Sigmoid())
        _init_linear(torch, netD)
        criterion = nn.BCELoss()
        optD = optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
        real_label, fake_label = 1.0, 0.0
        netD.zero_grad()
        label = torch.full((4,), real_label, dtype=torch.float)
        output = netD(x).view(-1)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()
        fake = recon
        label.fill_(fake_label)
        output = netD(fake.detach()).view(-1)
        errD_fake = criterion(output, label)
        errD_fake.backward()
        optD.step()
        return (z_shape, BCE, KLD, mu.grad, logvar.grad, D_x, errD_real + errD_fake,
                netD[0].weight, f"Loss_D: {(errD_real + errD_fake).item():.4f} D(x): {D_x:.4f}")
    both(snippet, rtol=1e-4, atol=1e-6)


def test_whole_model_save_and_early_stopping(tmp_path):
    def snippet(torch, nn, F, optim):
        import copy
        model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
        _init_linear(torch, model)
        opt = optim.Adam(model.parameters(), lr=0.05)
        X = torch.tensor(_rng(56).standard_normal((16, 2)), dtype=torch.float32)
        Y = X.sum(1, keepdim=True)
        best, best_state = float("inf"), None
        for epoch in range(8):
            opt.zero_grad()
            loss = F.mse_loss(model(X), Y)
            loss.backward()
            opt.step()
            if loss.item() < best:
                best = loss.item()
                best_state = copy.deepcopy(model.state_dict())
        model.load_state_dict(best_state)
        vec = nn.utils.parameters_to_vector(model.parameters())
        return (round(best, 5), model(X[:2]), vec.shape,
                opt.state_dict()["param_groups"][0]["betas"])
    both(snippet, rtol=1e-4)


def test_save_whole_model(tmp_path):
    def snippet(torch, nn, F, optim):
        model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
        _init_linear(torch, model)
        path = tmp_path / f"{torch.__name__}_whole.pt"
        torch.save(model, path)
        loaded = torch.load(path, weights_only=False)
        return loaded(torch.ones(2, 2)), type(loaded).__name__, str(loaded)
    both(snippet)


def test_weight_tying_and_extra_repr():
    def snippet(torch, nn, F, optim):
        class Tied(nn.Module):
            def __init__(self, vocab=6, dim=3):
                super().__init__()
                self.encoder = nn.Embedding(vocab, dim)
                self.decoder = nn.Linear(dim, vocab)
                self.decoder.weight = self.encoder.weight
                self.scale = 2.0

            def extra_repr(self):
                return f"scale={self.scale}"

            def forward(self, idx):
                return self.decoder(self.encoder(idx) * self.scale)

        m = Tied()
        _init_linear(torch, m)
        out = m(torch.tensor([[1, 2], [3, 4]]))
        out.logsumexp(-1).sum().backward()
        return (out, m.encoder.weight.grad, len(list(m.parameters())),
                [n for n, _ in m.named_parameters()], str(m), list(m.state_dict().keys()),
                m.decoder.weight is m.encoder.weight)
    both(snippet)


def test_nn_utils_fusion_and_norms():
    def snippet(torch, nn, F, optim):
        conv = nn.Conv2d(2, 3, 3)
        bn = nn.BatchNorm2d(3)
        lin = nn.Linear(3, 4)
        bn1 = nn.BatchNorm1d(4)
        for m in (conv, bn, lin, bn1):
            _init_linear(torch, m)
        with torch.no_grad():
            bn.running_mean.copy_(torch.tensor([0.1, -0.2, 0.3]))
            bn.running_var.copy_(torch.tensor([0.5, 1.5, 2.0]))
            bn1.running_var.fill_(2.0)
        conv.eval()
        bn.eval()
        lin.eval()
        bn1.eval()
        x = torch.tensor(_rng(60).standard_normal((1, 2, 5, 5)), dtype=torch.float32)
        fused = nn.utils.fuse_conv_bn_eval(conv, bn)
        fl = nn.utils.fuse_linear_bn_eval(lin, bn1)
        v = torch.tensor(_rng(61).standard_normal((2, 3)), dtype=torch.float32)
        p = nn.Parameter(torch.tensor([3.0, 4.0]))
        p.grad = torch.tensor([3.0, 4.0])
        total = nn.utils.get_total_norm([p.grad])
        nn.utils.clip_grads_with_norm_([p], 1.0, total)
        skip = nn.utils.skip_init(nn.Linear, 3, 2)
        out = nn.utils.stateless.functional_call(lin, {"weight": torch.ones(4, 3),
                                                       "bias": torch.zeros(4)}, (v,))
        return (fused(x), bn(conv(x)), type(fused).__name__, fused.weight.requires_grad,
                fl(v), bn1(lin(v)), total, p.grad, skip.weight.shape, out,
                raised(nn.utils.fuse_conv_bn_eval, conv.train(), bn))
    both(snippet, rtol=1e-4, atol=1e-5)


def test_real_times_complex_gradient():
    def snippet(torch, nn, F, optim):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        w = x * torch.tensor(np.array([1j, 1 + 1j]))
        w.abs().sum().backward()
        return x.grad
    both(snippet)


def test_printing_training_objects():
    def snippet(torch, nn, F, optim):
        model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
        with torch.no_grad():
            model[0].weight.copy_(torch.tensor([[0.5, -0.25], [1.0, 2.0]]))
            model[0].bias.copy_(torch.tensor([0.1, -0.1]))
        loss = model(torch.ones(1, 2)).sum()
        loss.backward()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
        adamw = optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
        sched = optim.lr_scheduler.StepLR(opt, 3)
        return (str(loss), repr(model[0].weight.grad), str(model.state_dict()),
                repr(dict(model.named_parameters())["0.bias"]), str(opt), str(adamw),
                sched.state_dict()["base_lrs"], str(torch.Size([2, 3])), repr(torch.float32),
                str([torch.tensor(1.0), torch.tensor(2)]), str({"loss": torch.tensor(0.5)}),
                str((torch.ones(1), torch.zeros(1, dtype=torch.long))),
                repr(model[0].weight.data), str(loss.grad_fn.next_functions[0][0].name()))
    both(snippet)


def test_dtype_promotion_users_hit():
    def snippet(torch, nn, F, optim):
        i = torch.tensor([1, 2, 3])
        f = torch.tensor([1.0, 2.0, 3.0])
        d = torch.tensor([1.0], dtype=torch.float64)
        b = torch.tensor([True, False, True])
        h = torch.tensor([1.0], dtype=torch.float16)
        i32 = torch.tensor([1], dtype=torch.int32)
        u8 = torch.tensor([200], dtype=torch.uint8)
        res = [i + f, i * 1.5, f + d, f * torch.tensor(2.0, dtype=torch.float64), b + b, b * 2,
               b + 0.5, i / i, i // 2, i.float() / 2, h + f, h * 2.0, i32 + i, i32 * 1.0,
               u8 + u8, u8 + 100, torch.tensor(3) * f, i.sum(), b.sum(), i.mean(dtype=torch.float),
               f.sum(dtype=torch.float64), torch.arange(3) * 0.5, -b.int(), i ** 2, i ** 0.5,
               f ** i, 2 ** i, i32 // torch.tensor(2), torch.tensor(5) % 3, f.mean(), i.prod(),
               torch.cumsum(i32, 0), torch.where(b, i, f), torch.where(b, 1, 0),
               torch.maximum(i, f), torch.clamp(i, 0.5, 2.5), i.clamp(max=2)]
        return [(r, r.dtype) for r in res] + [raised(torch.mean, i), raised(lambda: i.add_(0.5))]
    both(snippet)


def test_scheduler_state_dict_keys():
    def snippet(torch, nn, F, optim):
        p = nn.Parameter(torch.ones(1))
        opt = optim.SGD([p], lr=0.1)
        s1 = optim.lr_scheduler.StepLR(opt, 3)
        return list(s1.state_dict()), str(s1.state_dict())
    both(snippet)


def test_shifts_fill_diagonal_memory_formats():
    def snippet(torch, nn, F, optim):
        t = torch.zeros(3, 4)
        t.fill_diagonal_(2)
        x = torch.ones(2, 2, requires_grad=True)
        y = x * 3
        y.fill_diagonal_(0)
        y.sum().backward()
        a = torch.tensor([1, 2, 3])
        b = a.clone()
        b <<= 2
        img = torch.ones(1, 2, 3, 3)
        return (t, torch.zeros(7, 3).fill_diagonal_(1, wrap=True),
                torch.zeros(7, 3).fill_diagonal_(1), torch.zeros(3, 3, 3).fill_diagonal_(5),
                x.grad, a << 1, torch.tensor([-8]) >> 1, 1 << torch.tensor([1, 2]),
                torch.bitwise_left_shift(torch.tensor([1]), torch.tensor([3])),
                torch.tensor([1], dtype=torch.int32) << torch.tensor([2]), b,
                torch.tensor([1], dtype=torch.uint8) << 3, a.bitwise_right_shift(1),
                raised(lambda: torch.tensor([1.0, 2.0]) << 1),
                raised(torch.zeros(2, 3, 4).fill_diagonal_, 1),
                raised(torch.zeros(3).fill_diagonal_, 1),
                img.to(memory_format=torch.channels_last).shape,
                img.contiguous(memory_format=torch.contiguous_format).shape,
                img.clone(memory_format=torch.preserve_format), repr(torch.channels_last),
                repr(torch.strided), img.layout == torch.strided,
                torch.zeros(2, layout=torch.strided),
                torch.empty(2, memory_format=torch.contiguous_format).shape)
    both(snippet)


def test_inplace_shape_methods():
    def snippet(torch, nn, F, optim):
        a = torch.zeros(1, 3)
        a.squeeze_()
        b = torch.zeros(3)
        b.unsqueeze_(0)
        c = torch.ones(2, 3)
        c.t_()
        d = torch.ones(2, 3)
        d.transpose_(0, 1)
        e = torch.ones(2, 3)
        e.resize_(3, 2)
        return a.shape, b.shape, c.shape, d.shape, e.shape, d.new(2, 3).shape, d.new([1.0]).dtype
    both(snippet)


def test_layout_attribute():
    def snippet(torch, nn, F, optim):
        return str(torch.ones(2).layout), torch.ones(2).layout is torch.strided
    both(snippet)


# -- gaps in files owned elsewhere (each xfail names the file) ------------------------------

def test_spatial_transformer_affine_grid_sample():
    def snippet(torch, nn, F, optim):
        x = torch.arange(32.0).reshape(2, 1, 4, 4)
        theta = torch.tensor([[[0.9, 0.1, 0.0], [-0.1, 0.9, 0.1]]] * 2, requires_grad=True)
        grid = F.affine_grid(theta, x.size(), align_corners=False)
        out = F.grid_sample(x, grid, align_corners=False)
        out.sum().backward()
        return grid, out, theta.grad
    both(snippet, rtol=1e-4, atol=1e-5)


def test_max_unpool():
    def snippet(torch, nn, F, optim):
        x = torch.arange(16.0).reshape(1, 1, 4, 4)
        pooled, idx = F.max_pool2d(x, 2, return_indices=True)
        return F.max_unpool2d(pooled, idx, 2), nn.MaxUnpool2d(2)(pooled, idx)
    both(snippet)


def test_functional_odds_and_ends():
    def snippet(torch, nn, F, optim):
        x = torch.tensor(_rng(70).standard_normal((4, 3)))
        return (F.pdist(x), F.channel_shuffle(torch.arange(8.0).reshape(1, 4, 1, 2), 2),
                F.multilabel_margin_loss(x, torch.tensor([[2, 0, -1], [1, -1, 0],
                                                          [0, 1, 2], [-1, 0, 0]])),
                F.triplet_margin_with_distance_loss(x, x.flip(0), x * 2))
    both(snippet)


def test_missing_modules():
    def snippet(torch, nn, F, optim):
        mods = [nn.FeatureAlphaDropout(0.2), nn.AdaptiveMaxPool3d(1), nn.LazyBatchNorm1d(),
                nn.SyncBatchNorm(3)]
        return [str(m) for m in mods]
    both(snippet)


def test_missing_optimizers():
    def snippet(torch, nn, F, optim):
        p = nn.Parameter(torch.tensor([1.0, -2.0]))
        out = []
        for make in (lambda: optim.ASGD([p], lr=0.1), lambda: optim.Adafactor([p], lr=0.1)):
            o = make()
            for _ in range(3):
                o.zero_grad()
                (p ** 2).sum().backward()
                o.step()
            out.append(p.detach().clone())
        return out
    both(snippet)


def test_chain_and_stack_datasets():
    def snippet(torch, nn, F, optim):
        from importlib import import_module
        data = import_module(torch.__name__ + ".utils.data")

        class Stream(data.IterableDataset):
            def __init__(self, n):
                self.n = n

            def __iter__(self):
                return iter(range(self.n))

        chained = list(data.ChainDataset([Stream(2), Stream(3)]))
        stacked = data.StackDataset(torch.arange(3), torch.arange(3) * 2)
        return chained, stacked[1], len(stacked)
    both(snippet)


def test_autograd_function_styles_and_hooks():
    def snippet(torch, nn, F, optim):
        from importlib import import_module
        ag = import_module(torch.__name__ + ".autograd")
        Variable = ag.Variable
        v = Variable(torch.ones(2), requires_grad=True)

        class MyReLU(torch.autograd.Function):
            @staticmethod
            def forward(input):
                return input.clamp(min=0)

            @staticmethod
            def setup_context(ctx, inputs, output):
                input, = inputs
                ctx.save_for_backward(input)

            @staticmethod
            def backward(ctx, grad_output):
                input, = ctx.saved_tensors
                grad_input = grad_output.clone()
                grad_input[input < 0] = 0
                return grad_input

        class Split(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                idx = torch.argmax(x)
                ctx.mark_non_differentiable(idx)
                ctx.save_for_backward(x)
                return x * 2, idx

            @staticmethod
            @ag.function.once_differentiable
            def backward(ctx, g, g_idx):
                x, = ctx.saved_tensors
                return g * 2 if ctx.needs_input_grad[0] else None

        x = torch.tensor([-1.0, 2.0, 3.0], requires_grad=True)
        y = MyReLU.apply(x)
        y2, idx = Split.apply(x)
        (y.sum() + y2.sum()).backward()
        torch.autograd.backward([(v * 3).sum()], [torch.tensor(2.0)])
        lin = nn.Linear(3, 2)
        _init_linear(torch, lin)
        seen = []
        h = lin.register_full_backward_hook(lambda m, gi, go: seen.append((gi[0], go[0])))
        pre = lin.register_forward_pre_hook(lambda m, inp: (inp[0] * 2,))
        inp = torch.ones(1, 3, requires_grad=True)
        lin(inp).sum().backward()
        h.remove()
        pre.remove()
        ok = torch.autograd.gradcheck(lambda t: (t ** 2).sum(),
                                      (torch.ones(3, dtype=torch.float64, requires_grad=True),))
        return (y, x.grad, idx, idx.requires_grad, v.grad, seen, inp.grad, ok,
                y.grad_fn.name() if False else type(y.grad_fn).__name__)
    both(snippet)


def test_anomaly_detection_raises_on_nan():
    def snippet(torch, nn, F, optim):
        import warnings
        x = torch.tensor([0.0, 1.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with torch.autograd.detect_anomaly():
                y = torch.sqrt(x) * 0
                y = (x / x).sum()
                err = raised(y.backward)
        return err, x.grad
    both(snippet)


def test_parameter_surgery():
    def snippet(torch, nn, F, optim):
        lin = nn.Linear(3, 2)
        _init_linear(torch, lin)
        with torch.no_grad():
            lin.weight[0] = 0.5
            lin.bias.zero_()
        lin.weight.data[1, 0] = -1.0
        lin.bias.data = torch.tensor([1.0, 2.0])
        lin.weight.data.copy_(lin.weight.data * 2)
        err = raised(setattr, lin, "weight", torch.ones(2, 3))
        lin.weight = nn.Parameter(lin.weight.detach() + 1)
        lin.extra = nn.Parameter(torch.zeros(1))
        names = [n for n, _ in lin.named_parameters()]
        out = lin(torch.ones(1, 3)).sum()
        out.backward()
        lin.weight.grad.data.clamp_(-0.5, 0.5)
        x = torch.ones(2, requires_grad=True)
        y = x * 2
        import warnings
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            g = y.grad
        def closure():
            opt.zero_grad()
            loss = ((p - 3) ** 2).sum()
            loss.backward()
            return loss
        p = nn.Parameter(torch.tensor([0.0, 1.0]))
        opt = optim.LBFGS([p], lr=1, max_iter=20)
        first = opt.step(closure)
        return (lin.weight, lin.bias, err, names, lin.weight.grad, g, len(w) > 0, p, first,
                raised(lambda: torch.nn.Parameter(torch.tensor([1, 2]))))
    both(snippet, rtol=1e-4, atol=1e-5)


def test_jit_and_distributed_guards():
    def snippet(torch, nn, F, optim):
        def gelu_like(x):
            return x * torch.sigmoid(1.702 * x)

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(2, 2)

            @torch.jit.ignore
            def debug(self):
                return "debug"

            def forward(self, x):
                if torch.jit.is_scripting() or torch.jit.is_tracing():
                    return x
                return gelu_like(self.lin(x))

        b = Block()
        _init_linear(torch, b)
        rank = 0
        if torch.distributed.is_initialized():
            rank = torch.distributed.get_rank()
        return (b(torch.ones(1, 2)), b.debug(), torch.jit.unused(gelu_like) is gelu_like,
                torch.jit.export(gelu_like) is gelu_like, rank,
                raised(torch.distributed.get_rank), raised(torch.distributed.get_world_size),
                torch.distributed.is_initialized())
    both(snippet)


def test_backends_cuda_tf32_switches():
    def snippet(torch, nn, F, optim):
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
        flags = (torch.backends.cuda.is_built(), torch.backends.cudnn.benchmark)
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.benchmark = False
        return flags
    both(snippet)


def test_dataloader_variants():
    def snippet(torch, nn, F, optim):
        from importlib import import_module
        data = import_module(torch.__name__ + ".utils.data")

        class Dicts(data.Dataset):
            def __len__(self):
                return 6

            def __getitem__(self, i):
                return {"x": torch.full((2,), float(i)), "y": i % 2, "name": f"s{i}"}

        def collate(batch):
            xs, ys = zip(*batch)
            return torch.stack(xs), torch.tensor(ys)

        ds = data.TensorDataset(torch.arange(10.0).unsqueeze(1), torch.arange(10))
        out = []
        out.append([b["x"].shape for b in data.DataLoader(Dicts(), batch_size=4)])
        out.append(next(iter(data.DataLoader(Dicts(), batch_size=3)))["name"])
        out.append(next(iter(data.DataLoader(Dicts(), batch_size=3)))["y"])
        out.append([yb.tolist() for _, yb in data.DataLoader(ds, batch_size=4, num_workers=0,
                                                             pin_memory=True, collate_fn=collate)])
        sub = data.Subset(ds, [1, 3, 5])
        out.append([yb.tolist() for _, yb in data.DataLoader(sub, batch_size=2)])
        cat = data.ConcatDataset([sub, sub])
        out.append((len(cat), cat[4][1]))
        g = torch.Generator().manual_seed(0)
        sampler = data.SubsetRandomSampler([0, 2, 4], generator=g)
        out.append(sorted(int(y) for _, yb in data.DataLoader(ds, sampler=sampler, batch_size=2)
                          for y in yb))
        wrs = data.WeightedRandomSampler([0.0, 1.0, 0.0], num_samples=5, replacement=True)
        out.append(list(wrs))
        bs = data.BatchSampler(data.SequentialSampler(range(5)), batch_size=2, drop_last=False)
        out.append(list(bs))
        out.append([len(b) for b in data.DataLoader(ds, batch_sampler=bs)])
        out.append(data.default_collate([(1, 2.0), (3, 4.0)]))
        out.append(len(data.DataLoader(ds, batch_size=3, drop_last=True)))
        return out
    both(snippet)


def test_optimizer_details():
    def snippet(torch, nn, F, optim):
        model = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 1))
        _init_linear(torch, model)
        X = torch.tensor(_rng(80).standard_normal((8, 3)), dtype=torch.float32)
        Y = torch.tensor(_rng(81).standard_normal((8, 1)), dtype=torch.float32)
        results = []
        makers = [
            lambda ps: optim.SGD([{"params": model[0].parameters()},
                                  {"params": model[2].parameters(), "lr": 1e-3}],
                                 lr=1e-2, momentum=0.9, weight_decay=1e-4, nesterov=True),
            lambda ps: optim.Adam(ps, lr=1e-2, amsgrad=True, foreach=False),
            lambda ps: optim.AdamW(ps, lr=1e-2, betas=(0.9, 0.95), eps=1e-6),
            lambda ps: optim.RMSprop(ps, lr=1e-3, alpha=0.9, centered=True),
            lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01),
            lambda ps: optim.SGD(ps, lr=0.1, maximize=True),
            lambda ps: optim.NAdam(ps, lr=1e-2),
            lambda ps: optim.RAdam(ps, lr=1e-2),
            lambda ps: optim.Adamax(ps, lr=1e-2),
            lambda ps: optim.Adadelta(ps),
            lambda ps: optim.Rprop(ps),
        ]
        init = {k: v.clone() for k, v in model.state_dict().items()}
        for make in makers:
            model.load_state_dict(init)
            opt = make(model.parameters())
            for epoch in range(3):
                opt.zero_grad()
                F.mse_loss(model(X), Y).backward()
                opt.step()
                for g in opt.param_groups:
                    g["lr"] = g["lr"] * 0.5
            st = opt.state[model[0].weight]
            results.append((model[0].weight.detach().clone(), sorted(st.keys()),
                            [g["lr"] for g in opt.param_groups]))
        return results
    both(snippet, rtol=1e-4, atol=1e-5)


def test_bfloat16_can_be_named():
    # Scripts name torch.bfloat16 (autocast dtype, "bf16 if supported else fp16"); chainrule
    # has no bfloat16 storage, so only the naming is compared with torch here.
    def snippet(torch, nn, F, optim):
        amp_dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float16
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=False):
            y = torch.ones(2, 2) @ torch.ones(2, 2)
        fi = torch.finfo(torch.bfloat16)
        return (repr(torch.bfloat16), isinstance(torch.bfloat16, torch.dtype), amp_dtype, y,
                torch.bfloat16.is_floating_point, torch.bfloat16.itemsize, fi.eps, fi.max,
                fi.tiny, fi.bits, repr(fi), torch.bfloat16 == torch.float32)
    both(snippet)


def test_keyword_spellings():
    def snippet(torch, nn, F, optim):
        x = torch.arange(6.0).reshape(2, 3)
        return (torch.stack([x, x], axis=0).shape, x.permute(dims=(1, 0)).shape,
                x.reshape(shape=(3, 2)).shape, x.view(size=(3, 2)).shape)
    both(snippet)


def test_argmax_axis_keyword():
    def snippet(torch, nn, F, optim):
        x = torch.arange(6.0).reshape(2, 3)
        return torch.argmax(x, axis=1), x.argmin(axis=0)
    both(snippet)


def test_utils_misc_imports():
    def snippet(torch, nn, F, optim):
        from importlib import import_module
        data = import_module(torch.__name__ + ".utils.data")
        ckpt = import_module(torch.__name__ + ".utils.checkpoint")
        lin = nn.Linear(3, 3)
        _init_linear(torch, lin)
        x = torch.ones(2, 3, requires_grad=True)
        y = ckpt.checkpoint(lambda t: torch.relu(lin(t)), x, use_reentrant=False)
        y.sum().backward()
        seq = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 1))
        _init_linear(torch, seq)
        z = ckpt.checkpoint_sequential(seq, 2, x, use_reentrant=False)
        return y, x.grad, z, data.get_worker_info()
    both(snippet)


def test_more_schedulers_and_swa():
    def snippet(torch, nn, F, optim):
        def run(make, steps=8, opt_kw=None):
            p = nn.Parameter(torch.ones(2))
            o = optim.SGD([p], lr=0.1, momentum=0.9, **(opt_kw or {}))
            s = make(o)
            lrs = []
            for _ in range(steps):
                o.step()
                s.step()
                lrs.append(round(s.get_last_lr()[0], 10))
            return lrs
        L = optim.lr_scheduler
        out = [run(lambda o: L.SequentialLR(o, [L.LinearLR(o, 0.1, total_iters=3),
                                                L.ExponentialLR(o, 0.9)], milestones=[3])),
               run(lambda o: L.ChainedScheduler([L.ConstantLR(o, 0.5, total_iters=2),
                                                 L.ExponentialLR(o, 0.9)])),
               run(lambda o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=1e-3)),
               run(lambda o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=2)),
               run(lambda o: L.PolynomialLR(o, total_iters=5, power=2.0)),
               run(lambda o: L.MultiplicativeLR(o, lambda e: 0.9)),
               run(lambda o: L.OneCycleLR(o, max_lr=0.5, epochs=2, steps_per_epoch=4,
                                          anneal_strategy="linear"))]
        from importlib import import_module
        swa_utils = import_module(torch.__name__ + ".optim.swa_utils")
        model = nn.Linear(2, 1)
        _init_linear(torch, model)
        swa = swa_utils.AveragedModel(model)
        o = optim.SGD(model.parameters(), lr=0.1)
        sched = swa_utils.SWALR(o, swa_lr=0.05, anneal_epochs=2)
        for _ in range(3):
            o.zero_grad()
            model(torch.ones(4, 2)).pow(2).mean().backward()
            o.step()
            swa.update_parameters(model)
            sched.step()
        ema = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.9))
        ema.update_parameters(model)
        return (out, swa.module.weight, swa.n_averaged, o.param_groups[0]["lr"],
                ema.module.bias)
    both(snippet)


def test_grad_mode_function_forms():
    def snippet(torch, nn, F, optim):
        x = torch.ones(2, requires_grad=True)
        torch.set_grad_enabled(False)
        try:
            a = x * 2
            state_off = torch.is_grad_enabled()
        finally:
            torch.set_grad_enabled(True)
        torch.autograd.set_grad_enabled(False)
        b = x * 2
        torch.autograd.set_grad_enabled(True)

        @torch.enable_grad()
        def with_grad(t):
            return t * 2

        with torch.no_grad():
            c = with_grad(x)
        with torch.inference_mode(mode=False):
            d = x * 2
        with torch.no_grad():
            with torch.set_grad_enabled(True):
                e = x * 2
        ng = torch.no_grad()
        ng.__enter__()
        f = x * 2
        ng.__exit__(None, None, None)
        return (a.requires_grad, state_off, b.requires_grad, c.requires_grad, d.requires_grad,
                e.requires_grad, f.requires_grad, torch.is_grad_enabled())
    both(snippet)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch's forward_ad internals
def test_new_nodes_higher_order_and_forward_mode():
    def snippet(torch, nn, F, optim):
        from importlib import import_module
        fwAD = import_module(torch.__name__ + ".autograd.forward_ad")
        # (no x = 0: PyTorch's second derivative of sinc there is NaN, chainrule's the limit 0)
        x = torch.tensor([0.7, 0.3, -1.2, 2.5], dtype=torch.float64, requires_grad=True)
        out = []
        for f in (torch.sinc, torch.deg2rad, torch.rad2deg):
            g, = torch.autograd.grad(f(x).sum(), x, create_graph=True)
            gg = torch.autograd.grad((g * g).sum(), x)[0] if g.requires_grad else None
            with fwAD.dual_level():
                d = fwAD.make_dual(x.detach(), torch.ones_like(x))
                tangent = fwAD.unpack_dual(f(d)).tangent
            out.append((g, gg, tangent))
        return out
    both(snippet)


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_environment_report_and_cpu_namespace():
    def snippet(torch, nn, F, optim):
        lines = [f"CUDA: {torch.version.cuda}", f"cuda available: {torch.cuda.is_available()}",
                 f"debug: {torch.version.debug}", f"hip: {torch.version.hip}"]
        with torch.cpu.amp.autocast(enabled=False):
            y = torch.ones(2) * 2
        scaler = torch.GradScaler("cpu")
        vm = torch.vmap(lambda r: r.sum())(torch.arange(6.0).reshape(2, 3))
        return (lines, torch.cpu.is_available(), torch.cpu.device_count(), y, scaler.get_scale(),
                vm, torch.cpu.synchronize())
    both(snippet)


def test_text_classification_embedding_bag():
    def snippet(torch, nn, F, optim):
        class TextClassificationModel(nn.Module):
            def __init__(self, vocab_size, embed_dim, num_class):
                super().__init__()
                self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
                self.fc = nn.Linear(embed_dim, num_class)
                self.init_weights()

            def init_weights(self):
                initrange = 0.5
                self.embedding.weight.data.uniform_(-initrange, initrange)
                self.fc.weight.data.uniform_(-initrange, initrange)
                self.fc.bias.data.zero_()

            def forward(self, text, offsets):
                return self.fc(self.embedding(text, offsets))

        def collate_batch(batch):
            label_list, text_list, offsets = [], [], [0]
            for _label, _text in batch:
                label_list.append(_label)
                processed_text = torch.tensor(_text, dtype=torch.int64)
                text_list.append(processed_text)
                offsets.append(processed_text.size(0))
            label_list = torch.tensor(label_list, dtype=torch.int64)
            offsets = torch.tensor(offsets[:-1]).cumsum(dim=0)
            text_list = torch.cat(text_list)
            return label_list, text_list, offsets

        model = TextClassificationModel(20, 4, 3)
        _init_linear(torch, model)
        raw = [(0, [1, 2, 3]), (1, [4, 5]), (2, [6, 7, 8, 9]), (1, [5, 4, 3]), (0, [1, 1])]
        criterion = torch.nn.CrossEntropyLoss()
        optimizer = torch.optim.SGD(model.parameters(), lr=5)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.1)
        log = []
        for epoch in range(3):
            model.train()
            total_acc, total_count = 0, 0
            for i in range(0, len(raw), 2):
                label, text, offsets = collate_batch(raw[i:i + 2])
                optimizer.zero_grad()
                predicted_label = model(text, offsets)
                loss = criterion(predicted_label, label)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
                optimizer.step()
                total_acc += (predicted_label.argmax(1) == label).sum().item()
                total_count += label.size(0)
            scheduler.step()
            log.append(f"| epoch {epoch:3d} | accuracy {total_acc / total_count:8.3f}")
        return log, model.fc.weight, model.embedding.weight, collate_batch(raw[:2])
    both(snippet, rtol=1e-4, atol=1e-5)


def test_seq2seq_attention_decoder_step():
    def snippet(torch, nn, F, optim):
        class BahdanauAttention(nn.Module):
            def __init__(self, hidden_size):
                super().__init__()
                self.Wa = nn.Linear(hidden_size, hidden_size)
                self.Ua = nn.Linear(hidden_size, hidden_size)
                self.Va = nn.Linear(hidden_size, 1)

            def forward(self, query, keys):
                scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
                scores = scores.squeeze(2).unsqueeze(1)
                weights = F.softmax(scores, dim=-1)
                context = torch.bmm(weights, keys)
                return context, weights

        class AttnDecoderRNN(nn.Module):
            def __init__(self, hidden_size, output_size):
                super().__init__()
                self.embedding = nn.Embedding(output_size, hidden_size)
                self.attention = BahdanauAttention(hidden_size)
                self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
                self.out = nn.Linear(hidden_size, output_size)

            def forward(self, encoder_outputs, encoder_hidden, max_len=4, sos=0):
                batch_size = encoder_outputs.size(0)
                decoder_input = torch.empty(batch_size, 1, dtype=torch.long).fill_(sos)
                decoder_hidden = encoder_hidden
                outputs, attentions = [], []
                for i in range(max_len):
                    embedded = self.embedding(decoder_input)
                    query = decoder_hidden.permute(1, 0, 2)
                    context, attn = self.attention(query, encoder_outputs)
                    output, decoder_hidden = self.gru(torch.cat((embedded, context), dim=2),
                                                      decoder_hidden)
                    outputs.append(self.out(output))
                    attentions.append(attn)
                    _, topi = outputs[-1].topk(1)
                    decoder_input = topi.squeeze(-1).detach()
                decoder_outputs = F.log_softmax(torch.cat(outputs, dim=1), dim=-1)
                return decoder_outputs, decoder_hidden, torch.cat(attentions, dim=1)

        hidden, vocab = 6, 7
        encoder = nn.GRU(hidden, hidden, batch_first=True)
        decoder = AttnDecoderRNN(hidden, vocab)
        _init_linear(torch, encoder)
        _init_linear(torch, decoder)
        src = torch.tensor(_rng(90).standard_normal((2, 5, hidden)), dtype=torch.float32)
        target = torch.tensor([[1, 2, 3, 4], [4, 3, 2, 1]])
        enc_out, enc_hidden = encoder(src)
        dec_out, dec_hidden, attn = decoder(enc_out, enc_hidden)
        loss = nn.NLLLoss()(dec_out.view(-1, dec_out.size(-1)), target.view(-1))
        loss.backward()
        return dec_out, attn, loss, decoder.attention.Va.weight.grad, encoder.weight_hh_l0.grad
    both(snippet, rtol=1e-4, atol=1e-5)


# -- torch.fft (chainrule/fft.py) and complex parts ---------------------------------------------

def _fft_snippet(torch, nn, F, optim):
    x = torch.tensor(_rng(1).standard_normal((3, 8)), requires_grad=True)
    xo = torch.tensor(_rng(2).standard_normal((2, 7)), requires_grad=True)
    z = torch.tensor(_rng(3).standard_normal(4) + 1j * _rng(4).standard_normal(4),
                     requires_grad=True)
    outs = []
    for norm in (None, "ortho", "forward"):
        r = torch.fft.rfft(x, norm=norm)
        outs += [r, torch.fft.irfft(r, n=8, norm=norm), torch.fft.fft(x, norm=norm),
                 torch.fft.ifft(z, norm=norm), torch.fft.irfft(torch.fft.rfft(xo), n=7, norm=norm),
                 torch.fft.rfft2(x, norm=norm), torch.fft.fftn(z.reshape(2, 2), norm=norm),
                 torch.fft.irfftn(torch.fft.rfftn(x, norm=norm), s=x.shape, norm=norm)]
    outs += [torch.fft.rfft(x, n=5), torch.fft.rfft(x, n=12),
             torch.fft.irfft(torch.fft.rfft(x), n=11), torch.fft.irfft(z)]
    loss = sum((o.abs() ** 2).sum() if o.is_complex() else (o ** 3).sum() for o in outs)
    loss = (loss + torch.real(torch.fft.fft(z)).sum() + torch.imag(torch.fft.ifft(x)).pow(2).sum()
            + torch.imag(torch.conj(z)).sum())
    loss.backward()
    return (outs, x.grad, xo.grad, z.grad, torch.fft.fftfreq(5), torch.fft.rfftfreq(6, d=0.5),
            torch.fft.fftshift(torch.arange(6)), torch.fft.ifftshift(torch.arange(7)),
            torch.fft.fftshift(torch.arange(6).reshape(2, 3), dim=1),
            torch.fft.rfft(torch.tensor([1.0, 2.0, 3.0, 4.0])),
            torch.fft.fft(torch.tensor([1, 2])), raised(torch.imag, x),
            torch.fft.rfft(x).grad_fn.name(), torch.fft.irfft(z).grad_fn.name())


def test_fft_values_and_gradients():
    both(_fft_snippet)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch's forward_ad internals
def test_fft_second_order_and_forward_mode():
    def snippet(torch, nn, F, optim):
        from importlib import import_module
        fwAD = import_module(torch.__name__ + ".autograd.forward_ad")
        x = torch.tensor(_rng(5).standard_normal(6), requires_grad=True)
        spec = torch.fft.rfft(x)
        energy = (spec.abs() ** 4).sum() + (torch.fft.irfft(spec * spec, n=6) ** 2).sum()
        g, = torch.autograd.grad(energy, x, create_graph=True)
        gg, = torch.autograd.grad(g.sum(), x)
        with fwAD.dual_level():
            d = fwAD.make_dual(x.detach(), torch.ones_like(x))
            t1 = fwAD.unpack_dual(torch.fft.irfft(torch.fft.rfft(d) * 2, n=6)).tangent
            t2 = fwAD.unpack_dual(torch.fft.fft(d).abs()).tangent
        return g, gg, t1, t2
    both(snippet)


def test_spectral_loss_training():
    def snippet(torch, nn, F, optim):
        t = torch.linspace(0, 1, 32)
        target = torch.sin(2 * math.pi * 4 * t) + 0.5 * torch.sin(2 * math.pi * 9 * t)
        model = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
        _init_linear(torch, model)
        opt = optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(5):
            opt.zero_grad()
            pred = model(t.unsqueeze(1)).squeeze(1)
            spec_loss = (torch.fft.rfft(pred).abs() - torch.fft.rfft(target).abs()).pow(2).mean()
            loss = F.mse_loss(pred, target) + 0.01 * spec_loss
            loss.backward()
            opt.step()
        freqs = torch.fft.rfftfreq(32, d=1 / 32)
        peak = freqs[torch.fft.rfft(target).abs().argmax()]
        return loss, model[0].weight, peak, torch.fft.fftshift(torch.fft.fftfreq(8))
    both(snippet, rtol=1e-4, atol=1e-5)


def test_complex_part_properties():
    def snippet(torch, nn, F, optim):
        z = torch.fft.fft(torch.tensor([1.0, 2.0, 0.5]))
        return z.real, z.imag, z.conj(), z.angle()
    both(snippet)


def test_loss_variants_users_pick():
    def snippet(torch, nn, F, optim):
        logits = torch.tensor(_rng(95).standard_normal((4, 3)), requires_grad=True)
        seg = torch.tensor(_rng(96).standard_normal((2, 3, 4, 4)), requires_grad=True)
        target = torch.tensor([0, 2, 1, 2])
        seg_t = torch.tensor(_rng(97).integers(0, 3, (2, 4, 4)))
        seg_t[0, 0, 0] = -100
        soft = F.softmax(torch.tensor(_rng(98).standard_normal((4, 3))), dim=1)
        w = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)
        losses = [F.cross_entropy(logits, target, weight=w),
                  F.cross_entropy(logits, target, ignore_index=2),
                  F.cross_entropy(logits, target, weight=w, label_smoothing=0.2),
                  F.cross_entropy(logits, soft), F.cross_entropy(logits, soft, label_smoothing=0.1),
                  F.cross_entropy(seg, seg_t), F.cross_entropy(seg, seg_t, reduction="none").sum(),
                  nn.CrossEntropyLoss(weight=w, reduction="sum")(logits, target),
                  F.nll_loss(F.log_softmax(seg, 1), seg_t, reduction="mean"),
                  F.binary_cross_entropy_with_logits(logits, (logits > 0).double(),
                                                     weight=torch.ones(3, dtype=torch.float64),
                                                     reduction="sum"),
                  F.kl_div(F.log_softmax(logits, 1), soft, reduction="batchmean"),
                  F.kl_div(F.log_softmax(logits, 1), soft.log(), log_target=True,
                           reduction="sum"),
                  F.margin_ranking_loss(logits[:, 0], logits[:, 1], torch.ones(4)),
                  F.triplet_margin_loss(logits, logits.flip(0), logits * 0.5),
                  F.cosine_embedding_loss(logits, logits.flip(0), torch.tensor([1, -1, 1, -1])),
                  F.hinge_embedding_loss(logits, torch.ones(4, 3)),
                  F.poisson_nll_loss(logits, logits.abs()), F.gaussian_nll_loss(
                      logits, logits.detach() * 2, torch.ones(4, 3)),
                  F.multi_margin_loss(logits, target), F.soft_margin_loss(logits, torch.ones(4, 3)),
                  F.multilabel_soft_margin_loss(logits, (logits > 0).double())]
        total = sum(losses)
        total.backward()
        return losses, logits.grad, seg.grad
    both(snippet)


def test_image_tensor_pipeline():
    def snippet(torch, nn, F, optim):
        hwc = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3) * 4
        img = torch.from_numpy(hwc).permute(2, 0, 1).float().div(255)
        mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225])[:, None, None]
        norm = (img - mean) / std
        batch = norm.unsqueeze(0)
        up = F.interpolate(batch, scale_factor=2, mode="bicubic", align_corners=False)
        down = F.interpolate(batch, size=(2, 3), mode="area")
        back = (norm * std + mean).clamp(0, 1).mul(255).round().to(torch.uint8)
        u8 = torch.tensor([200, 10], dtype=torch.uint8)
        gray = (0.299 * img[0] + 0.587 * img[1] + 0.114 * img[2]).unsqueeze(0)
        flipped = torch.flip(img, dims=[2])
        crop = img[:, 1:3, 1:4]
        return (img.shape, norm, up, down, back, back.permute(1, 2, 0).numpy(), u8 + 100,
                u8 * 2, u8 - 20, torch.tensor([255.7, 3.2]).byte(), gray, flipped, crop.shape,
                img.mean(dim=(1, 2)), img.std(dim=(1, 2)), batch.is_contiguous(),
                F.pad(batch, (1, 1, 1, 1), mode="replicate").shape)
    both(snippet, rtol=1e-4, atol=1e-5)


def test_numpy_interop_round_trips():
    def snippet(torch, nn, F, optim):
        a = np.linspace(0, 1, 6, dtype=np.float32).reshape(2, 3)
        t = torch.from_numpy(a)
        t.mul_(2)
        shared = a.copy()
        b = torch.as_tensor(a)
        b[0, 0] = -1.0
        c = torch.tensor(a)
        c[0, 1] = -2.0
        n = t.numpy()
        d = torch.from_numpy(np.ascontiguousarray(a.T))
        e = torch.from_numpy(a[:, ::2].copy())
        f = torch.tensor(np.float64(3.5)), torch.tensor(np.int32(7)), torch.tensor(np.bool_(True))
        g = torch.from_numpy(np.array([1, 2], dtype=np.int16)) * 3
        h = torch.tensor([np.int64(1), np.int64(2)])
        grad_t = torch.ones(2, requires_grad=True) * 2
        arr = grad_t.detach().numpy()
        lst = torch.arange(4).reshape(2, 2).tolist()
        return (shared, a, n.dtype.name, d, e, f, g, h, arr, lst, c, np.allclose(a, t.numpy()),
                t.numpy(force=True).shape, torch.from_numpy(a).data_ptr() == t.data_ptr())
    both(snippet)


def test_pinn_derivatives_and_func_transforms():
    def snippet(torch, nn, F, optim):
        net = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))
        _init_linear(torch, net)
        x = torch.linspace(0, 1, 5).view(-1, 1).requires_grad_(True)
        u = net(x)
        u_x = torch.autograd.grad(u, x, grad_outputs=torch.ones_like(u), create_graph=True)[0]
        u_xx = torch.autograd.grad(u_x, x, grad_outputs=torch.ones_like(u_x),
                                   create_graph=True)[0]
        residual = u_xx + math.pi ** 2 * torch.sin(math.pi * x)
        loss = residual.pow(2).mean() + (u[0] ** 2).sum()
        loss.backward()
        jac = torch.autograd.functional.jacobian(lambda t: net(t).sum(0), x.detach(),
                                                 vectorize=True)
        hess = torch.autograd.functional.hessian(lambda t: (t ** 3).sum(), torch.ones(2))
        from importlib import import_module
        func = import_module(torch.__name__ + ".func")
        params = {k: v.detach() for k, v in net.named_parameters()}

        def f(p, xi):
            return func.functional_call(net, p, (xi,)).squeeze()

        per_sample = func.vmap(func.grad(f, argnums=1), in_dims=(None, 0))(params, x.detach())
        jr = func.jacrev(lambda t: torch.sin(t) * t)(torch.tensor([0.5, 1.0]))
        return (u_x, u_xx, loss, net[0].weight.grad, jac.shape, hess, per_sample, jr)
    both(snippet, rtol=1e-4, atol=1e-6)


def test_less_common_tensor_methods():
    def snippet(torch, nn, F, optim):
        x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        r = x.renorm(2, 0, 2.0)
        r2 = torch.renorm(x, 1, 1, 5.0)
        m, e = x.frexp()
        (r.sum() + r2.pow(2).sum() + m.sum()).backward()
        t = torch.tensor([1.0, 2.0])
        t.apply_(lambda v: v * 10)
        t.map_(torch.tensor([1.0, 1.0]), lambda a, b: a + b)
        emb = torch.tensor(_rng(99).standard_normal((4, 3)))
        with torch.no_grad():
            emb.renorm_(2, 0, 1.0)
        return (r, r2, m, e, x.grad, torch.ones(2, 3).sum_to_size(1, 3),
                torch.ones(2, 3).sum_to_size(3), t, torch.frexp(torch.tensor([8.0, 0.5, -3.0])),
                torch.tensor([1.0, 2.0]).nextafter(torch.tensor([2.0, 1.0]))
                - torch.tensor([1.0, 2.0]),
                torch.isreal(torch.tensor([1])), torch.tensor([1 + 0j, 1 + 1j]).isreal(),
                raised(torch.ones(2, requires_grad=True).apply_, lambda v: v),
                raised(torch.ones(2, 3).sum_to_size, 2, 2), emb.norm(dim=1),
                type(torch.frexp(torch.ones(1))).__name__)
    both(snippet)


def test_module_api_details():
    def snippet(torch, nn, F, optim):
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(2, 3)
                self.bn = nn.BatchNorm1d(3)
                self.register_parameter("scale", nn.Parameter(torch.ones(1)))
                self.register_parameter("unused", None)
                self.register_buffer("steps", torch.zeros((), dtype=torch.long))
                self.register_module("head", nn.Linear(3, 1))

            def forward(self, x):
                return self.head(self.bn(self.fc(x)) * self.scale)

        m = Block()
        _init_linear(torch, m)
        out = m.eval().cpu().float()(torch.ones(2, 2))
        res = m.load_state_dict({"fc.weight": torch.zeros(3, 2), "extra": torch.ones(1)},
                                strict=False)
        sub = m.get_submodule("fc")
        par = m.get_parameter("fc.bias")
        buf = m.get_buffer("steps")
        m.zero_grad(set_to_none=False)
        own = [n for n, _ in m.named_parameters(recurse=False)]
        all_named = [n for n, _ in m.named_parameters()]
        del m.head
        has = hasattr(m, "head")
        m.head = nn.Identity()
        sd_prefix = list(m.state_dict(prefix="model.").keys())
        m2 = Block()
        m2.train(False)
        chained = m2.requires_grad_(False) is m2
        return (out, sorted(res.missing_keys), res.unexpected_keys, sub.weight, par.shape,
                buf, own, all_named, has, sd_prefix, m2.training, chained,
                all(not p.requires_grad for p in m2.parameters()), m.unused,
                [n for n, _ in m.named_buffers()], len(list(m.modules())),
                [type(c).__name__ for c in m.children()], m.fc.weight.grad)
    both(snippet)


def _message(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the text is compared
        return type(e).__name__, str(e).split("\n")[0]
    return None


def test_dtype_error_messages():
    def snippet(torch, nn, F, optim):
        lin = nn.Linear(3, 4)
        return (_message(lambda: lin(torch.ones(2, 3, dtype=torch.long))),
                _message(lambda: F.nll_loss(torch.ones(2, 3), torch.ones(2))),
                _message(lambda: torch.ones(3).masked_fill(torch.tensor([1, 0, 1]), 0.0)))
    both(snippet)


def test_view_of_transposed_raises():
    def snippet(torch, nn, F, optim):
        x = torch.ones(2, 3)
        return (_message(lambda: x.t().view(6)), _message(lambda: x.transpose(0, 1).view(-1)),
                x.t().reshape(6).shape, x.t().contiguous().view(6).shape)
    both(snippet)


# -- torch.distributions (chainrule/distributions) ---------------------------------------------

def test_distributions_values_and_gradients():
    def snippet(torch, nn, F, optim):
        from importlib import import_module
        D = import_module(torch.__name__ + ".distributions")
        loc = torch.tensor([0.5, -1.0], requires_grad=True)
        scale = torch.tensor([1.5, 0.3], requires_grad=True)
        logits = torch.tensor([[0.1, 1.0, -0.5], [2.0, 0.0, 0.3]], requires_grad=True)
        n = D.Normal(loc, scale)
        q = D.Normal(torch.zeros(2), torch.ones(2))
        c = D.Categorical(logits=logits)
        cp = D.Categorical(probs=torch.tensor([0.2, 0.3, 0.5]))
        b = D.Bernoulli(logits=torch.tensor([0.3, -2.0]))
        bp = D.Bernoulli(probs=torch.tensor(0.3))
        u = D.Uniform(torch.tensor([0.0, 1.0]), torch.tensor([2.0, 4.0]))
        ind = D.Independent(D.Normal(torch.zeros(3, 2), torch.ones(3, 2) * 2), 1)
        v = torch.tensor([0.2, -0.7])
        terms = [n.log_prob(v).sum(), n.entropy().sum(), n.cdf(v).sum(),
                 D.kl_divergence(n, q).sum(), c.log_prob(torch.tensor([2, 0])).sum(),
                 c.entropy().sum(), D.kl_divergence(c, D.Categorical(logits=logits.flip(-1))).sum()]
        total = sum(terms)
        total.backward()
        torch.manual_seed(0)
        samples = [n.sample(), n.sample((4,)), n.rsample((2, 3)), c.sample(), c.sample((5,)),
                   cp.sample((2,)), b.sample(), bp.sample((3,)), u.sample((2,)), ind.sample()]
        return (terms, loc.grad, scale.grad, logits.grad,
                [(s.shape, s.dtype, s.requires_grad) for s in samples],
                n.rsample().requires_grad, n.mean, n.stddev, n.variance, c.probs, c.logits,
                cp.logits, c.mode, c.param_shape, b.log_prob(torch.tensor([1.0, 0.0])),
                b.entropy(), b.mean, bp.log_prob(torch.tensor(1.0)),
                u.log_prob(torch.tensor([1.0, 3.5])),
                raised(u.log_prob, torch.tensor([1.0, 5.0])), raised(b.log_prob, torch.tensor(0.5)),
                u.entropy(), u.mean, u.variance, ind.log_prob(torch.zeros(3, 2)), ind.entropy(),
                ind.batch_shape, ind.event_shape, n.batch_shape, c.batch_shape, cp.event_shape,
                n.icdf(torch.tensor([0.2, 0.9])), cp.enumerate_support(),
                D.kl_divergence(b, D.Bernoulli(probs=torch.tensor([0.5, 0.5]))),
                D.kl_divergence(u, D.Uniform(torch.tensor([-1.0, 0.0]), torch.tensor([3.0, 5.0]))),
                D.kl_divergence(ind, D.Independent(D.Normal(torch.ones(3, 2), 1.0), 1)),
                repr(n), repr(D.Normal(0.0, 1.0)), repr(cp), repr(bp), repr(u), repr(ind),
                raised(D.Normal, 0.0, -1.0), raised(cp.log_prob, torch.tensor(3)),
                raised(D.Categorical), c.perplexity())
    both(snippet)


def test_reinforce_policy_gradient_step():
    def snippet(torch, nn, F, optim):
        from importlib import import_module
        Categorical = import_module(torch.__name__ + ".distributions").Categorical

        class Policy(nn.Module):
            def __init__(self):
                super().__init__()
                self.affine1 = nn.Linear(4, 16)
                self.affine2 = nn.Linear(16, 2)
                self.saved_log_probs, self.rewards = [], []

            def forward(self, x):
                return F.softmax(self.affine2(F.relu(self.affine1(x))), dim=1)

        policy = Policy()
        _init_linear(torch, policy)
        optimizer = optim.Adam(policy.parameters(), lr=1e-2)
        eps = np.finfo(np.float32).eps.item()
        states = _rng(100).standard_normal((5, 4)).astype(np.float32)
        actions = [0, 1, 1, 0, 1]
        for state, action in zip(states, actions):
            probs = policy(torch.from_numpy(state).float().unsqueeze(0))
            m = Categorical(probs)
            sampled = m.sample()
            policy.saved_log_probs.append(m.log_prob(torch.tensor([action])))
            policy.rewards.append(1.0 + action)
        R, returns = 0, []
        for r in policy.rewards[::-1]:
            R = r + 0.99 * R
            returns.insert(0, R)
        returns = torch.tensor(returns)
        returns = (returns - returns.mean()) / (returns.std() + eps)
        policy_loss = [-log_prob * R for log_prob, R in zip(policy.saved_log_probs, returns)]
        optimizer.zero_grad()
        loss = torch.cat(policy_loss).sum()
        loss.backward()
        optimizer.step()
        return loss, returns, policy.affine2.weight, sampled.shape, sampled.dtype
    both(snippet)


def test_more_distributions():
    def snippet(torch, nn, F, optim):
        from importlib import import_module
        D = import_module(torch.__name__ + ".distributions")
        loc = torch.tensor([[0.5, -1.0], [0.0, 2.0]], dtype=torch.float64, requires_grad=True)
        A = torch.tensor([[2.0, 0.3], [0.3, 1.0]], dtype=torch.float64, requires_grad=True)
        mvn = D.MultivariateNormal(loc, covariance_matrix=A)
        mvn2 = D.MultivariateNormal(torch.zeros(2, dtype=torch.float64),
                                    scale_tril=torch.tensor([[1.0, 0.0], [0.4, 0.7]],
                                                            dtype=torch.float64))
        prec = D.MultivariateNormal(torch.zeros(2), precision_matrix=torch.eye(2) * 2)
        rate = torch.tensor([0.5, 2.0], requires_grad=True)
        ex = D.Exponential(rate)
        lap = D.Laplace(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 0.5]))
        v = torch.tensor([0.3, 1.7], dtype=torch.float64)
        terms = [mvn.log_prob(v).sum(), mvn.entropy().sum(), D.kl_divergence(mvn, mvn2).sum(),
                 ex.log_prob(torch.tensor([1.0, 0.2])).sum(), ex.entropy().sum(),
                 D.kl_divergence(ex, D.Exponential(torch.tensor([1.0, 1.0]))).sum()]
        total = sum(t.double() for t in terms)
        total.backward()
        torch.manual_seed(0)
        shapes = [(s.shape, s.dtype) for s in (mvn.sample(), mvn.rsample((3,)), ex.sample((2,)),
                                               lap.sample(), lap.rsample((4,)), prec.sample())]
        return (terms, loc.grad, A.grad, rate.grad, shapes, mvn.batch_shape, mvn.event_shape,
                mvn.mean, mvn.variance, mvn.covariance_matrix, mvn2.scale_tril,
                prec.covariance_matrix, mvn2.log_prob(torch.zeros(3, 2, dtype=torch.float64)),
                ex.mean, ex.variance, ex.cdf(torch.tensor([1.0, 1.0])),
                lap.log_prob(torch.tensor([0.5, 0.5])), lap.entropy(), lap.variance,
                D.kl_divergence(lap, D.Laplace(torch.zeros(2), torch.ones(2))), repr(mvn),
                repr(mvn2), repr(ex), repr(lap), raised(D.Exponential, torch.tensor([-1.0])),
                raised(D.MultivariateNormal, torch.zeros(2)))
    both(snippet)


def test_tensor_to_argument_forms():
    def snippet(torch, nn, F, optim):
        x = torch.ones(2)
        return (x.to("cpu", non_blocking=True) is x, x.to("cpu", copy=True) is x,
                x.to(device=None) is x,
                x.to(torch.device("cpu"), torch.float64, copy=True).dtype,
                x.to(dtype=torch.int32, copy=False).dtype, x.to(torch.float32) is x,
                x.to(torch.zeros(1, dtype=torch.float16)).dtype,
                x.to(torch.zeros(1), copy=True) is x, raised(x.to, "bogus"),
                x.to("cpu", dtype=torch.float64).dtype, x.to(None, torch.int64).dtype,
                x.to(memory_format=torch.preserve_format) is x,
                raised(x.to, torch.float32, torch.int64), x.to(copy=True) is x,
                x.to(torch.float32, True, True) is x, x.to(torch.float32, False, False) is x,
                raised(x.to, "cuda"), raised(x.to, device="cuda:0"))
    both(snippet)


def test_rng_state_checkpointing(tmp_path):
    def snippet(torch, nn, F, optim):
        torch.manual_seed(3)
        state = torch.get_rng_state()
        saved = state.clone()
        path = tmp_path / f"{torch.__name__}_rng.pt"
        torch.save({"rng_state": saved, "epoch": 4}, path)
        a = torch.rand(3)
        ck = torch.load(path)
        torch.set_rng_state(ck["rng_state"])
        g = torch.Generator().manual_seed(7)
        gs = g.get_state()
        x = torch.randn(2, generator=g)
        g.set_state(gs)
        return (state.dtype, state.dim(), torch.equal(a, torch.rand(3)),
                torch.equal(x, torch.randn(2, generator=g)), ck["epoch"],
                raised(torch.set_rng_state, torch.ones(3)), raised(torch.set_rng_state, [1, 2]))
    both(snippet)

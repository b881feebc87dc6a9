"""Custom autograd.Function: ctx, saved tensors, needs_input_grad, errors, node names vs torch."""
import numpy as np
import pytest

import chainrule as cr

pytestmark = pytest.mark.torch


def _libs():
    import torch

    return (cr, torch)


def _make_fns(lib):
    """The same custom Functions defined against ``lib``."""

    class MulAdd(lib.autograd.Function):
        """out = x * y + c (c a Python number): grads for x and y, None for c."""

        @staticmethod
        def forward(ctx, x, y, c):
            ctx.save_for_backward(x, y)
            ctx.c = c
            return x * y + c

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            gx = g * y if ctx.needs_input_grad[0] else None
            gy = g * x if ctx.needs_input_grad[1] else None
            return gx, gy, None

    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = x.exp()
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, g):
            (out,) = ctx.saved_tensors
            return g * out

    class SortWithIndex(lib.autograd.Function):
        """Two outputs, the second (an index tensor) marked non-differentiable."""

        @staticmethod
        def forward(ctx, x):
            order = np.argsort(x.detach().numpy(), kind="stable")
            idx = lib.tensor(order)
            vals = lib.tensor(x.detach().numpy()[order])
            ctx.mark_non_differentiable(idx)
            ctx.order = order
            return vals, idx

        @staticmethod
        def backward(ctx, g, g_idx):
            out = np.zeros(len(ctx.order))
            out[ctx.order] = g.detach().numpy()
            return lib.tensor(out, dtype=g.dtype)

    class TooFew(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    class TooMany(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g

    class WrongShape(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return lib.ones(3, dtype=g.dtype)

    class BroadcastGrad(lib.autograd.Function):
        """Returns a gradient with an extra leading dimension: summed back by autograd."""

        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return lib.ones((4,) + tuple(g.shape), dtype=g.dtype) * 2

    return {"MulAdd": MulAdd, "Exp": Exp, "SortWithIndex": SortWithIndex, "TooFew": TooFew,
                "TooMany": TooMany, "WrongShape": WrongShape, "BroadcastGrad": BroadcastGrad}


def test_save_for_backward_and_values():
    arr_x, arr_y = np.array([1.0, -2.0, 3.0]), np.array([0.5, 0.25, -1.0])
    res = []
    for lib in _libs():
        fns = _make_fns(lib)
        x = lib.tensor(arr_x, requires_grad=True)
        y = lib.tensor(arr_y, requires_grad=True)
        out = fns["MulAdd"].apply(x, y, 2.0)
        out2 = fns["Exp"].apply(out)
        out2.sum().backward()
        res.append((out2.detach().numpy(), x.grad.numpy(), y.grad.numpy(),
                    type(out.grad_fn).__name__, type(out2.grad_fn).__name__, out.requires_grad))
    for a, b in zip(res[0][:3], res[1][:3]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert res[0][3:] == res[1][3:] == ("MulAddBackward", "ExpBackward", True)


def test_node_name_in_repr():
    for lib in _libs():
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        out = _make_fns(lib)["Exp"].apply(x)
        assert repr(out).endswith("grad_fn=<ExpBackward>)")
        assert out.grad_fn.name() == "ExpBackward"


def test_needs_input_grad():
    seen = []
    for lib in _libs():
        class Probe(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, b, k):
                return a * b * k

            @staticmethod
            def backward(ctx, g):
                seen.append(tuple(ctx.needs_input_grad))
                return g, g, None

        a = lib.tensor([1.0], requires_grad=True)
        b = lib.tensor([2.0])
        Probe.apply(a, b, 3).sum().backward()
    assert seen[0] == seen[1] == (True, False, False)


def test_needs_input_grad_skips_work():
    for lib in _libs():
        fns = _make_fns(lib)
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = lib.tensor([3.0, 4.0])
        fns["MulAdd"].apply(x, y, 0.0).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])
        assert y.grad is None


def test_mark_non_differentiable():
    arr = np.array([3.0, 1.0, 2.0])
    res = []
    for lib in _libs():
        x = lib.tensor(arr, requires_grad=True)
        vals, idx = _make_fns(lib)["SortWithIndex"].apply(x)
        assert vals.requires_grad and not idx.requires_grad
        assert idx.grad_fn is None
        (vals * lib.tensor([1.0, 10.0, 100.0], dtype=lib.float64)).sum().backward()
        res.append((vals.detach().numpy(), idx.numpy(), x.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_array_equal(a, b)


def test_no_grad_inputs_give_plain_output():
    for lib in _libs():
        x = lib.tensor([1.0, 2.0])
        out = _make_fns(lib)["Exp"].apply(x)
        assert not out.requires_grad and out.grad_fn is None
        with lib.no_grad():
            out = _make_fns(lib)["Exp"].apply(lib.tensor([1.0], requires_grad=True))
        assert not out.requires_grad


def _probe_recording(lib, recorded):
    class Probe(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x * 2
            recorded.append((lib.is_grad_enabled(), y.requires_grad))
            return y

        @staticmethod
        def backward(ctx, g):
            return g * 2

    Probe.apply(lib.tensor([1.0], requires_grad=True))


def test_forward_runs_without_recording():
    recorded = []
    for lib in _libs():
        _probe_recording(lib, recorded)
    assert recorded[0] == recorded[1] == (False, False)


@pytest.mark.parametrize("name", ["TooFew", "TooMany", "WrongShape"])
def test_wrong_gradients_raise_like_torch(name):
    msgs = []
    for lib in _libs():
        fn = _make_fns(lib)[name]
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        args = (x, lib.tensor([3.0, 4.0], requires_grad=True)) if name == "TooFew" else (x,)
        with pytest.raises(RuntimeError) as e:
            fn.apply(*args).sum().backward()
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


def test_extra_none_gradients_are_accepted():
    for lib in _libs():
        class ExtraNone(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 3

            @staticmethod
            def backward(ctx, g):
                return g * 3, None, None

        x = lib.tensor([1.0], requires_grad=True)
        ExtraNone.apply(x).sum().backward()
        assert float(x.grad.sum()) == 3.0


def test_broadcast_gradient_is_summed_back():
    res = []
    for lib in _libs():
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        _make_fns(lib)["BroadcastGrad"].apply(x).sum().backward()
        res.append(x.grad.numpy())
    np.testing.assert_allclose(res[0], res[1])


def test_second_backward_through_saved_tensors_raises():
    msgs = []
    for lib in _libs():
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        out = _make_fns(lib)["Exp"].apply(x).sum()
        out.backward()
        with pytest.raises(RuntimeError) as e:
            out.backward()
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


def test_double_backward_through_custom_function():
    arr = np.array([0.3, -0.7])
    res = []
    for lib in _libs():
        x = lib.tensor(arr, requires_grad=True)
        y = _make_fns(lib)["Exp"].apply(x * x)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x)
        res.append((g.detach().numpy(), h.numpy()))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-12)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-12)


def test_setup_context_style():
    res = []
    for lib in _libs():
        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(x):
                return x ** 3

            @staticmethod
            def setup_context(ctx, inputs, output):
                (x,) = inputs
                ctx.save_for_backward(x)

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 3 * x ** 2 * g

        x = lib.tensor([1.5, -2.0], requires_grad=True)
        Cube.apply(x).sum().backward()
        res.append(x.grad.numpy())
    np.testing.assert_allclose(res[0], res[1])


def test_once_differentiable_and_instantiation_error():
    msgs = []
    for lib in _libs():
        class Twice(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            @lib.autograd.function.once_differentiable
            def backward(ctx, g):
                return g * 2

        x = lib.tensor([1.0], requires_grad=True)
        Twice.apply(x).sum().backward()
        assert float(x.grad.sum()) == 2.0
        # torch: a DeprecationWarning, then the error
        with pytest.raises(RuntimeError) as e, \
                (pytest.warns(DeprecationWarning) if lib is not cr else _nothing()):
            Twice()(x)
        msgs.append(str(e.value).split(" (Example")[0])
    assert msgs[0] == msgs[1]


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_save_for_backward_rejects_non_tensor():
    kinds = []
    for lib in _libs():
        class Bad(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, 3.0)
                return x * 1

            @staticmethod
            def backward(ctx, g):
                return g

        with pytest.raises(TypeError) as e:
            Bad.apply(lib.tensor([1.0], requires_grad=True))
        kinds.append(str(e.value))
    assert kinds[0] == kinds[1]


def _dirty_fn(lib):
    class Dirty(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    return Dirty


def test_mark_dirty_on_non_leaf():
    res = []
    for lib in _libs():
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = a * 1
        c = _dirty_fn(lib).apply(b)
        c.sum().backward()
        res.append((a.grad.tolist(), c is b, type(c.grad_fn).__name__, c.tolist()))
    assert res[0] == res[1]


def test_mark_dirty_on_leaf_raises():
    msgs = []
    for lib in _libs():
        with pytest.raises(RuntimeError) as e:
            _dirty_fn(lib).apply(lib.tensor([1.0, 2.0], requires_grad=True))
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


def test_backward_returning_a_number_raises():
    msgs = []
    for lib in _libs():
        class Bad(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return 5

        with pytest.raises(RuntimeError) as e:
            Bad.apply(lib.tensor([1.0], requires_grad=True)).sum().backward()
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]

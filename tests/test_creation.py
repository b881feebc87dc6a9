"""Factories: every factory's dtype, shape and (where deterministic) values against torch."""
import warnings

import numpy as np
import pytest

import chainrule as cr

pytestmark = pytest.mark.torch


def _name(dt) -> str:
    return repr(dt).split(".")[1]


def _same(ours, theirs, values=True):
    assert ours.dtype.name == _name(theirs.dtype)
    assert ours.shape == tuple(theirs.shape)
    assert ours.requires_grad == theirs.requires_grad
    assert ours.is_leaf and ours.grad_fn is None
    if values:
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6,
                                   atol=1e-7)  # torch contracts a*b+c to FMA (1 ulp)


DETERMINISTIC = {
    "tensor ints": lambda L: L.tensor([1, 2, 3]),
    "tensor floats": lambda L: L.tensor([[1.0, 2.0], [3.0, 4.0]]),
    "tensor mixed": lambda L: L.tensor([1, 2.5, True]),
    "tensor bools": lambda L: L.tensor([True, False]),
    "tensor complex": lambda L: L.tensor([1, 2j]),
    "tensor scalar int": lambda L: L.tensor(3),
    "tensor scalar float": lambda L: L.tensor(3.5),
    "tensor scalar bool": lambda L: L.tensor(False),
    "tensor empty": lambda L: L.tensor([]),
    "tensor empty 2d": lambda L: L.tensor([[], []]),
    "tensor tuple": lambda L: L.tensor(((1, 2), (3, 4))),
    "tensor dtype": lambda L: L.tensor([1, 2], dtype=L.float64),
    "tensor dtype int from float": lambda L: L.tensor([1.7, -2.7], dtype=L.int32),
    "tensor np float64": lambda L: L.tensor(np.array([1.0, 2.0])),
    "tensor np int32": lambda L: L.tensor(np.array([1, 2], dtype=np.int32)),
    "tensor np uint8": lambda L: L.tensor(np.array([1, 2], dtype=np.uint8)),
    "tensor np bool": lambda L: L.tensor(np.array([True])),
    "tensor np scalar in list": lambda L: L.tensor([np.float64(2.0), 1]),
    "tensor np float32 in list": lambda L: L.tensor([np.float32(2.0), 1]),
    "tensor np scalar": lambda L: L.tensor(np.int16(4)),
    "tensor of 0-d tensors": lambda L: L.tensor([L.tensor(1.0), L.tensor(2.0)]),
    "tensor int32 tensor and float": lambda L: L.tensor([L.tensor(1, dtype=L.int32), 2.5]),
    "tensor requires_grad": lambda L: L.tensor([1.0, 2.0], requires_grad=True),
    "tensor of a Size": lambda L: L.tensor(L.ones(2, 3).shape),
    "tensor tuple of lists": lambda L: L.tensor(([1, 2], [3, 4])),
    "tensor list of ndarrays": lambda L: L.tensor([np.array([1.0, 2.0]), np.array([3.0, 4.0])]),
    "tensor list of float32 ndarrays": lambda L: L.tensor([np.array([1.0], np.float32)]),
    "tensor nested 0-d int tensors": lambda L: L.tensor([[L.tensor(1), L.tensor(2)]]),
    "tensor bool and float": lambda L: L.tensor([True, 2.5]),
    "tensor np.bool_ in list": lambda L: L.tensor([np.bool_(True), False]),
    "tensor np.int8 scalars": lambda L: L.tensor([np.int8(1), np.int8(2)]),
    "tensor np.int8 and float": lambda L: L.tensor([np.int8(1), 2.5]),
    "tensor np.float16 and int": lambda L: L.tensor([np.float16(1), 2]),
    "tensor deep empty": lambda L: L.tensor([[[]]]),
    "tensor range": lambda L: L.tensor(range(3)),
    "tensor big flat list": lambda L: L.tensor([float(i) for i in range(5000)]),
    "tensor big nested list": lambda L: L.tensor([[i, i + 1] for i in range(3000)]),
    "tensor min int64": lambda L: L.tensor([-2**63]),
    "tensor negative into uint8 wraps": lambda L: L.tensor([-1, -128, -200, 255], dtype=L.uint8),
    "tensor float overflow to inf": lambda L: L.tensor([1e40, -1e40], dtype=L.float32),
    "tensor ints into bool": lambda L: L.tensor([5, 0], dtype=L.bool),
    "as_tensor list": lambda L: L.as_tensor([1, 2]),
    "as_tensor ndarray": lambda L: L.as_tensor(np.arange(3.0)),
    "as_tensor dtype": lambda L: L.as_tensor(np.arange(3), dtype=L.float32),
    "from_numpy": lambda L: L.from_numpy(np.arange(6, dtype=np.int16).reshape(2, 3)),
    "frombuffer": lambda L: L.frombuffer(bytearray(b"\x00\x00\x80?\x00\x00\x00@"),
                                         dtype=L.float32),
    "frombuffer count offset": lambda L: L.frombuffer(bytearray(range(16)), dtype=L.int16,
                                                      count=3, offset=2),
    "empty_strided shape": lambda L: L.zeros_like(L.empty_strided((2, 3), (1, 2))),
    "scalar_tensor": lambda L: L.scalar_tensor(3),
    "scalar_tensor dtype": lambda L: L.scalar_tensor(3, dtype=L.int64),
    "zeros": lambda L: L.zeros(2, 3),
    "zeros tuple": lambda L: L.zeros((2, 3)),
    "zeros list": lambda L: L.zeros([4]),
    "zeros size kw": lambda L: L.zeros(size=(2, 1)),
    "zeros 0-d": lambda L: L.zeros(()),
    "zeros empty": lambda L: L.zeros(0, 3),
    "zeros np int": lambda L: L.zeros(np.int64(2)),
    "zeros Size": lambda L: L.zeros(L.ones(2, 3).shape),
    "zeros dtype": lambda L: L.zeros(2, dtype=L.int32),
    "zeros python float dtype": lambda L: L.zeros(2, dtype=float),
    "zeros requires_grad": lambda L: L.zeros(2, requires_grad=True),
    "zeros complex requires_grad": lambda L: L.zeros(2, dtype=L.complex64, requires_grad=True),
    "ones": lambda L: L.ones(3),
    "ones bool": lambda L: L.ones(2, 2, dtype=L.bool),
    "ones size kw": lambda L: L.ones(size=[3]),
    "empty shape": lambda L: L.zeros_like(L.empty(2, 5)),
    "full int": lambda L: L.full((2,), 3),
    "full float": lambda L: L.full((2, 2), 1.5),
    "full bool": lambda L: L.full((2,), True),
    "full complex": lambda L: L.full((2,), 2j),
    "full dtype": lambda L: L.full([2], 7, dtype=L.float64),
    "full float into int": lambda L: L.full((2,), 1.5, dtype=L.int64),
    "full tensor value": lambda L: L.full((2,), L.tensor(3.0)),
    "full requires_grad": lambda L: L.full((2,), 3.0, requires_grad=True),
    "zeros_like": lambda L: L.zeros_like(L.tensor([1, 2])),
    "zeros_like dtype": lambda L: L.zeros_like(L.tensor([1, 2]), dtype=L.float64),
    "ones_like": lambda L: L.ones_like(L.ones(2, 3, dtype=L.float64)),
    "ones_like requires_grad": lambda L: L.ones_like(L.tensor([1, 2]), dtype=L.float32,
                                                     requires_grad=True),
    "empty_like shape": lambda L: L.zeros_like(L.empty_like(L.ones(2, dtype=L.int32))),
    "full_like": lambda L: L.full_like(L.tensor([1, 2]), 7),
    "full_like float into int": lambda L: L.full_like(L.tensor([1, 2]), 2.5),
    "full_like float": lambda L: L.full_like(L.ones(3), 2.5),
    "eye": lambda L: L.eye(3),
    "eye rect": lambda L: L.eye(2, 4),
    "eye dtype": lambda L: L.eye(3, dtype=L.int64),
    "eye 0": lambda L: L.eye(0),
    "eye requires_grad": lambda L: L.eye(2, requires_grad=True),
    "arange int": lambda L: L.arange(5),
    "arange start end": lambda L: L.arange(2, 9),
    "arange step": lambda L: L.arange(1, 10, 3),
    "arange negative step": lambda L: L.arange(10, 0, -3),
    "arange float": lambda L: L.arange(0, 1, 0.1),
    "arange float rounding": lambda L: L.arange(0, 0.3, 0.1),
    "arange float start": lambda L: L.arange(1.0, 5),
    "arange float step": lambda L: L.arange(0, 5, 2.0),
    "arange negative float": lambda L: L.arange(-1.0, 1.0, 0.5),
    "arange dtype": lambda L: L.arange(5, dtype=L.float64),
    "arange float to int32": lambda L: L.arange(0.5, 4.7, 1, dtype=L.int32),
    "arange float to int64": lambda L: L.arange(0.5, 4.7, 1.5, dtype=L.int64),
    "arange float step to int16": lambda L: L.arange(1, 4, 0.5, dtype=L.int16),
    "arange negative float to int32": lambda L: L.arange(-2.5, 3, 1.2, dtype=L.int32),
    "arange empty": lambda L: L.arange(0),
    "arange tensor bound": lambda L: L.arange(L.tensor(3)),
    "arange requires_grad": lambda L: L.arange(0.0, 3.0, requires_grad=True),
    "linspace": lambda L: L.linspace(0, 1, 5),
    "linspace one": lambda L: L.linspace(2, 3, 1),
    "linspace zero": lambda L: L.linspace(0, 1, 0),
    "linspace int dtype": lambda L: L.linspace(0, 10, 5, dtype=L.int64),
    "linspace float64": lambda L: L.linspace(-1, 1, 7, dtype=L.float64),
    "linspace descending": lambda L: L.linspace(3, -3, 4),
    "linspace odd": lambda L: L.linspace(-1, 1, 7),
    "linspace many": lambda L: L.linspace(0.1, 7.3, 101),
    "logspace": lambda L: L.logspace(0, 2, 3),
    "logspace base 2": lambda L: L.logspace(0, 3, 4, base=2),
    "logspace float64": lambda L: L.logspace(-1, 1, 3, dtype=L.float64),
}


@pytest.mark.parametrize("name", list(DETERMINISTIC))
def test_deterministic_factory_matches_torch(name):
    import torch

    f = DETERMINISTIC[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same(f(cr), f(torch))


RANDOM = {
    "rand": lambda L: L.rand(2, 3),
    "rand tuple": lambda L: L.rand((4,)),
    "rand size kw": lambda L: L.rand(size=(2, 2)),
    "rand float64": lambda L: L.rand(3, dtype=L.float64),
    "rand requires_grad": lambda L: L.rand(3, requires_grad=True),
    "rand empty": lambda L: L.rand(0),
    "randn": lambda L: L.randn(3, 2),
    "randn 0-d": lambda L: L.randn(()),
    "randn float64": lambda L: L.randn(2, dtype=L.float64),
    "randint high size": lambda L: L.randint(10, (3,)),
    "randint low high size": lambda L: L.randint(3, 10, (2, 2)),
    "randint dtype": lambda L: L.randint(0, 5, (2,), dtype=L.float32),
    "randperm": lambda L: L.randperm(5),
    "randperm dtype": lambda L: L.randperm(4, dtype=L.float32),
    "rand_like": lambda L: L.rand_like(L.ones(2, 3)),
    "rand_like float64": lambda L: L.rand_like(L.ones(2, dtype=L.float64)),
    "randn_like": lambda L: L.randn_like(L.ones(4)),
    "randint_like": lambda L: L.randint_like(L.ones(2), 5),
    "randint_like int": lambda L: L.randint_like(L.tensor([1, 2]), 3, 9),
    "normal numbers": lambda L: L.normal(0.0, 1.0, size=(2,)),
    "normal tensor mean": lambda L: L.normal(L.zeros(3), 1.0),
    "normal tensors": lambda L: L.normal(L.zeros(2, 1), L.ones(2, 1)),
    "normal tensor std": lambda L: L.normal(0.0, L.ones(3, dtype=L.float64)),
    "bernoulli": lambda L: L.bernoulli(L.full((3,), 0.5)),
    "bernoulli float64": lambda L: L.bernoulli(L.full((2, 2), 0.5, dtype=L.float64)),
    "multinomial": lambda L: L.multinomial(L.tensor([0.2, 0.8]), 3, replacement=True),
    "multinomial 2d": lambda L: L.multinomial(L.tensor([[0.2, 0.8], [1.0, 0.0]]), 2),
    "multinomial 2d replacement": lambda L: L.multinomial(L.ones(3, 4), 6, replacement=True),
}


@pytest.mark.parametrize("name", list(RANDOM))
def test_random_factory_dtype_and_shape_match_torch(name):
    import torch

    f = RANDOM[name]
    _same(f(cr), f(torch), values=False)


def test_random_values_are_in_range():
    cr.manual_seed(0)
    u = cr.rand(10_000).numpy()
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.02
    n = cr.randn(10_000).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05
    r = cr.randint(3, 7, (1000,)).numpy()
    assert set(np.unique(r)) == {3, 4, 5, 6}
    assert sorted(cr.randperm(50).tolist()) == list(range(50))
    m = cr.multinomial(cr.tensor([0.0, 1.0, 0.0]), 5, replacement=True)
    assert m.tolist() == [1] * 5
    m = cr.multinomial(cr.tensor([[0.2, 0.8, 0.0], [1.0, 0.0, 0.0]]), 3)
    assert m[:, 2].tolist() == [2, 2] if hasattr(cr.Tensor, "__getitem__") else True
    assert sorted(m.numpy()[0].tolist()) == [0, 1, 2] and m.numpy()[1, 0] == 0
    counts = np.bincount(cr.multinomial(cr.tensor([1.0, 3.0]), 4000,
                                        replacement=True).numpy(), minlength=2)
    assert abs(counts[1] / 4000 - 0.75) < 0.03
    b = cr.bernoulli(cr.tensor([0.0, 1.0]))
    assert b.tolist() == [0.0, 1.0]


def test_manual_seed_reproduces():
    cr.manual_seed(123)
    a = (cr.rand(3).numpy(), cr.randn(2).numpy(), cr.randint(0, 100, (4,)).numpy())
    cr.manual_seed(123)
    b = (cr.rand(3).numpy(), cr.randn(2).numpy(), cr.randint(0, 100, (4,)).numpy())
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    g = cr.Generator().manual_seed(7)
    x = cr.rand(3, generator=g).numpy()
    g.manual_seed(7)
    np.testing.assert_array_equal(x, cr.rand(3, generator=g).numpy())


def test_as_tensor_and_from_numpy_share_memory():
    import torch

    for lib in (cr, torch):
        arr = np.zeros(3)
        a, b = lib.as_tensor(arr), lib.from_numpy(arr)
        arr[0] = 5.0
        assert a.numpy()[0] == 5.0 and b.numpy()[0] == 5.0
        t = lib.tensor(arr)  # tensor() copies
        arr[1] = 7.0
        assert t.numpy()[1] == 0.0


def test_tensor_copy_construct_warns_like_torch():
    import torch

    msgs = []
    for lib in (cr, torch):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.tensor(lib.ones(2))
        assert w and w[0].category is UserWarning
        msgs.append(str(w[0].message))
    assert msgs[0] == msgs[1]


ERRORS = {
    "requires_grad int tensor": lambda L: L.tensor([1, 2], requires_grad=True),
    "requires_grad int zeros": lambda L: L.zeros(2, dtype=L.int64, requires_grad=True),
    "requires_grad arange": lambda L: L.arange(3, requires_grad=True),
    "requires_grad zeros_like int": lambda L: L.zeros_like(L.tensor([1, 2]),
                                                           requires_grad=True),
    "requires_grad bool full": lambda L: L.full((2,), True, requires_grad=True),
    "ragged": lambda L: L.tensor([[1, 2], [3, 4, 5]]),
    "ragged deep": lambda L: L.tensor([[[1], [2]], [[3], [4, 5]]]),
    "not a sequence": lambda L: L.tensor([[1, 2], 3]),
    "None": lambda L: L.tensor(None),
    "None in list": lambda L: L.tensor([None]),
    "dict": lambda L: L.tensor({1: 2}),
    "string": lambda L: L.tensor("a"),
    "zeros negative": lambda L: L.zeros(2, -1),
    "ones negative": lambda L: L.ones(2, -1),
    "rand negative": lambda L: L.rand(-3),
    "full negative": lambda L: L.full((-1,), 1.0),
    "ones float size": lambda L: L.ones(2.5),
    "zeros bool size": lambda L: L.zeros(True),
    "full int size": lambda L: L.full(2, 1.0),
    "zeros size twice": lambda L: L.zeros(2, size=(2,)),
    "eye negative": lambda L: L.eye(-1),
    "eye negative m": lambda L: L.eye(2, -1),
    "arange zero step": lambda L: L.arange(0, 10, 0),
    "arange wrong sign": lambda L: L.arange(0, 10, -1),
    "arange int step rounds to 0": lambda L: L.arange(1, 4, 0.5, dtype=L.int64),
    "linspace negative": lambda L: L.linspace(0, 1, -1),
    "rand int dtype": lambda L: L.rand(2, dtype=L.int32),
    "rand bool dtype": lambda L: L.rand(2, dtype=L.bool),
    "randn uint8 dtype": lambda L: L.randn(2, dtype=L.uint8),
    "randint low >= high": lambda L: L.randint(5, 2, (2,)),
    "randint int size": lambda L: L.randint(5, 3),
    "randperm negative": lambda L: L.randperm(-1),
    "multinomial too many": lambda L: L.multinomial(L.tensor([0.5, 0.5]), 3),
    "from_numpy not array": lambda L: L.from_numpy([1, 2]),
    "multinomial zero sum": lambda L: L.multinomial(L.tensor([0.0, 0.0]), 1),
    "int64 overflow": lambda L: L.tensor([1, 2**64]),
    "frombuffer too short": lambda L: L.frombuffer(bytearray(8), dtype=L.float32, count=3),
    "int64 overflow 0-d": lambda L: L.tensor(2**63),
    "float too big for int64": lambda L: L.tensor([2.0**70], dtype=L.int64),
    "nan into int64": lambda L: L.tensor([float("nan")], dtype=L.int64),
    "too big for uint8": lambda L: L.tensor([300], dtype=L.uint8),
    "too small for int8": lambda L: L.tensor([-129], dtype=L.int8),
    "too big for int32": lambda L: L.tensor([2**31], dtype=L.int32),
    "multinomial negative": lambda L: L.multinomial(L.tensor([-1.0, 2.0]), 1),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_factory_errors_match_torch(name):
    import torch

    f = ERRORS[name]
    with pytest.raises(Exception) as theirs:
        f(torch)
    with pytest.raises(Exception) as ours:
        f(cr)
    assert type(ours.value) is type(theirs.value)
    if name not in ("not a sequence", "from_numpy not array"):
        assert str(ours.value) == str(theirs.value)


def test_numpy_unsupported_dtype():
    with pytest.raises(TypeError, match="can't convert np.ndarray of type"):
        cr.from_numpy(np.array(["a"]))


def test_out_argument():
    out = cr.empty(0)
    r = cr.zeros(2, 2, out=out)
    assert r is out and out.shape == (2, 2)
    cr.arange(4, out=out)
    assert out.tolist() == [0, 1, 2, 3]


def test_generator_seeds_like_torch():
    import torch

    assert cr.Generator().initial_seed() == torch.Generator().initial_seed()
    assert isinstance(cr.initial_seed(), int)
    cr.manual_seed(5)
    assert cr.initial_seed() == 5
    s = cr.seed()
    assert cr.initial_seed() == s
    state = cr.get_rng_state()
    a = cr.rand(3).numpy()
    cr.set_rng_state(state)
    np.testing.assert_array_equal(a, cr.rand(3).numpy())
    # two fresh generators draw the same numbers, as in torch
    np.testing.assert_array_equal(cr.rand(4, generator=cr.Generator()).numpy(),
                                  cr.rand(4, generator=cr.Generator()).numpy())


def _random_nested(r, makers, kinds, dims):
    if not dims:
        return makers[int(r.choice(kinds))]()
    return [_random_nested(r, makers, kinds, dims[1:]) for _ in range(dims[0])]


def test_tensor_inference_fuzz_matches_torch():
    import torch

    r = np.random.default_rng(3)
    makers = [lambda: bool(r.integers(2)), lambda: int(r.integers(-5, 5)),
              lambda: float(r.standard_normal()), lambda: np.float32(r.standard_normal()),
              lambda: np.float64(r.standard_normal()), lambda: np.int32(r.integers(9)),
              lambda: np.int8(r.integers(9)), lambda: np.uint8(r.integers(9))]
    for _ in range(300):
        kinds = r.choice(len(makers), size=int(r.integers(1, 4)))
        shape = tuple(int(s) for s in r.integers(1, 4, size=int(r.integers(1, 3))))
        data = _random_nested(r, makers, kinds, shape)
        ours, theirs = cr.tensor(data), torch.tensor(data)
        assert ours.dtype.name == _name(theirs.dtype), data
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_empty_strided_and_frombuffer_memory():
    import torch

    for L in (cr, torch):
        assert L.empty_strided((2, 3), (1, 2)).stride() == (1, 2)
        buf = bytearray(8)
        t = L.frombuffer(buf, dtype=L.float32)
        buf[0:4] = bytes(bytearray(b"\x00\x00\x80?"))
        assert t.tolist() == [1.0, 0.0]


@pytest.mark.parametrize("make", [
    lambda d: cr.zeros(2, device=d), lambda d: cr.ones_like(cr.ones(1), device=d),
    lambda d: cr.arange(3, device=d), lambda d: cr.rand(2, device=d),
    lambda d: cr.tensor([1.0], device=d), lambda d: cr.eye(2, device=d),
    lambda d: cr.full((1,), 2.0, device=d), lambda d: cr.randint(0, 3, (2,), device=d),
], ids=["zeros", "ones_like", "arange", "rand", "tensor", "eye", "full", "randint"])
def test_factories_accept_cpu_and_refuse_other_devices(make):
    assert make("cpu").device == "cpu"
    assert make(cr.device("cpu")).device == "cpu"
    with pytest.raises(AssertionError, match="CUDA"):  # CPU-only torch raises this too
        make("cuda")
    with pytest.raises(RuntimeError, match="mps"):
        make("mps")

"""Shape and view ops (ops/shape.py): one table drives values, gradients, central differences
and second-order gradients against PyTorch; edge cases and errors follow."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from test_ops_reduction import check_error, make_inputs, run_case

A = (3, 4)
B = (2, 3, 4)
V = (4,)

CASES = [
    ("view_as", lambda T, x: x.view_as(T.zeros(3, 4)), [(2, 6)]),
    ("reshape_as", lambda T, x: x.t().reshape_as(T.zeros(2, 6)), [A]),
    ("unflatten", lambda T, x: x.unflatten(1, (2, 2)), [A]),
    ("unflatten_infer", lambda T, x: T.unflatten(x, -1, (2, -1)), [B]),
    ("movedim", lambda T, x: T.movedim(x, 0, -1), [B]),
    ("movedim_multi", lambda T, x: x.movedim((0, 1), (2, 0)), [B]),
    ("moveaxis", lambda T, x: T.moveaxis(x, -1, 0), [B]),
    ("swapaxes", lambda T, x: T.swapaxes(x, 0, 2), [B]),
    ("expand_as", lambda T, x, y: x.expand_as(y) * y, [V, A]),
    ("broadcast_to", lambda T, x: T.broadcast_to(x, (2, 3, 4)), [V]),
    ("broadcast_to_method", lambda T, x: x.broadcast_to((3, 4)), [(3, 1)]),
    ("broadcast_tensors", lambda T, x, y: T.broadcast_tensors(x, y), [(3, 1), V]),
    ("repeat", lambda T, x: x.repeat(2, 1, 3), [A]),
    ("repeat_more_dims", lambda T, x: x.repeat(2, 2), [V]),
    ("repeat_interleave", lambda T, x: x.repeat_interleave(2), [A]),
    ("repeat_interleave_dim", lambda T, x: T.repeat_interleave(x, 3, dim=-1), [A]),
    ("repeat_interleave_tensor", lambda T, x: x.repeat_interleave(T.tensor([1, 0, 3]), dim=0),
     [A]),
    ("tile", lambda T, x: T.tile(x, (2,)), [A]),
    ("tile_more", lambda T, x: x.tile(2, 1, 2), [A]),
    ("cat", lambda T, x, y: T.cat([x, y]), [A, (2, 4)]),
    ("cat_dim", lambda T, x, y: T.cat((x, y, x), dim=-1), [A, (3, 2)]),
    ("concat", lambda T, x, y: T.concat([x, y], 1), [A, A]),
    ("concatenate", lambda T, x, y: T.concatenate([x, y], axis=0), [A, A]),
    ("cat_legacy_empty", lambda T, x: T.cat([x, T.tensor([])]), [A]),
    ("cat_one_input_needs_grad", lambda T, x: T.cat([x, T.ones(2, 4, dtype=x.dtype)]), [A]),
    ("stack", lambda T, x, y: T.stack([x, y]), [A, A]),
    ("stack_last", lambda T, x, y: T.stack((x, y), dim=-1), [A, A]),
    ("hstack", lambda T, x, y: T.hstack([x, y]), [A, (3, 2)]),
    ("hstack_1d", lambda T, x, y: T.hstack([x, y]), [V, (2,)]),
    ("vstack", lambda T, x, y: T.vstack([x, y]), [V, V]),
    ("vstack_2d", lambda T, x, y: T.vstack([x, y]), [A, (1, 4)]),
    ("dstack", lambda T, x, y: T.dstack([x, y]), [A, A]),
    ("dstack_1d", lambda T, x, y: T.dstack([x, y]), [V, V]),
    ("split", lambda T, x: x.split(2, 1), [A]),
    ("split_uneven", lambda T, x: T.split(x, 2), [(5, 2)]),
    ("split_sizes", lambda T, x: T.split(x, [1, 3], dim=-1), [A]),
    ("split_partial", lambda T, x: x.split([1, 2])[1], [A]),
    ("split_partial_2", lambda T, x: (lambda p: p[0] * 2 + p[2])(x.split(1)), [A]),
    ("chunk", lambda T, x: x.chunk(2, 1), [A]),
    ("chunk_uneven", lambda T, x: T.chunk(x, 3), [(5, 2)]),
    ("chunk_fewer", lambda T, x: T.chunk(x, 4, 1), [(2, 6)]),
    ("unbind", lambda T, x: x.unbind(), [A]),
    # one output only: the engine hands the node a bare gradient, not a list
    ("split_single_piece", lambda T, x: x.split(5), [A]),
    ("chunk_single", lambda T, x: x.chunk(1, 1)[0] * 2, [A]),
    ("unbind_single", lambda T, x: T.stack([x]).unbind()[0] * x, [A]),
    ("unbind_dim", lambda T, x: T.unbind(x, -1), [B]),
    ("unbind_partial", lambda T, x: x.unbind(1)[2] * 3, [A]),
    ("tensor_split_sections", lambda T, x: T.tensor_split(x, 3, dim=1), [(2, 7)]),
    ("tensor_split_indices", lambda T, x: x.tensor_split([1, 3]), [(5, 2)]),
    ("tensor_split_neg", lambda T, x: x.tensor_split((-2,), dim=1), [A]),
    ("hsplit", lambda T, x: T.hsplit(x, 2), [A]),
    ("hsplit_1d", lambda T, x: x.hsplit([1, 3]), [V]),
    ("vsplit", lambda T, x: x.vsplit(3), [A]),
    ("dsplit", lambda T, x: T.dsplit(x, [1]), [B]),
    ("column_stack", lambda T, x, y: T.column_stack([x, y]), [(3,), (3, 2)]),
    ("column_stack_0d", lambda T, x: T.column_stack([x.sum(), x.amax()]), [A]),
    ("row_stack", lambda T, x, y: T.row_stack((x, y)), [V, A]),
    ("tril_inplace", lambda T, x: (x * 1).tril_(1), [A]),
    ("triu_inplace", lambda T, x: (x * 2).triu_(), [B]),
    ("narrow", lambda T, x: T.narrow(x, 1, 1, 2), [A]),
    ("narrow_neg", lambda T, x: x.narrow(-1, -2, 2), [B]),
    ("flip", lambda T, x: T.flip(x, (0, 2)), [B]),
    ("flip_method", lambda T, x: x.flip(-1), [A]),
    ("flip_method_varargs", lambda T, x: x.flip(0, 1), [A]),
    ("flip_method_kw", lambda T, x: x.flip(dims=[1]), [A]),
    ("fliplr", lambda T, x: T.fliplr(x), [A]),
    ("flipud", lambda T, x: x.flipud(), [V]),
    ("roll", lambda T, x: T.roll(x, 2), [A]),
    ("roll_dims", lambda T, x: x.roll((1, -2), (0, 2)), [B]),
    ("roll_dim", lambda T, x: T.roll(x, -1, 1), [A]),
    ("rot90", lambda T, x: T.rot90(x), [A]),
    ("rot90_k", lambda T, x: x.rot90(3, (1, 2)), [B]),
    ("rot90_neg", lambda T, x: T.rot90(x, -1, [0, 1]), [A]),
    ("rot90_2", lambda T, x: T.rot90(x, 2, [1, 0]), [A]),
    ("tril", lambda T, x: T.tril(x), [A]),
    ("tril_k", lambda T, x: x.tril(-1), [B]),
    ("triu", lambda T, x: x.triu(1), [A]),
    ("triu_batch", lambda T, x: T.triu(x, -1), [B]),
    ("diag_matrix", lambda T, x: T.diag(x), [A]),
    ("diag_matrix_offset", lambda T, x: x.diag(-1), [A]),
    ("diag_vector", lambda T, x: T.diag(x, 1), [V]),
    ("diagonal", lambda T, x: x.diagonal(), [A]),
    ("diagonal_offset", lambda T, x: T.diagonal(x, 1, 2, 0), [B]),
    ("diagonal_neg", lambda T, x: x.diagonal(-1, -1, -2), [B]),
    ("diag_embed", lambda T, x: T.diag_embed(x), [A]),
    ("diag_embed_offset", lambda T, x: x.diag_embed(1, 0, 2), [A]),
    ("diagflat", lambda T, x: T.diagflat(x), [(2, 2)]),
    ("diagflat_offset", lambda T, x: x.diagflat(-2), [V]),
    ("atleast_1d", lambda T, x: T.atleast_1d(x.sum()), [A]),
    ("atleast_2d", lambda T, x, y: T.atleast_2d(x, y.sum()), [V, A]),
    ("atleast_3d", lambda T, x, y: T.atleast_3d((x, y)), [V, A]),
    ("atleast_3d_0d", lambda T, x: T.atleast_3d(x.sum()), [A]),
    ("ravel", lambda T, x: T.ravel(x.t()), [A]),
    ("meshgrid_ij", lambda T, x, y: T.meshgrid(x, y, indexing="ij"), [V, (3,)]),
    ("meshgrid_xy", lambda T, x, y: T.meshgrid([x, y], indexing="xy"), [V, (3,)]),
    ("meshgrid_default_ij", lambda T, x, y: T.meshgrid(x, y), [V, (3,)]),
    ("meshgrid_3", lambda T, x, y, z: T.meshgrid(x, y, z, indexing="xy"), [V, (3,), (2,)]),
    ("squeeze_tuple", lambda T, x: x.reshape(1, 3, 1, 4).squeeze((0, 2)), [A]),
    ("squeeze_tuple_neg", lambda T, x: T.squeeze(x.reshape(3, 1, 4, 1), (-1, 0)), [A]),
    ("squeeze_dim", lambda T, x: x.reshape(1, 12).squeeze(0), [A]),
    ("flatten", lambda T, x: x.flatten(1), [B]),
    ("contiguous_clone", lambda T, x: x.t().contiguous().clone(), [A]),
    ("permute_chain", lambda T, x: x.permute(2, 0, 1).reshape(4, 6).t(), [B]),
    # 0-d and empty inputs
    ("flip_0d", lambda T, x: x.sum().flip(0), [A]),
    ("roll_0d", lambda T, x: x.sum().roll(1), [A]),
    ("unflatten_empty", lambda T, x: x[:0].unflatten(1, (2, 2)), [A]),
    ("cat_empty", lambda T, x: T.cat([x[:0], x]), [A]),
    ("split_empty_piece", lambda T, x: x.split([0, 3]), [A]),
    ("stack_empty", lambda T, x: T.stack([x[:0], x[:0]]), [A]),
    ("repeat_zero", lambda T, x: x.repeat(0, 1), [A]),
    ("narrow_zero", lambda T, x: x.narrow(0, 1, 0), [A]),
]


@pytest.mark.torch
@pytest.mark.parametrize("name,fn,specs", CASES, ids=[c[0] for c in CASES])
def test_shape_table(name, fn, specs):
    arrays = make_inputs(specs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_case(fn, arrays)


# --------------------------------------------------------------------------------------
# Node names and multi-output plumbing
# --------------------------------------------------------------------------------------
NAMES = [
    (lambda x: x.unflatten(1, (2, 2)), "ViewBackward0"),
    (lambda x: x.movedim(0, 1), "PermuteBackward0"),
    (lambda x: x.repeat(2, 1), "RepeatBackward0"), (lambda x: x.tile(2), "RepeatBackward0"),
    (lambda x: x.repeat_interleave(2), "ViewBackward0"),
    (lambda x: x.repeat_interleave(cr.tensor([1, 2, 0]), dim=0), "IndexSelectBackward0"),
    (lambda x: cr.cat([x, x]), "CatBackward0"), (lambda x: cr.stack([x, x]), "StackBackward0"),
    (lambda x: cr.hstack([x, x]), "CatBackward0"), (lambda x: cr.vstack([x, x]), "CatBackward0"),
    (lambda x: x.split(2)[0], "SplitBackward0"),
    (lambda x: x.split([1, 2])[0], "SplitWithSizesBackward0"),
    (lambda x: x.chunk(2)[1], "SplitBackward0"), (lambda x: x.unbind()[0], "UnbindBackward0"),
    (lambda x: x.tensor_split(2)[0], "SliceBackward0"),
    (lambda x: x.narrow(1, 1, 2), "SliceBackward0"), (lambda x: x.flip(0), "FlipBackward0"),
    (lambda x: x.fliplr(), "FlipBackward0"), (lambda x: x.roll(1), "RollBackward0"),
    (lambda x: x.rot90(), "Rot90Backward0"), (lambda x: x.tril(), "TrilBackward0"),
    (lambda x: x.triu(), "TriuBackward0"), (lambda x: x.diagonal(), "DiagonalBackward0"),
    (lambda x: x.diag_embed(), "DiagEmbedBackward0"),
    (lambda x: x.diagflat(), "DiagEmbedBackward0"),
    (lambda x: x[0].diag(), "DiagEmbedBackward0"),
    (lambda x: cr.atleast_3d(x), "UnsqueezeBackward0"), (lambda x: x.ravel(), "ViewBackward0"),
    (lambda x: cr.meshgrid(x[0], x[1], indexing="ij")[0], "ExpandBackward0"),
    (lambda x: x.unsqueeze(0).squeeze((0,)), "SqueezeBackward2"),
    (lambda x: x.unsqueeze(0).squeeze(0), "SqueezeBackward1"),
    (lambda x: x.unsqueeze(0).squeeze(), "SqueezeBackward0"),
    (lambda x: cr.broadcast_tensors(x, x[0])[1], "ExpandBackward0"),
]


@pytest.mark.parametrize("fn,name", NAMES, ids=[n[1] + str(i) for i, n in enumerate(NAMES)])
def test_node_names(fn, name):
    x = cr.tensor(make_inputs([A])[0], requires_grad=True)
    assert fn(x).grad_fn.name() == name


def test_split_outputs_share_one_node():
    x = cr.tensor(make_inputs([A])[0], requires_grad=True)
    parts = x.split(1)
    assert len({id(p.grad_fn) for p in parts}) == 1
    assert parts[0].grad_fn.num_outputs == 3
    assert [p._output_nr for p in parts] == [0, 1, 2]


def test_unused_outputs_get_zero_grad():
    x = cr.tensor(make_inputs([A])[0], requires_grad=True)
    a, b, c = x.unbind()
    (b * 2).sum().backward()
    expect = np.zeros(A)
    expect[1] = 2
    np.testing.assert_array_equal(x.grad.numpy(), expect)


def test_iterating_a_tensor_unbinds():
    x = cr.tensor(make_inputs([A])[0], requires_grad=True)
    rows = list(x)
    assert len(rows) == 3 and rows[0].grad_fn.name() == "UnbindBackward0"
    rows[2].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[2], 1.0)


@pytest.mark.torch
def test_cat_and_stack_promote_like_torch():
    import torch

    for a, b in (([1, 2], [0.5, 1.5]), ([True, False], [3, 4])):
        for T in (cr, torch):
            ta, tb = T.tensor(a), T.tensor(b)
            got = (T.cat([ta, tb]), T.stack([ta, tb]), T.cat([tb, ta]))
            if T is cr:
                mine = got
            else:
                for m, t in zip(mine, got):
                    assert str(m.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
                    assert m.tolist() == t.tolist()


def test_atleast_returns_input_when_enough_dims():
    x = cr.tensor(make_inputs([A])[0], requires_grad=True)
    assert cr.atleast_1d(x) is x and cr.atleast_2d(x) is x
    assert isinstance(cr.atleast_1d(x, x), tuple)


def test_chunk_matches_numpy_sizes():
    x = cr.tensor(np.arange(10.0))
    assert [len(c) for c in x.chunk(4)] == [3, 3, 3, 1]
    assert [len(c) for c in x.chunk(6)] == [2, 2, 2, 2, 2]


def test_no_graph_under_no_grad():
    x = cr.tensor(make_inputs([A])[0], requires_grad=True)
    with cr.no_grad():
        assert cr.cat([x, x]).grad_fn is None
        assert all(p.grad_fn is None for p in x.split(2))


# --------------------------------------------------------------------------------------
# Bad inputs: PyTorch's exception type and message
# --------------------------------------------------------------------------------------
X = np.arange(12.0).reshape(3, 4)
ERRORS = [
    (lambda T: T.tensor(X).flip(2), IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    (lambda T: T.tensor(X).flip((0, 0)), RuntimeError, "dim 0 appears multiple times"),
    (lambda T: T.tensor(X).roll((1, 2), 0), RuntimeError,
     "shifts and dimensions must align. shifts: 2, dims:1"),
    (lambda T: T.tensor(X).rot90(1, (0, 0)), RuntimeError,
     "expected rotation dims to be different, but got dim0 = 0 and dim1 = 0"),
    (lambda T: T.tensor(X).rot90(1, (0, 1, 2)), RuntimeError,
     "expected total rotation dims == 2, but got dims = 3"),
    (lambda T: T.tensor([1.0]).rot90(), RuntimeError,
     "expected total dims >= 2, but got total dims = 1"),
    (lambda T: T.tensor([1.0]).tril(), RuntimeError,
     "tril: input tensor must have at least 2 dimensions"),
    (lambda T: T.zeros(2, 2, 2).diag(), RuntimeError, "diag(): Supports 1D or 2D tensors. Got 3D"),
    (lambda T: T.tensor(X).narrow(1, 5, 1), IndexError,
     "start out of range (expected to be in range of [-4, 4], but got 5)"),
    (lambda T: T.tensor(X).narrow(1, 1, 5), RuntimeError,
     "start (1) + length (5) exceeds dimension size (4)."),
    (lambda T: T.tensor(X).split(0), RuntimeError,
     "split_size can only be 0 if dimension size is 0, but got dimension size of 3"),
    (lambda T: T.tensor(X).split([1, 1]), RuntimeError,
     "split_with_sizes expects split_sizes to sum exactly to 3 (input tensor's size at "
     "dimension 0), but got split_sizes=[1, 1]"),
    (lambda T: T.tensor(X).chunk(0), RuntimeError,
     "chunk expects `chunks` to be greater than 0, got: 0"),
    (lambda T: T.tensor(X).unflatten(1, (3, 2)), RuntimeError,
     "unflatten: Provided sizes [3, 2] don't multiply up to the size of dim 1 (4) in the "
     "input tensor"),
    (lambda T: T.tensor(X).unflatten(1, ()), RuntimeError, "unflatten: sizes must be non-empty"),
    (lambda T: T.tensor(X).movedim((0, 1), (0,)), RuntimeError,
     "movedim: Invalid source or destination dims: source ([0, 1] dims) should contain the "
     "same number of dims as destination ([0] dims)"),
    (lambda T: T.tensor(X).movedim((0, 0), (0, 1)), RuntimeError,
     "movedim: repeated dim in `source` ([0, 0])"),
    (lambda T: T.tensor(X).repeat(2), RuntimeError,
     "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"),
    (lambda T: T.cat([T.tensor(X), T.zeros(2, 3)]), RuntimeError,
     "Sizes of tensors must match except in dimension 0. Expected size 4 but got size 3 for "
     "tensor number 1 in the list."),
    (lambda T: T.cat([T.tensor(X), T.zeros(3, 4, 1)]), RuntimeError,
     "Tensors must have same number of dimensions: got 2 and 3"),
    (lambda T: T.cat([]), ValueError, "expected a non-empty list of Tensors"),
    (lambda T: T.cat([T.tensor(X), T.tensor(X)], 2), IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    (lambda T: T.stack([T.tensor(X), T.zeros(3)]), RuntimeError,
     "stack expects each tensor to be equal size, but got [3, 4] at entry 0 and [3] at entry 1"),
    (lambda T: T.stack([]), RuntimeError, "stack expects a non-empty TensorList"),
    (lambda T: T.stack([T.tensor(X)], 3), IndexError,
     "Dimension out of range (expected to be in range of [-3, 2], but got 3)"),
    (lambda T: T.meshgrid(T.tensor(X), indexing="ij"), RuntimeError,
     "torch.meshgrid: Expected 0D or 1D tensor in the tensor list"),
    (lambda T: T.tensor([1.0]).fliplr(), RuntimeError, "Input must be >= 2-d."),
    (lambda T: T.tensor(1.0).flipud(), RuntimeError, "Input must be >= 1-d."),
    (lambda T: T.broadcast_tensors(T.tensor(X), T.zeros(3)), RuntimeError,
     "The size of tensor a (4) must match the size of tensor b (3) at non-singleton dimension 1"),
    (lambda T: T.tensor(X).expand(2, 3), RuntimeError,
     "The expanded size of the tensor (3) must match the existing size (4) at non-singleton "
     "dimension 1.  Target sizes: [2, 3].  Tensor sizes: [3, 4]"),
    (lambda T: T.tensor(X).tensor_split(0), RuntimeError,
     "number of sections must be larger than 0, got 0"),
    (lambda T: T.tensor(X).repeat_interleave(T.tensor([1, 2]), dim=0), RuntimeError,
     "repeats must have the same size as input along dim, but got repeats.size(0) = 2 and "
     "input.size(0) = 3"),
    (lambda T: T.tensor(X).repeat_interleave(-1), RuntimeError, "Repeats must be non-negative"),
    (lambda T: T.tensor(X).squeeze((0, 0)), RuntimeError, "dim 0 appears multiple times"),
    (lambda T: T.tensor(X).diagonal(0, 0, 0), RuntimeError,
     "diagonal dimensions cannot be identical 0, 0"),
    (lambda T: T.tensor(X).diag_embed(0, 0, 3), IndexError,
     "Dimension out of range (expected to be in range of [-3, 2], but got 3)"),
    (lambda T: T.tensor(X).reshape(5), RuntimeError, "shape '[5]' is invalid for input of size 12"),
    (lambda T: T.tensor(X).view(-1, -1), RuntimeError, "only one dimension can be inferred"),
    (lambda T: T.tensor(X).unbind(2), IndexError, "Dimension out of range"),
    (lambda T: T.tensor(X).hsplit(3), RuntimeError,
     "torch.hsplit attempted to split along dimension 1, but the size of the dimension 4 is "
     "not divisible by the split_size 3!"),
    (lambda T: T.zeros(3).vsplit(1), RuntimeError,
     "torch.vsplit requires a tensor with at least 2 dimension, but got a tensor with 1 "
     "dimensions!"),
    (lambda T: T.tensor(X).dsplit(1), RuntimeError, "torch.dsplit requires a tensor with at "
     "least 3 dimension, but got a tensor with 2 dimensions!"),
    (lambda T: T.tensor(X).requires_grad_().tril_(), RuntimeError,
     "a leaf Variable that requires grad is being used in an in-place operation."),
    (lambda T: T.tensor(1.0).roll(1, 0), IndexError,
     "Dimension specified as 0 but tensor has no dimensions"),
    (lambda T: T.tensor(1.0).unbind(), IndexError,
     "Dimension specified as 0 but tensor has no dimensions"),
]


@pytest.mark.torch
@pytest.mark.parametrize("fn,exc,msg", ERRORS, ids=[f"err{i}" for i in range(len(ERRORS))])
def test_errors(fn, exc, msg):
    check_error(fn, exc, msg)


def test_meshgrid_without_indexing_warns_and_uses_ij():
    a, b = cr.tensor([1.0, 2.0, 3.0]), cr.tensor([4.0, 5.0])
    with pytest.warns(UserWarning, match="indexing"):
        ga, gb = cr.meshgrid(a, b)
    np.testing.assert_array_equal(ga.numpy(), np.meshgrid(a.numpy(), b.numpy(), indexing="ij")[0])
    assert tuple(gb.shape) == (3, 2)


@pytest.mark.torch
def test_cat_and_stack_grads_keep_input_dtypes():
    import torch

    for lib in (cr, torch):
        a = lib.ones(2, dtype=lib.float32, requires_grad=True)
        b = lib.ones(2, dtype=lib.float64, requires_grad=True)
        a2, b2 = a * 2, b * 2  # non-leaves: the cast must happen in Cat/StackBackward0
        seen = []
        a2.register_hook(lambda g: seen.append(str(g.dtype)))
        lib.cat([a2, b2]).sum().backward(retain_graph=True)
        lib.stack([a2, b2]).sum().backward()
        assert [s.split(".")[-1] for s in seen] == ["float32", "float32"]
        assert str(a.grad.dtype).endswith("float32") and str(b.grad.dtype).endswith("float64")
        assert a.grad.tolist() == [4.0, 4.0]

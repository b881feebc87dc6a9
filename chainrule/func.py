"""Function transforms in the style of ``torch.func`` / JAX: grad, vjp, jvp, jacrev, jacfwd,
hessian, vmap.

Each transform runs the function on chainrule tensors and differentiates the recorded graph
with ``create_graph=True``, so transforms compose (``jacfwd(jacrev(f))``): the result of an
inner transform is itself a differentiable function of the outer transform's inputs.

How inputs are seen by the function: an argument that already requires grad is passed as a
view of itself (a distinct graph node, so a closure that uses the same tensor is not confused
with the argument: ``grad(lambda x: grad(lambda y: (x * y).sum())(x).sum())`` is 1); any
other argument is passed as a fresh leaf. Results that depend on nothing but those fresh
leaves are detached before they are returned ("lifted"), so ``grad(f)(x)`` is a plain tensor
while ``grad(f)(w)`` for a ``w`` that requires grad stays differentiable w.r.t. ``w``.

Forward mode: ``jvp`` and ``jacfwd`` of a function whose result depends on nothing outside
the transform run the nodes' jvp rules over the recorded graph (one pass per tangent, see
``chainrule.autograd.forward_ad``); otherwise (and where a node has no rule) they use the
double-vjp trick (see ``chainrule.autograd.functional``): two reverse passes.

``vmap`` first tries one call on the whole batch (right for functions made of broadcasting
ops that treat the leading dimension as a batch) and checks it: the output shapes must be
``(batch, *per-sample shape)`` and the first and last rows must equal separate per-sample
calls. If that fails it loops over the batch and stacks. The check is a heuristic: a function
that mixes samples only in rows other than the first and last would fool it; pass
``chunk_size=1`` to force the loop.
"""
from __future__ import annotations

import functools

import numpy as np

from .autograd import functional as _F

__all__ = [
    "functional_call",
    "stack_module_state",
    "grad",
    "grad_and_value",
    "hessian",
    "jacfwd",
    "jacrev",
    "jvp",
    "vjp",
    "vmap",
]


def _cr():
    import chainrule

    return chainrule


def _is_tensor(x) -> bool:
    return isinstance(x, _cr().Tensor)


# ======================================================================================
# Pytrees: tensors inside tuples, lists and dicts
# ======================================================================================
def _flatten(tree):
    """``(leaves, spec)``; leaves are every non-container value, in order."""
    if isinstance(tree, (tuple, list)):
        leaves, specs = [], []
        for item in tree:
            lv, sp = _flatten(item)
            leaves.extend(lv)
            specs.append(sp)
        return leaves, (type(tree), specs)
    if isinstance(tree, dict):
        leaves, specs = [], []
        keys = list(tree)
        for k in keys:
            lv, sp = _flatten(tree[k])
            leaves.extend(lv)
            specs.append(sp)
        return leaves, (dict, (keys, specs))
    return [tree], None


def _unflatten(leaves, spec):
    it = iter(leaves)
    out = _build(it, spec)
    return out


def _build(it, spec):
    if spec is None:
        return next(it)
    kind, specs = spec
    if kind is dict:
        keys, sub = specs
        return {k: _build(it, s) for k, s in zip(keys, sub)}
    items = [_build(it, s) for s in specs]
    if kind is tuple or kind is list:
        return kind(items)
    try:  # namedtuple
        return kind(*items)
    except TypeError:
        return kind(items)


def _tree_map(fn, tree):
    leaves, spec = _flatten(tree)
    return _unflatten([fn(x) for x in leaves], spec)


# ======================================================================================
# Inputs seen by the function, and lifting results back out
# ======================================================================================
def _func_alias(t, fresh: set):
    if not _is_tensor(t):
        return t
    if t._data.dtype.kind not in "fc":
        raise RuntimeError(
            "only Tensors of floating point and complex dtype can require gradients "
            f"(got an input of dtype {t.dtype})")
    if t.requires_grad:
        return t.view_as(t)
    a = t.detach().requires_grad_(True)
    fresh.add(id(a))
    return a


def _depends_only_on(t, fresh: set) -> bool:
    """True if every leaf reachable from ``t`` is one of the ``fresh`` leaves."""
    from .autograd.function import AccumulateGrad

    if t.grad_fn is None:
        return id(t) in fresh
    seen = set()
    stack = [t.grad_fn]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if type(node) is AccumulateGrad:
            if id(node.variable) not in fresh:
                return False
            continue
        if not node.next_functions:
            return False  # a node with no inputs: not ours, keep the graph
        for child, _ in node.next_functions:
            if child is not None and child not in seen:
                stack.append(child)
    return True


def _lift(tree, fresh: set):
    """Detach results whose graph leads only to this transform's own fresh leaves."""
    def one(x):
        if _is_tensor(x) and x.requires_grad and _depends_only_on(x, fresh):
            return x.detach()
        return x
    return _tree_map(one, tree)


def _check_argnums(argnums, nargs, api):
    if isinstance(argnums, int):
        nums = (argnums,)
    elif isinstance(argnums, tuple) and argnums and all(isinstance(a, int) for a in argnums):
        nums = argnums
    else:
        raise RuntimeError(
            f"{api}: Expected argnums to be int or Tuple[int, ...], got {argnums!r}")
    out = []
    for a in nums:
        if not -nargs <= a < nargs:
            raise RuntimeError(
                f"Got argnum={a}, but only {nargs} positional inputs")
        out.append(a % nargs)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{api}: argnums must be unique, got {argnums!r}")
    return tuple(out)


def _prepare(args, argnums, api):
    """Alias the differentiated arguments; returns new args, their leaves, fresh ids."""
    nums = _check_argnums(argnums, len(args), api)
    fresh: set = set()
    args = list(args)
    leaves_per_arg = []
    for a in nums:
        args[a] = _tree_map(lambda t: _func_alias(t, fresh), args[a])
        leaves, _ = _flatten(args[a])
        if not any(_is_tensor(x) for x in leaves):
            raise RuntimeError(f"{api}: Expected argument {a} to be a Tensor or a pytree of "
                               f"Tensors, got {type(args[a])}")
        leaves_per_arg.append(leaves)
    return args, nums, leaves_per_arg, fresh


def _zeros_for(grads, leaves):
    cr = _cr()
    return [g if g is not None else (cr.zeros_like(x) if _is_tensor(x) else None)
            for g, x in zip(grads, leaves)]


def _needs_graph(outputs, fresh) -> bool:
    """Must derivatives of ``outputs`` be recorded? Not when their graphs lead only to this
    transform's fresh leaves: the results would be detached anyway (``_lift``), so the
    top-level call skips create_graph and runs every formula at NumPy speed."""
    return any(_is_tensor(o) and o.requires_grad and not _depends_only_on(o, fresh)
               for o in outputs)


def _grad_all(outputs, leaves, grad_outputs=None, create_graph=True):
    """Gradients (zeros where unused) w.r.t. the tensor ``leaves``."""
    from .autograd import grad as _grad

    tensors = [x for x in leaves if _is_tensor(x)]
    outs, gos = [], []
    for i, o in enumerate(outputs):
        if o.requires_grad:
            outs.append(o)
            gos.append(None if grad_outputs is None else grad_outputs[i])
    if outs:
        gs = list(_grad(outs, tensors, gos, retain_graph=True, create_graph=create_graph,
                        allow_unused=True))
    else:
        gs = [None] * len(tensors)
    it = iter(_zeros_for(gs, tensors))
    return [next(it) if _is_tensor(x) else None for x in leaves]


def _split_aux(out, has_aux, api):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(
            f"{api}(f)(*args): output of function f should be a tuple: (output, aux) if "
            "has_aux is True")
    return out


# ======================================================================================
# grad, grad_and_value
# ======================================================================================
def grad_and_value(func, argnums=0, has_aux=False):
    """``(gradient, value)`` of scalar ``func`` w.r.t. the ``argnums`` arguments.

    >>> import chainrule as torch
    >>> from chainrule.func import grad_and_value
    >>> grad_and_value(lambda x: (x ** 2).sum())(torch.tensor([1.0, 2.0]))
    (tensor([2., 4.]), tensor(5.))
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from .autograd.grad_mode import enable_grad

        with enable_grad():
            args, nums, leaves_per_arg, fresh = _prepare(args, argnums, "grad_and_value")
            out = func(*args, **kwargs)
            out, aux = _split_aux(out, has_aux, "grad_and_value")
            if not _is_tensor(out):
                raise RuntimeError(
                    "grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got "
                    f"{type(out)}")
            if out.dim() != 0:
                raise RuntimeError(
                    "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, "
                    f"got tensor with {out.dim()} dims. Maybe you wanted to use the vjp or "
                    "jacrev APIs instead?")
            flat = [x for leaves in leaves_per_arg for x in leaves]
            grads = _grad_all([out], flat, create_graph=_needs_graph([out], fresh))
            per_arg, k = [], 0
            for a, leaves in zip(nums, leaves_per_arg):
                _, spec = _flatten(args[a])
                per_arg.append(_unflatten(grads[k:k + len(leaves)], spec))
                k += len(leaves)
            g = per_arg[0] if isinstance(argnums, int) else tuple(per_arg)
            g, out = _lift(g, fresh), _lift(out, fresh)
            if has_aux:
                return g, (out, _lift(aux, fresh))
            return g, out

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """The gradient of scalar ``func`` w.r.t. argument ``argnums`` (a function).

    >>> import chainrule as torch
    >>> from chainrule.func import grad
    >>> grad(lambda x: (x ** 3).sum())(torch.tensor([1.0, 2.0]))
    tensor([ 3., 12.])
    """
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        if has_aux:
            return g, value[1]
        return g

    return wrapper


# ======================================================================================
# vjp, jvp
# ======================================================================================
def vjp(func, *primals, has_aux=False):
    """``(func(*primals), vjp_fn)``; ``vjp_fn(cotangents)`` returns one gradient per primal.

    >>> import chainrule as torch
    >>> from chainrule.func import vjp
    >>> out, fn = vjp(lambda x: x ** 2, torch.tensor([1.0, 2.0]))
    >>> fn(torch.ones(2))
    (tensor([2., 4.]),)
    """
    from .autograd.grad_mode import enable_grad

    with enable_grad():
        args, nums, leaves_per_arg, fresh = _prepare(primals, tuple(range(len(primals))),
                                                     "vjp") if primals else ([], (), [], set())
        out = func(*args)
        out, aux = _split_aux(out, has_aux, "vjp")
    out_leaves, out_spec = _flatten(out)
    for o in out_leaves:
        if not _is_tensor(o):
            raise RuntimeError(
                f"vjp(f, *primals): Expected f to be a function that has only Tensors as "
                f"outputs, got {type(o)}")
    flat = [x for leaves in leaves_per_arg for x in leaves]
    need = _needs_graph(out_leaves, fresh)

    def vjp_fn(cotangents, retain_graph=True, create_graph=None):
        ct_leaves, ct_spec = _flatten(cotangents)
        if len(ct_leaves) != len(out_leaves):
            raise RuntimeError(
                "Expected pytree structure of cotangents to be the same as pytree structure "
                f"of outputs to the function. cotangents: {ct_spec}, primal output: {out_spec}")
        for c, o in zip(ct_leaves, out_leaves):
            if tuple(c.shape) != tuple(o.shape):
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[0] has a shape of {c.shape} and output[0] "
                    f"has a shape of {o.shape}.")
        with enable_grad():
            grads = _grad_all(out_leaves, flat, ct_leaves, create_graph=need or any(
                _is_tensor(c) and c.requires_grad for c in ct_leaves))
        res, k = [], 0
        for a, leaves in zip(nums, leaves_per_arg):
            _, spec = _flatten(args[a])
            res.append(_unflatten(grads[k:k + len(leaves)], spec))
            k += len(leaves)
        return _lift(tuple(res), fresh)

    result = (_lift(out, fresh), vjp_fn)
    if has_aux:
        return result + (_lift(aux, fresh),)
    return result


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """``(func(*primals), J @ tangents)``, by the double-vjp trick.

    >>> import chainrule as torch
    >>> from chainrule.func import jvp
    >>> jvp(lambda x: x ** 2, (torch.tensor([1.0, 2.0]),), (torch.tensor([1.0, 1.0]),))[1]
    tensor([2., 4.])
    """
    from .autograd.grad_mode import enable_grad

    if not isinstance(primals, tuple):
        raise RuntimeError(  # noqa: TRY004 - PyTorch raises RuntimeError here
            "jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it should be "
            "valid to call f(*primals).")
    if not isinstance(tangents, tuple) or len(tangents) != len(primals):
        raise RuntimeError(
            "jvp(f, primals, tangents): Expected primals and tangents to have the same python "
            f"structure. For example, if primals is a tuple of 3 tensors, tangents also must "
            f"be. Got primals with structure {type(primals)} and tangents with structure "
            f"{type(tangents)}")
    with enable_grad():
        args, _, leaves_per_arg, fresh = _prepare(primals, tuple(range(len(primals))), "jvp")
        t_leaves, _ = _flatten(tangents)
        flat = [x for leaves in leaves_per_arg for x in leaves]
        if len(t_leaves) != len(flat):
            raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have "
                               "the same python structure.")
        for p, t in zip(flat, t_leaves):
            if tuple(p.shape) != tuple(t.shape):
                raise RuntimeError(
                    "jvp(f, primals, tangents): Expected primals and tangents to have the same "
                    f"shape. Got primal of shape {p.shape} and tangent of shape {t.shape}")
        out = func(*args)
        out, aux = _split_aux(out, has_aux, "jvp")
        out_leaves, out_spec = _flatten(out)
        jv = _jvp_trick(out_leaves, flat, t_leaves, fresh)
    result = (_lift(out, fresh), _lift(_unflatten(jv, out_spec), fresh))
    if has_aux:
        return result + (_lift(aux, fresh),)
    return result


def _jvp_trick(out_leaves, in_leaves, tangents, fresh):
    """J @ tangents for each output, as differentiable tensors (double-vjp trick)."""
    from .autograd import grad as _grad

    cr = _cr()
    need = _needs_graph(out_leaves, fresh) or any(
        _is_tensor(t) and t.requires_grad for t in tangents)
    if not need:  # nothing outside this transform: one pass of the nodes' jvp rules
        from .autograd.forward_ad import _graph_jvp

        res = _graph_jvp(out_leaves, in_leaves, tangents)
        if res is not None:
            return res
    us = []
    for o in out_leaves:
        u = cr.zeros_like(o).requires_grad_(True)
        fresh.add(id(u))
        us.append(u)
    g = _grad_all(out_leaves, in_leaves, us)
    pairs = [(gi, t) for gi, t in zip(g, tangents) if gi is not None and gi.requires_grad]
    if pairs:
        res = _grad([p[0] for p in pairs], us, [p[1] for p in pairs], retain_graph=True,
                    create_graph=need, allow_unused=True)
    else:
        res = (None,) * len(us)
    return [r if r is not None else cr.zeros_like(o) for r, o in zip(res, out_leaves)]


# ======================================================================================
# jacrev, jacfwd, hessian
# ======================================================================================
def _jac_structure(per_out, nums, args, argnums, out_spec):
    """per_out[i][leaf] -> the output tree of (argnums tree of leaf jacobians)."""
    per_output_trees = []
    for jac_leaves in per_out:
        trees, k = [], 0
        for a in nums:
            leaves, spec = _flatten(args[a])
            trees.append(_unflatten(jac_leaves[k:k + len(leaves)], spec))
            k += len(leaves)
        per_output_trees.append(trees[0] if isinstance(argnums, int) else tuple(trees))
    return _unflatten(per_output_trees, out_spec)


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """The Jacobian of ``func`` by reverse mode: one vjp per output element.

    >>> import chainrule as torch
    >>> from chainrule.func import jacrev
    >>> jacrev(lambda x: x ** 2)(torch.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from .autograd.grad_mode import enable_grad

        with enable_grad():
            args, nums, leaves_per_arg, fresh = _prepare(args, argnums, "jacrev")
            out = func(*args, **kwargs)
            out, aux = _split_aux(out, has_aux, "jacrev")
            out_leaves, out_spec = _flatten(out)
            flat = [x for leaves in leaves_per_arg for x in leaves]
            per_out = []
            for o in out_leaves:
                if not _is_tensor(o):
                    raise RuntimeError("jacrev(f, ...)(*args): expected f(*args) to return "
                                       f"only tensors, got {type(o)}")
                n = o.numel()
                basis = np.eye(n, dtype=o._data.dtype).reshape((n,) + tuple(o.shape))
                need = _needs_graph([o], fresh)
                jac = []
                if not need and n > 1 and o.requires_grad and all(map(_is_tensor, flat)):
                    # All rows in one reverse pass with a batch of one-hot cotangents.
                    cols = _F._batched_grad((o,), flat, (_cr().from_numpy(basis),),
                                            retain_graph=True, create_graph=False,
                                            allow_unused=True)
                    for c, x in zip(cols, flat):
                        shape = tuple(o.shape) + tuple(x.shape)
                        jac.append(_cr().zeros(shape, dtype=x.dtype) if c is None
                                   else c.reshape(shape))
                    per_out.append(jac)
                    continue
                rows = [_grad_all([o], flat, [_cr().from_numpy(np.array(basis[k]))], need)
                        for k in range(n)]
                for j, x in enumerate(flat):
                    shape = tuple(o.shape) + tuple(x.shape)
                    col = [r[j] for r in rows]
                    jac.append(_F._stack(col, x.shape, x).reshape(shape) if n
                               else _cr().zeros(shape, dtype=x.dtype))
                per_out.append(jac)
            res = _jac_structure(per_out, nums, args, argnums, out_spec)
            res = _lift(res, fresh)
            if has_aux:
                return res, _lift(aux, fresh)
            return res

    return wrapper


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian of ``func`` by forward mode (one jvp per input element).

    >>> import chainrule as torch
    >>> from chainrule.func import jacfwd
    >>> jacfwd(lambda x: x ** 2)(torch.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from .autograd import grad as _grad
        from .autograd.grad_mode import enable_grad

        cr = _cr()
        with enable_grad():
            args, nums, leaves_per_arg, fresh = _prepare(args, argnums, "jacfwd")
            out = func(*args, **kwargs)
            out, aux = _split_aux(out, has_aux, "jacfwd")
            out_leaves, out_spec = _flatten(out)
            flat = [x for leaves in leaves_per_arg for x in leaves]
            need = _needs_graph(out_leaves, fresh)
            # Nothing outside this transform: the nodes' jvp rules, one pass per element.
            jac = None if need else _F._jacfwd_by_rules(out_leaves, flat)
            if jac is not None:
                res = _lift(_jac_structure([list(row) for row in jac], nums, args, argnums,
                                           out_spec), fresh)
                return (res, _lift(aux, fresh)) if has_aux else res
            us = []
            for o in out_leaves:
                u = cr.zeros_like(o).requires_grad_(True)
                fresh.add(id(u))
                us.append(u)
            g = _grad_all(out_leaves, flat, us)
            per_out = [[None] * len(flat) for _ in out_leaves]
            for j, (gj, x) in enumerate(zip(g, flat)):
                n = x.numel()
                basis = np.eye(n, dtype=x._data.dtype).reshape((n,) + tuple(x.shape))
                cols = []  # cols[k][i]: d out_i / d x[k]
                for k in range(n):
                    if gj is None or not gj.requires_grad:
                        cols.append((None,) * len(us))
                        continue
                    cols.append(_grad(gj, us, cr.from_numpy(np.array(basis[k])),
                                      retain_graph=True, create_graph=need, allow_unused=True))
                for i, o in enumerate(out_leaves):
                    shape = tuple(o.shape) + tuple(x.shape)
                    col = [c[i] if c[i] is not None else cr.zeros_like(o) for c in cols]
                    if n == 0:
                        per_out[i][j] = cr.zeros(shape, dtype=x.dtype)
                        continue
                    stacked = _F._stack(col, o.shape, o)  # (n, *out)
                    per_out[i][j] = stacked.reshape(n, o.numel()).t().reshape(shape)
            res = _lift(_jac_structure(per_out, nums, args, argnums, out_spec), fresh)
            if has_aux:
                return res, _lift(aux, fresh)
            return res

    return wrapper


def hessian(func, argnums=0):
    """The Hessian of scalar ``func``: ``jacfwd(jacrev(func, argnums), argnums)``.

    >>> import chainrule as torch
    >>> from chainrule.func import hessian
    >>> hessian(lambda x: (x ** 3).sum())(torch.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    return jacfwd(jacrev(func, argnums), argnums)


# ======================================================================================
# vmap
# ======================================================================================
def _movedim(t, src, dst):
    if src == dst:
        return t
    perm = list(range(t.ndim))
    perm.insert(dst, perm.pop(src))
    return t.permute(*perm)


def _same(a, b) -> bool:
    if tuple(a.shape) != tuple(b.shape):
        return False
    x, y = a._data, b._data
    if x.dtype.kind not in "fc":
        return bool(np.array_equal(x, y))
    tol = 1e-4 if x.dtype.itemsize <= 4 else 1e-9
    scale = max(1.0, float(np.max(np.abs(y))) if y.size else 1.0)
    return bool(np.allclose(x, y, rtol=tol, atol=tol * scale, equal_nan=True))


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """Map ``func`` over a batch dimension of its inputs.

    >>> import chainrule as torch
    >>> from chainrule.func import vmap
    >>> vmap(lambda x: (x * x).sum())(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([ 5., 25.])
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        name = getattr(func, "__name__", func)
        where = f"vmap({name}, in_dims={in_dims}, ...)(<inputs>)"
        dims = in_dims
        if isinstance(dims, int):
            dims = (dims,) * len(args)
        elif not isinstance(dims, tuple):
            raise ValueError(  # noqa: TRY004 - PyTorch raises ValueError
                f"{where}: expected `in_dims` to be int or a (potentially nested) tuple matching "
                f"the structure of inputs, got: {type(in_dims)}.")
        if len(dims) != len(args):
            raise ValueError(
                f"{where}: in_dims is not compatible with the structure of `inputs`. in_dims "
                f"has {len(dims)} entries but inputs has {len(args)} positional arguments.")
        # One in_dim per tensor leaf (an int/None for a whole argument applies to its leaves).
        flat_args, arg_spec = _flatten(list(args))
        flat_dims = []
        for a, d in zip(args, dims):
            leaves, _ = _flatten(a)
            if isinstance(d, (int, type(None))):
                flat_dims.extend([d] * len(leaves))
            else:
                dl, _ = _flatten(d)
                if len(dl) != len(leaves):
                    raise ValueError(f"{where}: in_dims is not compatible with the structure "
                                     "of `inputs`.")
                flat_dims.extend(dl)
        sizes, moved = [], []
        for x, d in zip(flat_args, flat_dims):
            if d is None or not _is_tensor(x):
                if d is not None and not _is_tensor(x):
                    raise ValueError(
                        f"{where}: Got in_dim={d} for an input but the input is of type "
                        f"{type(x)}. We cannot vmap over non-Tensor arguments, please use None "
                        "as the respective in_dim")
                moved.append(x)
                continue
            if not -max(x.ndim, 1) <= d < max(x.ndim, 1) or x.ndim == 0:
                raise ValueError(
                    f"{where}: Got in_dim={d} for some input, but that input is a Tensor of "
                    f"dimensionality {x.ndim} so expected in_dim to satisfy "
                    f"-{x.ndim} <= in_dim < {x.ndim}.")
            d %= x.ndim
            sizes.append(x.shape[d])
            moved.append(_movedim(x, d, 0))
        if not sizes:
            raise ValueError("vmap: Expected at least one Tensor to vmap over")
        if len(set(sizes)) != 1:
            raise ValueError(
                "vmap: Expected all tensors to have the same size in the mapped dimension, "
                f"got sizes {sizes} for the mapped dimension")
        batch = sizes[0]
        batched = [d is not None and _is_tensor(x) for x, d in zip(flat_args, flat_dims)]

        def call(select):
            leaves = [(_F._select(x, select) if b else x) if select is not None
                      else x for x, b in zip(moved, batched)]
            return func(*_unflatten(leaves, arg_spec), **kwargs)

        out_b = None
        if chunk_size != 1:
            try:
                out_b = call(None)
            except Exception:  # noqa: BLE001 - not batch-friendly: loop instead
                out_b = None
        first = call(0)
        if out_b is not None and _batch_ok(out_b, first, batch, 0) and (
                batch == 1 or _batch_ok(out_b, call(batch - 1), batch, batch - 1)):
            return _place_out(out_b, out_dims)
        samples = [first] + [call(i) for i in range(1, batch)]
        _, spec = _flatten(first)
        cols = list(zip(*[_flatten(s)[0] for s in samples]))
        stacked = []
        for col in cols:
            if not all(_is_tensor(c) for c in col):
                raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got "
                                 f"type {type(col[0])}. Did you mean to set out_dims= to None "
                                 "for output?")
            stacked.append(_F._stack(list(col), col[0].shape, col[0]))
        return _place_out(_unflatten(stacked, spec), out_dims)

    return wrapper


def _batch_ok(out_b, sample, batch, i) -> bool:
    lb, sb = _flatten(out_b)
    ls, ss = _flatten(sample)
    if sb != ss or len(lb) != len(ls):
        return False
    for b, s in zip(lb, ls):
        if not (_is_tensor(b) and _is_tensor(s)):
            return False
        if tuple(b.shape) != (batch,) + tuple(s.shape):
            return False
        if not _same(_F._select(b.detach(), i), s):
            return False
    return True


def _place_out(out, out_dims):
    leaves, spec = _flatten(out)
    if isinstance(out_dims, (int, type(None))):
        dims = [out_dims] * len(leaves)
    else:
        dims, _ = _flatten(out_dims)
        if len(dims) != len(leaves):
            raise ValueError("vmap: out_dims is not compatible with the structure of `outputs`")
    res = []
    for x, d in zip(leaves, dims):
        if d is None:
            res.append(_F._select(x, 0))
            continue
        res.append(_movedim(x, 0, d % (x.ndim)))
    return _unflatten(res, spec)


# ======================================================================================
# functional_call
# ======================================================================================
def stack_module_state(models):
    """``(params, buffers)``: each parameter and buffer of the same-architecture ``models``
    stacked along a new dim 0 (for ``vmap`` over an ensemble with ``functional_call``). The
    stacked parameters are new leaves that require grad; buffers are stacked as they are.

    >>> import chainrule as torch
    >>> p, b = torch.func.stack_module_state([torch.nn.Linear(3, 2) for _ in range(4)])
    >>> p["weight"].shape
    torch.Size([4, 2, 3])
    """
    cr = _cr()
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if any(m.training != models[0].training for m in models):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/"
                           "eval mode.")
    names = [n for n, _ in models[0].named_parameters()]
    params = {}
    for n in names:
        parts = [dict(m.named_parameters())[n].detach() for m in models]
        params[n] = cr.stack(parts).requires_grad_(parts[0].dtype.is_floating_point)
    buffers = {n: cr.stack([dict(m.named_buffers())[n] for m in models])
               for n, _ in models[0].named_buffers()}
    return params, buffers


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """Call ``module`` with its parameters/buffers replaced by the given tensors."""
    if isinstance(parameter_and_buffer_dicts, (list, tuple)):
        merged = {}
        for d in parameter_and_buffer_dicts:
            merged.update(d)
    else:
        merged = dict(parameter_and_buffer_dicts)
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    kwargs = kwargs or {}
    saved = {}
    try:
        for name, value in merged.items():
            owner, attr = _resolve(module, name)
            saved[name] = (owner, attr, owner.__dict__.get(attr, _MISSING),
                           _pop_registered(owner, attr))
            object.__setattr__(owner, attr, value)
        return module(*args, **kwargs)
    finally:
        for name, (owner, attr, old, reg) in saved.items():
            if old is _MISSING:
                owner.__dict__.pop(attr, None)
            else:
                owner.__dict__[attr] = old
            if reg is not None:
                reg[0][attr] = reg[1]


_MISSING = object()


def _resolve(module, name):
    parts = name.split(".")
    for p in parts[:-1]:
        module = getattr(module, p)
    return module, parts[-1]


def _pop_registered(owner, attr):
    """Temporarily remove a registered parameter/buffer so the attribute lookup sees ours."""
    for store in ("_parameters", "_buffers"):
        d = owner.__dict__.get(store)
        if isinstance(d, dict) and attr in d:
            return d, d.pop(attr)
    return None

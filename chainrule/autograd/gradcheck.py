"""gradcheck and gradgradcheck: compare analytical Jacobians with finite differences.

Like PyTorch, each Jacobian is laid out ``(input.numel(), output.numel())`` and a mismatch
raises ``GradcheckError`` (a ``RuntimeError``) naming the output and input indices and
printing both Jacobians.

Beyond PyTorch: ``method="richardson"`` estimates each Jacobian column by Ridders'
extrapolation of central differences (a tableau of shrinking steps; the entry with the
smallest error estimate wins). Truncation error vanishes far faster than ``O(eps^2)``, so a
large first step can be used, and the round-off of float32 functions no longer swamps the
estimate: float32 functions get checked to ~1e-5 instead of failing outright.
"""
from __future__ import annotations

import warnings

import numpy as np

__all__ = [
    "GradcheckError",
    "get_analytical_jacobian",
    "get_numerical_jacobian",
    "gradcheck",
    "gradgradcheck",
]


class GradcheckError(RuntimeError):
    """Raised by gradcheck and gradgradcheck when a check fails."""


def _cr():
    import chainrule

    return chainrule


def _is_tensor(x) -> bool:
    from ..tensor import Tensor

    return isinstance(x, Tensor)


def _as_tuple(x):
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _fmt(arr) -> str:
    return repr(_cr().from_numpy(np.ascontiguousarray(arr)))


# ======================================================================================
# Numerical Jacobians
# ======================================================================================
def _eval(func, inputs, i, flat_idx, value):
    """Outputs of ``func`` (flattened float64 arrays) with element ``flat_idx`` of input ``i``
    set to ``value``. Inputs are fresh tensors with the original requires_grad flags."""
    cr = _cr()
    args = []
    for j, x in enumerate(inputs):
        if not _is_tensor(x):
            args.append(x)
            continue
        data = x._data.copy()
        if j == i:
            data.reshape(-1)[flat_idx] = value
        t = cr.from_numpy(data)
        if x.requires_grad:
            t.requires_grad_(True)
        args.append(t)
    outs = _as_tuple(func(*args))
    return [o._data.astype(np.float64).reshape(-1) if _is_tensor(o) else None for o in outs]


def _central(func, inputs, i, k, h):
    """Central difference column for element k of input i with step h (the step actually
    taken in the input's dtype is used)."""
    x = inputs[i]._data.reshape(-1)
    x0 = x[k]
    xp = np.asarray(x0 + h, dtype=x.dtype)[()]
    xm = np.asarray(x0 - h, dtype=x.dtype)[()]
    step = float(xp) - float(xm)
    fp = _eval(func, inputs, i, k, xp)
    fm = _eval(func, inputs, i, k, xm)
    return [None if a is None else (a - b) / step for a, b in zip(fp, fm)]


def _ridders(func, inputs, i, k, h0, con=1.6, ntab=10, safe=2.0):
    """Ridders' extrapolation of central differences, per output element."""
    con2 = con * con
    first = _central(func, inputs, i, k, h0)
    prev = [None if c is None else [np.asarray(c, dtype=np.float64)] for c in first]
    best = [None if p is None else p[0].copy() for p in prev]
    err = [None if p is None else np.full(p[0].shape, np.inf) for p in prev]
    h = h0
    for _ in range(1, ntab):
        h /= con
        cur0 = _central(func, inputs, i, k, h)
        row = [None if c is None else [np.asarray(c, dtype=np.float64)] for c in cur0]
        done = True
        for o in range(len(prev)):
            if row[o] is None or prev[o] is None:
                continue
            fac = con2
            for j in range(1, len(prev[o]) + 1):
                new = (row[o][j - 1] * fac - prev[o][j - 1]) / (fac - 1)
                fac *= con2
                errt = np.maximum(np.abs(new - row[o][j - 1]), np.abs(new - prev[o][j - 1]))
                better = errt <= err[o]
                err[o] = np.where(better, errt, err[o])
                best[o] = np.where(better, new, best[o])
                row[o].append(new)
            # Stop once higher orders get worse for every element.
            if not np.all(np.abs(row[o][-1] - prev[o][-1]) >= safe * err[o]):
                done = False
        prev = [None if r is None else r for r in row]
        if done:
            break
    return best


def _numerical_jacobian(func, inputs, diff_idx, n_outputs, eps, method):
    """jac[i][o]: array (inputs[i].numel(), outputs[o].numel())."""
    jac = []
    for i in diff_idx:
        x = inputs[i]
        n = x.numel()
        cols = [[] for _ in range(n_outputs)]
        flat = x._data.reshape(-1)
        for k in range(n):
            if method == "richardson":
                # Round-off of low-precision functions shrinks with the step, and
                # extrapolation removes the truncation error: start wide for them.
                wide = 0.1 if x._data.dtype.itemsize >= 8 else 0.3
                h0 = eps if eps is not None else wide * max(1.0, abs(float(flat[k])))
                col = _ridders(func, inputs, i, k, h0)
            else:
                col = _central(func, inputs, i, k, eps)
            for o in range(n_outputs):
                cols[o].append(col[o])
        if n == 0:  # an empty input: an empty Jacobian (0, output numel)
            outs = _as_tuple(func(*inputs))
            jac.append([np.zeros((0, _numel(out))) for out in outs])
            continue
        jac.append([np.stack(c) if c and c[0] is not None else None for c in cols])
    return jac


def _numel(out) -> int:
    return out.numel() if _is_tensor(out) else int(np.size(out))


def get_numerical_jacobian(fn, inputs, target=None, eps=1e-3, grad_out=1.0):
    """Deprecated PyTorch helper: numerical Jacobians ``(input numel, output numel)``."""
    inputs = _as_tuple(inputs)
    idx = [i for i, x in enumerate(inputs) if _is_tensor(x) and x.requires_grad]
    n_out = len(_as_tuple(fn(*inputs)))
    jac = _numerical_jacobian(fn, inputs, idx, n_out, eps, "central")
    cr = _cr()
    return tuple(cr.from_numpy(j[0] * grad_out) for j in jac)


# ======================================================================================
# Analytical Jacobians
# ======================================================================================
def _analytical_jacobian(outputs, inputs, diff_idx, check_dtypes=False):
    """jac[i][o] (n_in, n_out) by one vjp per output element; also checks dtype/shape."""
    from . import grad

    diff = [inputs[i] for i in diff_idx]
    jac = [[np.zeros((inputs[i].numel(), o.numel())) for o in outputs] for i in diff_idx]
    for o, out in enumerate(outputs):
        n = out.numel()
        for j in range(n):
            e = np.zeros(n, dtype=out._data.dtype)
            e[j] = 1
            gs = grad(out, diff, _cr().from_numpy(e.reshape(out.shape)), retain_graph=True,
                      allow_unused=True)
            for ii, (g, x) in enumerate(zip(gs, diff)):
                if g is None:
                    continue
                if tuple(g.shape) != tuple(x.shape):
                    raise GradcheckError("Gradient has shape mismatch")
                if check_dtypes and g._data.dtype != x._data.dtype:
                    raise GradcheckError("Gradient has dtype mismatch")
                jac[ii][o][:, j] = g._data.astype(np.float64).reshape(-1)
    return jac


def get_analytical_jacobian(inputs, output, nondet_tol=0.0, grad_out=1.0):
    """Deprecated PyTorch helper: (jacobians, reentrant, correct_grad_sizes, correct_grad_types)."""
    inputs = _as_tuple(inputs)
    idx = [i for i, x in enumerate(inputs) if _is_tensor(x) and x.requires_grad]
    jac = _analytical_jacobian((output,), inputs, idx)
    cr = _cr()
    return tuple(cr.from_numpy(j[0] * grad_out) for j in jac), True, True, True


# ======================================================================================
# gradcheck
# ======================================================================================
def _fail(msg, raise_exception) -> bool:
    if raise_exception:
        raise GradcheckError(msg)
    return False


def _mismatch(a, n, atol, rtol) -> bool:
    return not np.allclose(a, n, rtol=rtol, atol=atol, equal_nan=False)


def gradcheck(func, inputs, *, eps=None, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False,
              check_forward_ad=False, check_backward_ad=True, fast_mode=False, masked=None,
              method="central") -> bool:
    """Check the gradients of ``func`` at ``inputs`` against finite differences.

    ``method="central"`` is PyTorch's check (``eps`` defaults to 1e-6; use float64).
    ``method="richardson"`` extrapolates (``eps`` is the first, largest step; default
    ``0.1 * max(1, |x|)``, ``0.3 * max(1, |x|)`` below float64) and is accurate enough for
    float32 functions.

    >>> import chainrule as torch
    >>> from chainrule.autograd.gradcheck import gradcheck
    >>> x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    >>> gradcheck(lambda x: (x ** 3).sum(), (x,))
    True
    """
    from .grad_mode import enable_grad

    if method not in ("central", "richardson"):
        raise ValueError(f"gradcheck: method must be 'central' or 'richardson', got {method!r}")
    if method == "central" and eps is None:
        eps = 1e-6
    tupled = _as_tuple(inputs)
    diff_idx = [i for i, x in enumerate(tupled) if _is_tensor(x) and x.requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, "
                         "but none of them have requires_grad=True.")
    for i in diff_idx:
        if tupled[i]._data.dtype not in (np.float64, np.complex128) and method == "central":
            warnings.warn(
                f"Input #{i} requires gradient and is not a double precision floating point or "
                "complex. This check will likely fail if all the inputs are not of double "
                "precision floating point or complex. ", UserWarning, stacklevel=2)
        if tupled[i]._data.dtype.kind == "c":
            raise NotImplementedError("chainrule's gradcheck does not support complex inputs")

    with enable_grad():
        outputs = _as_tuple(func(*tupled))
    out_all = [o for o in outputs]
    diff_out = [o for o in out_all if _is_tensor(o) and o.requires_grad]

    if not diff_out:
        # No differentiable output: the numerical gradient must be zero.
        num = _numerical_jacobian(func, tupled, diff_idx, len(out_all), eps, method)
        for per_in in num:
            for n in per_in:
                if n is not None and not np.allclose(n, 0, atol=atol):
                    return _fail("Numerical gradient for function expected to be zero",
                                 raise_exception)
        return True

    def diff_func(*args):
        outs = _as_tuple(func(*args))
        return tuple(o for o, ref in zip(outs, out_all) if ref is not None and _is_tensor(ref)
                     and ref.requires_grad)

    if fast_mode:
        ok = _fast_check(diff_func, tupled, diff_idx, diff_out, eps, atol, rtol, method)
        if ok is not True:
            return _fail(ok, raise_exception)
    elif check_backward_ad:
        num = _numerical_jacobian(diff_func, tupled, diff_idx, len(diff_out), eps, method)
        try:
            ana = _analytical_jacobian(diff_out, tupled, diff_idx, check_grad_dtypes)
        except GradcheckError as e:
            return _fail(str(e), raise_exception)
        for ii, i in enumerate(diff_idx):
            for o in range(len(diff_out)):
                if _mismatch(ana[ii][o], num[ii][o], atol, rtol):
                    return _fail(
                        f"Jacobian mismatch for output {o} with respect to input {i},\n"
                        f"numerical:{_fmt(num[ii][o])}\nanalytical:{_fmt(ana[ii][o])}\n",
                        raise_exception)
        again = _analytical_jacobian(diff_out, tupled, diff_idx)
        for ii in range(len(diff_idx)):
            for o in range(len(diff_out)):
                if np.max(np.abs(again[ii][o] - ana[ii][o]), initial=0.0) > nondet_tol:
                    return _fail(
                        "Backward is not reentrant, i.e., running backward with same input and "
                        "grad_output multiple times gives different values, although "
                        "analytical gradient matches numerical gradient.The tolerance for "
                        f"nondeterminism was {nondet_tol}.", raise_exception)
        if check_undefined_grad:
            msg = _check_zero_grad_outputs(diff_out, tupled, diff_idx)
            if msg:
                return _fail(msg, raise_exception)
    if check_forward_ad:
        num = _numerical_jacobian(diff_func, tupled, diff_idx, len(diff_out), eps, method)
        fwd = _forward_jacobian(diff_func, tupled, diff_idx, len(diff_out))
        for ii, i in enumerate(diff_idx):
            for o in range(len(diff_out)):
                if _mismatch(fwd[ii][o], num[ii][o], atol, rtol):
                    return _fail(
                        f"Jacobian computed with forward mode mismatch for output {o} with "
                        f"respect to input {i},\nnumerical:{_fmt(num[ii][o])}\n"
                        f"analytical:{_fmt(fwd[ii][o])}\n", raise_exception)
    return True


def _check_zero_grad_outputs(outputs, inputs, diff_idx):
    """Backward with all-zero grad_outputs must give zero (or no) gradients."""
    from . import grad

    cr = _cr()
    zeros = [cr.zeros_like(o) for o in outputs]
    gs = grad(outputs, [inputs[i] for i in diff_idx], zeros, retain_graph=True,
              allow_unused=True)
    for g in gs:
        if g is not None and np.any(g._data != 0):
            return ("Expected all input grads to be undefined or zero when all output grads are "
                    "undefined or zero.")
    return None


def _forward_jacobian(func, inputs, diff_idx, n_out):
    """Columns J e_k from ``autograd.functional.jvp`` (double-vjp trick through the
    create_graph path of every formula)."""
    from .functional import jvp

    cr = _cr()
    jac = []
    args_idx = [i for i, x in enumerate(inputs) if _is_tensor(x)]
    for i in diff_idx:
        n = inputs[i].numel()
        cols = [[] for _ in range(n_out)]
        for k in range(n):
            tangents = []
            for j in args_idx:
                t = np.zeros(inputs[j].shape, dtype=inputs[j]._data.dtype)
                if j == i:
                    t.reshape(-1)[k] = 1
                tangents.append(cr.from_numpy(t))

            def f(*ts):
                args = list(inputs)
                for j, t in zip(args_idx, ts):
                    args[j] = t
                return tuple(func(*args))

            _, jv = jvp(f, tuple(inputs[j] for j in args_idx), tuple(tangents))
            for o in range(n_out):
                cols[o].append(jv[o]._data.astype(np.float64).reshape(-1))
        jac.append([np.stack(c) for c in cols])
    return jac


def _fast_check(func, inputs, diff_idx, outputs, eps, atol, rtol, method):
    """PyTorch's fast mode: compare v^T J u numerically and analytically for random u, v."""
    from . import grad

    cr = _cr()
    rng = np.random.default_rng(0)
    for ii, i in enumerate(diff_idx):
        x = inputs[i]
        u = rng.standard_normal(x.numel())
        u /= np.linalg.norm(u) or 1.0
        for o, out in enumerate(outputs):
            v = rng.standard_normal(out.numel())
            v /= np.linalg.norm(v) or 1.0
            # Numerical: directional derivative of <v, f_o> along u (one extra input slot).
            base = x._data.astype(np.float64).reshape(-1)

            def g(s, o=o, i=i, x=x, u=u, v=v, base=base):
                args = list(inputs)
                data = (base + float(s) * u).astype(x._data.dtype).reshape(x.shape)
                t = cr.from_numpy(data)
                if x.requires_grad:
                    t.requires_grad_(True)
                args[i] = t
                return float(np.dot(func(*args)[o]._data.reshape(-1).astype(np.float64), v))

            if method == "richardson":
                num = _ridders(lambda s: cr.tensor(g(s._data.item() if _is_tensor(s) else s)),
                               (cr.tensor(0.0, dtype=cr.float64),), 0, 0,
                               eps if eps is not None else 0.1)[0].item()
            else:
                num = (g(eps) - g(-eps)) / (2 * eps)
            (ga,) = grad(out, x, cr.from_numpy(v.reshape(out.shape).astype(out._data.dtype)),
                         retain_graph=True, allow_unused=True)
            ana = 0.0 if ga is None else float(np.dot(ga._data.reshape(-1), u))
            if _mismatch(ana, num, atol, rtol):
                return (f"Jacobian mismatch for output {o} with respect to input {i},\n"
                        f"numerical:{num}\nanalytical:{ana}\n\nThe above quantities relating "
                        "the numerical and analytical jacobians are computed \nin fast mode. "
                        "Run with fast_mode=False for the full Jacobians.\n")
    return True


# ======================================================================================
# gradgradcheck
# ======================================================================================
def gradgradcheck(func, inputs, grad_outputs=None, *, eps=None, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False, method="central") -> bool:
    """Check second derivatives: gradcheck of ``(inputs, grad_outputs) -> vjp``.

    >>> import chainrule as torch
    >>> from chainrule.autograd.gradcheck import gradgradcheck
    >>> x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    >>> gradgradcheck(lambda x: x ** 3, (x,))
    True
    """
    from . import grad
    from .grad_mode import enable_grad

    cr = _cr()
    tupled = _as_tuple(inputs)
    with enable_grad():
        outputs = _as_tuple(func(*tupled))
    diff_out = [o for o in outputs if _is_tensor(o) and o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(
            cr.from_numpy(rng.uniform(-1, 1, tuple(o.shape)).astype(o._data.dtype))
            .requires_grad_(True) for o in diff_out)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_go = len(grad_outputs)
    diff_idx = [i for i, x in enumerate(tupled) if _is_tensor(x) and x.requires_grad]

    def new_func(*args):
        ins, gos = args[:len(args) - n_go], args[len(args) - n_go:]
        outs = [o for o in _as_tuple(func(*ins)) if _is_tensor(o) and o.requires_grad]
        diff_in = [ins[i] for i in diff_idx]
        gs = grad(outs, diff_in, gos, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(new_func, tupled + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad, fast_mode=fast_mode,
                     check_forward_ad=check_fwd_over_rev, method=method)

"""torch.fft: discrete Fourier transforms (NumPy's pocketfft) with PyTorch's dtypes and norms.

Every transform is linear, so its derivative is its adjoint: the inverse transform with the
dual normalisation ("backward" <-> "forward", "ortho" stays), plus the zero-padding (r2c) or
conjugate-pair doubling (c2r) that the one-sided transforms need, as in PyTorch's
``fft_r2c_backward`` / ``fft_c2r_backward``. Sizes ``n``/``s`` pad or trim the input with
differentiable ops first, so the three nodes below see full-size inputs.

>>> import chainrule as torch
>>> torch.fft.rfft(torch.tensor([1.0, 2.0, 3.0, 4.0]))
tensor([10.+0.j, -2.+2.j, -2.+0.j])
"""
from __future__ import annotations

import numpy as np

from . import _dtype
from .autograd.function import Node, edge
from .autograd.grad_mode import grad_state
from .ops._broadcast import canon_dim
from .tensor import Tensor, _make

__all__ = ["fft", "fft2", "fftfreq", "fftn", "fftshift", "ifft", "ifft2", "ifftn", "ifftshift",
           "irfft", "irfft2", "irfftn", "rfft", "rfft2", "rfftfreq", "rfftn"]

_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}
_COMPLEX_OF = {np.dtype(np.float32): np.complex64, np.dtype(np.float64): np.complex128,
               np.dtype(np.float16): np.complex64, np.dtype(np.complex64): np.complex64,
               np.dtype(np.complex128): np.complex128}


def _cr():
    import chainrule

    return chainrule


def _norm(norm):
    norm = "backward" if norm is None else norm
    if norm not in _DUAL:
        raise ValueError(f'Invalid normalization mode: "{norm}"')
    return norm


def _is_array(g) -> bool:
    return isinstance(g, (np.ndarray, np.generic))


def _real_dtype(c: np.dtype) -> np.dtype:
    return np.dtype(np.float32) if np.dtype(c) == np.complex64 else np.dtype(np.float64)


# -- the three transforms, as nodes --------------------------------------------------------
def _c2c_array(a, dims, norm, inverse):
    f = np.fft.ifftn if inverse else np.fft.fftn
    return f(a, axes=dims, norm=norm).astype(_COMPLEX_OF[np.dtype(a.dtype)], copy=False)


class FftC2CBackward0(Node):
    """out = fftn(x) (or ifftn):  dx = ifftn(g) (or fftn) with the dual normalisation"""

    __slots__ = ("dims", "norm", "inverse")
    saved_spec = ()

    def backward(self, g):
        return (_c2c(g, self.dims, _DUAL[self.norm], not self.inverse),)

    def jvp(self, tangents):
        return _c2c(tangents[0], self.dims, self.norm, self.inverse)


def _c2c(x, dims, norm, inverse):
    if _is_array(x):
        return _c2c_array(np.asarray(x), dims, norm, inverse)
    data = x._data
    if data.dtype.kind != "c":  # a real input is transformed as complex (grad: its real part)
        x = x.to(_dtype.from_numpy_dtype(np.dtype(_COMPLEX_OF[np.dtype(_float(data).dtype)])))
    out = _c2c_array(x._data, dims, norm, inverse)
    return _record(FftC2CBackward0, x, out, dims=dims, norm=norm, inverse=inverse)


class FftR2CBackward0(Node):
    """out = rfftn(x) (one-sided):  dx = Re(ifftn(zero-pad g to the full size)), dual norm"""

    __slots__ = ("dims", "norm", "last_size")
    saved_spec = ()

    def backward(self, g):
        return (_r2c_adjoint(g, self.dims, self.norm, self.last_size),)

    def jvp(self, tangents):
        return _r2c(tangents[0], self.dims, self.norm)


def _r2c_adjoint(g, dims, norm, last_size):
    last = dims[-1]
    missing = last_size - g.shape[last]
    if _is_array(g):
        pad = [(0, 0)] * np.ndim(g)
        pad[last] = (0, missing)
        full = np.pad(np.asarray(g), pad)
        return np.real(_c2c_array(full, dims, _DUAL[norm], True))
    cr = _cr()
    zeros_shape = list(g.shape)
    zeros_shape[last] = missing
    full = cr.cat([g, cr.zeros(zeros_shape, dtype=g.dtype)], dim=last)
    return _real(_c2c(full, dims, _DUAL[norm], True))


def _r2c(x, dims, norm):
    if _is_array(x):
        a = np.asarray(x)
        return np.fft.rfftn(a, axes=dims, norm=norm).astype(_COMPLEX_OF[np.dtype(a.dtype)])
    a = _float(x._data)
    out = np.fft.rfftn(a, axes=dims, norm=norm).astype(_COMPLEX_OF[a.dtype], copy=False)
    return _record(FftR2CBackward0, x, out, dims=dims, norm=norm,
                   last_size=a.shape[dims[-1]])


class FftC2RBackward0(Node):
    """out = irfftn(y, last size n):  dy = rfftn(g) with the dual norm, the entries that
    stand for a conjugate pair (1 .. n - m) doubled"""

    __slots__ = ("dims", "norm", "last_size")
    saved_spec = ()

    def backward(self, g):
        gi = _r2c(g, self.dims, _DUAL[self.norm])
        last = self.dims[-1]
        n, m = g.shape[last], gi.shape[last]
        double = n - m
        if double <= 0:
            return (gi,)
        scale = np.ones(m)
        scale[1:1 + double] = 2.0
        shape = [1] * len(gi.shape)
        shape[last] = m
        scale = scale.reshape(shape).astype(_real_dtype(_dtype_of(gi)))
        return (gi * (scale if _is_array(gi) else _make(scale, False, None)),)

    def jvp(self, tangents):
        return _c2r(tangents[0], self.dims, self.norm, self.last_size)


def _dtype_of(t):
    return np.asarray(t).dtype if _is_array(t) else t._data.dtype


def _c2r(y, dims, norm, last_size):
    """irfftn of ``y`` whose last transformed dim already has size n // 2 + 1."""
    if _is_array(y):
        a = np.asarray(y)
        n = last_size if last_size is not None else 2 * (a.shape[dims[-1]] - 1)
        s = [a.shape[d] for d in dims[:-1]] + [n]
        return np.fft.irfftn(a, s=s, axes=dims, norm=norm).astype(_real_dtype(a.dtype))
    a = y._data
    if a.dtype.kind != "c":
        y = y.to(_dtype.from_numpy_dtype(np.dtype(_COMPLEX_OF[np.dtype(_float(a).dtype)])))
        a = y._data
    n = last_size if last_size is not None else 2 * (a.shape[dims[-1]] - 1)
    s = [a.shape[d] for d in dims[:-1]] + [n]
    out = np.fft.irfftn(a, s=s, axes=dims, norm=norm).astype(_real_dtype(a.dtype), copy=False)
    return _record(FftC2RBackward0, y, out, dims=dims, norm=norm, last_size=n)


def _record(node_cls, x, out, **attrs):
    if x._requires_grad and grad_state.enabled:
        node = node_cls()
        node.next_functions = (edge(x),)
        node.saved = ()
        for k, v in attrs.items():
            setattr(node, k, v)
        return _make(out, True, node)
    return _make(out, False, None)


def _float(a: np.ndarray) -> np.ndarray:
    return a if a.dtype.kind in "fc" else a.astype(_dtype.get_default_dtype().np)


def _real(z):
    """The real part of a complex Tensor, differentiably (|z| tricks avoided)."""
    from ._misc_ops import real

    return real(z)


# -- sizes: pad or trim the input along each transformed dim -----------------------------
def _resize(x: Tensor, dims, sizes) -> Tensor:
    cr = _cr()
    for d, n in zip(dims, sizes):
        if n is None or n == x.shape[d]:
            continue
        if n < 1:
            raise RuntimeError(f"Invalid number of data points ({n}) specified")
        if n < x.shape[d]:
            x = x.narrow(d, 0, n)
        else:
            shape = list(x.shape)
            shape[d] = n - x.shape[d]
            x = cr.cat([x, cr.zeros(shape, dtype=x.dtype)], dim=d)
    return x


def _dims_sizes(x: Tensor, s, dim):
    nd = x.dim()
    if dim is None:
        dims = list(range(nd)) if s is None else list(range(nd - len(s), nd))
    else:
        dims = [dim] if isinstance(dim, int) else list(dim)
    dims = [canon_dim(d, nd) for d in dims]
    if s is not None and len(s) != len(dims):
        raise RuntimeError("When given, dim and shape arguments must have the same length")
    sizes = list(s) if s is not None else [None] * len(dims)
    return tuple(dims), sizes


def _as_input(input) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"fft(): argument 'input' must be Tensor, not {type(input).__name__}")
    return input


# -- public transforms ---------------------------------------------------------------------
def fft(input: Tensor, n=None, dim: int = -1, norm=None) -> Tensor:
    """One-dimensional discrete Fourier transform along ``dim`` (complex output)."""
    return fftn(input, None if n is None else (n,), (dim,), norm)


def ifft(input: Tensor, n=None, dim: int = -1, norm=None) -> Tensor:
    return ifftn(input, None if n is None else (n,), (dim,), norm)


def fft2(input: Tensor, s=None, dim=(-2, -1), norm=None) -> Tensor:
    return fftn(input, s, dim, norm)


def ifft2(input: Tensor, s=None, dim=(-2, -1), norm=None) -> Tensor:
    return ifftn(input, s, dim, norm)


def fftn(input: Tensor, s=None, dim=None, norm=None) -> Tensor:
    x = _as_input(input)
    dims, sizes = _dims_sizes(x, s, dim)
    return _c2c(_resize(x, dims, sizes), dims, _norm(norm), False)


def ifftn(input: Tensor, s=None, dim=None, norm=None) -> Tensor:
    x = _as_input(input)
    dims, sizes = _dims_sizes(x, s, dim)
    return _c2c(_resize(x, dims, sizes), dims, _norm(norm), True)


def rfft(input: Tensor, n=None, dim: int = -1, norm=None) -> Tensor:
    """The one-sided transform of a real signal: n // 2 + 1 complex coefficients."""
    return rfftn(input, None if n is None else (n,), (dim,), norm)


def rfft2(input: Tensor, s=None, dim=(-2, -1), norm=None) -> Tensor:
    return rfftn(input, s, dim, norm)


def rfftn(input: Tensor, s=None, dim=None, norm=None) -> Tensor:
    x = _as_input(input)
    if x.is_complex():
        raise RuntimeError("rfftn expects a real-valued input tensor, but got "
                           f"{x.dtype}")
    dims, sizes = _dims_sizes(x, s, dim)
    return _r2c(_resize(x, dims, sizes), dims, _norm(norm))


def irfft(input: Tensor, n=None, dim: int = -1, norm=None) -> Tensor:
    """The real signal of n samples (default 2 (m - 1)) whose one-sided transform is input."""
    return irfftn(input, None if n is None else (n,), (dim,), norm)


def irfft2(input: Tensor, s=None, dim=(-2, -1), norm=None) -> Tensor:
    return irfftn(input, s, dim, norm)


def irfftn(input: Tensor, s=None, dim=None, norm=None) -> Tensor:
    x = _as_input(input)
    dims, sizes = _dims_sizes(x, s, dim)
    last = dims[-1]
    n = sizes[-1] if sizes[-1] is not None else 2 * (x.shape[last] - 1)
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")
    sizes = sizes[:-1] + [n // 2 + 1]
    return _c2r(_resize(x, dims, sizes), dims, _norm(norm), n)


# -- helpers: frequencies and shifts -------------------------------------------------------
def fftfreq(n: int, d: float = 1.0, *, dtype=None, layout=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """Sample frequencies [0, 1, ..., -1] / (d n) of an n-point transform."""
    dt = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    out = _make(np.fft.fftfreq(n, d).astype(dt.np), False, None)
    return out.requires_grad_() if requires_grad else out


def rfftfreq(n: int, d: float = 1.0, *, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """Sample frequencies [0, 1, ..., n // 2] / (d n) of an n-point one-sided transform."""
    dt = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    out = _make(np.fft.rfftfreq(n, d).astype(dt.np), False, None)
    return out.requires_grad_() if requires_grad else out


def _shift(input: Tensor, dim, sign: int) -> Tensor:
    dims = list(range(input.dim())) if dim is None else \
        ([dim] if isinstance(dim, int) else list(dim))
    shifts = [sign * (input.shape[d] // 2) for d in dims]
    return _cr().roll(input, shifts, dims)


def fftshift(input: Tensor, dim=None) -> Tensor:
    """Move the zero frequency to the centre (a roll by n // 2 along each dim)."""
    return _shift(input, dim, 1)


def ifftshift(input: Tensor, dim=None) -> Tensor:
    """Undo fftshift (a roll by -(n // 2))."""
    return _shift(input, dim, -1)

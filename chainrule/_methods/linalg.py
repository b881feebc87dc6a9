"""Tensor methods for linear algebra (ops/linalg.py): one line each, calling the op."""
from __future__ import annotations

from .. import ops as _ops  # submodules are bound once chainrule.tensor has loaded


class LinalgMethods:
    """Mixed into Tensor; every method forwards to ``chainrule.ops.linalg`` (stft and istft:
    to ``chainrule._stft``)."""

    __slots__ = ()

    def mv(self, vec):
        return _ops.linalg.mv(self, vec)

    def bmm(self, mat2):
        return _ops.linalg.bmm(self, mat2)

    def vdot(self, other):
        return _ops.linalg.vdot(self, other)

    def outer(self, vec2):
        return _ops.linalg.outer(self, vec2)

    ger = outer

    def inner(self, other):
        return _ops.linalg.inner(self, other)

    def kron(self, other):
        return _ops.linalg.kron(self, other)

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return _ops.linalg.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def addmv(self, mat, vec, *, beta=1, alpha=1):
        return _ops.linalg.addmv(self, mat, vec, beta=beta, alpha=alpha)

    def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return _ops.linalg.addbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return _ops.linalg.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def trace(self):
        return _ops.linalg.trace(self)

    def cross(self, other, dim=None):
        return _ops.linalg.cross(self, other, dim)

    def det(self):
        return _ops.linalg.linalg_det(self)

    def logdet(self):
        return _ops.linalg.logdet(self)

    def slogdet(self):
        return _ops.linalg.linalg_slogdet(self)

    def inverse(self):
        return _ops.linalg.linalg_inv(self)

    def cholesky(self, upper=False):
        return _ops.linalg.linalg_cholesky(self, upper=upper)

    def qr(self, some=True):
        return _ops.linalg.qr(self, some)

    def svd(self, some=True, compute_uv=True):
        return _ops.linalg.svd(self, some, compute_uv)

    def pinverse(self, rcond=1e-15):
        return _ops.linalg.pinverse(self, rcond)

    def matrix_power(self, n):
        return _ops.linalg.linalg_matrix_power(self, n)

    def tensordot(self, other, dims=2):
        return _ops.linalg.tensordot(self, other, dims)

    def matrix_exp(self):
        return _ops.linalg.linalg_matrix_exp(self)

    def cholesky_solve(self, input2, upper=False):
        return _ops.linalg.cholesky_solve(self, input2, upper)

    def cholesky_inverse(self, upper=False):
        return _ops.linalg.cholesky_inverse(self, upper)

    def triangular_solve(self, A, upper=True, transpose=False, unitriangular=False):
        return _ops.linalg.triangular_solve(self, A, upper, transpose, unitriangular)

    def addr(self, vec1, vec2, *, beta=1, alpha=1):
        return _ops.linalg.addr(self, vec1, vec2, beta=beta, alpha=alpha)

    def lu_solve(self, LU_data, LU_pivots):
        return _ops.linalg.linalg_lu_solve(LU_data, LU_pivots, self)

    def dist(self, other, p=2):
        return _ops.linalg.dist(self, other, p)

    # spectral: short-time Fourier transforms (chainrule/_stft.py)
    def stft(self, n_fft, hop_length=None, win_length=None, window=None, center=True,
             pad_mode="reflect", normalized=False, onesided=None, return_complex=None,
             align_to_window=None):
        from .._stft import stft

        return stft(self, n_fft, hop_length, win_length, window, center, pad_mode, normalized,
                    onesided, return_complex, align_to_window)

    def istft(self, n_fft, hop_length=None, win_length=None, window=None, center=True,
              normalized=False, onesided=None, length=None, return_complex=False):
        from .._stft import istft

        return istft(self, n_fft, hop_length, win_length, window, center, normalized,
                     onesided, length, return_complex)

    # in-place add* products: computed out of place, written back by ``inplace``
    def addmm_(self, mat1, mat2, *, beta=1, alpha=1):
        return _inplace(self, _ops.linalg.addmm, mat1, mat2, beta=beta, alpha=alpha)

    def addmv_(self, mat, vec, *, beta=1, alpha=1):
        return _inplace(self, _ops.linalg.addmv, mat, vec, beta=beta, alpha=alpha)

    def addbmm_(self, batch1, batch2, *, beta=1, alpha=1):
        return _inplace(self, _ops.linalg.addbmm, batch1, batch2, beta=beta, alpha=alpha)

    def baddbmm_(self, batch1, batch2, *, beta=1, alpha=1):
        return _inplace(self, _ops.linalg.baddbmm, batch1, batch2, beta=beta, alpha=alpha)

    def addr_(self, vec1, vec2, *, beta=1, alpha=1):
        return _inplace(self, _ops.linalg.addr, vec1, vec2, beta=beta, alpha=alpha)


def _inplace(t, op, *args, **kwargs):
    from ..tensor import inplace

    return inplace(t, op, *args, **kwargs)

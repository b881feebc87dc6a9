"""``chainrule.linalg``: the ``torch.linalg`` namespace (the ops live in ops/linalg.py)."""
from .ops.linalg import LinAlgError  # noqa: F401
from .ops.linalg import linalg_cholesky as cholesky  # noqa: F401
from .ops.linalg import linalg_cholesky_ex as cholesky_ex  # noqa: F401
from .ops.linalg import linalg_cond as cond  # noqa: F401
from .ops.linalg import linalg_eig as eig  # noqa: F401
from .ops.linalg import linalg_eigvals as eigvals  # noqa: F401
from .ops.linalg import linalg_lu as lu  # noqa: F401
from .ops.linalg import linalg_lu_factor as lu_factor  # noqa: F401
from .ops.linalg import linalg_lu_solve as lu_solve  # noqa: F401
from .ops.linalg import linalg_matrix_exp as matrix_exp  # noqa: F401
from .ops.linalg import linalg_solve_ex as solve_ex  # noqa: F401
from .ops.linalg import linalg_tensorinv as tensorinv  # noqa: F401
from .ops.linalg import linalg_tensorsolve as tensorsolve  # noqa: F401
from .ops.linalg import linalg_vander as vander  # noqa: F401
from .ops.linalg import linalg_cross as cross  # noqa: F401
from .ops.linalg import linalg_det as det  # noqa: F401
from .ops.linalg import linalg_eigh as eigh  # noqa: F401
from .ops.linalg import linalg_eigvalsh as eigvalsh  # noqa: F401
from .ops.linalg import linalg_inv as inv  # noqa: F401
from .ops.linalg import linalg_inv_ex as inv_ex  # noqa: F401
from .ops.linalg import linalg_lstsq as lstsq  # noqa: F401
from .ops.linalg import linalg_matmul as matmul  # noqa: F401
from .ops.linalg import linalg_matrix_norm as matrix_norm  # noqa: F401
from .ops.linalg import linalg_matrix_power as matrix_power  # noqa: F401
from .ops.linalg import linalg_matrix_rank as matrix_rank  # noqa: F401
from .ops.linalg import linalg_multi_dot as multi_dot  # noqa: F401
from .ops.linalg import linalg_norm as norm  # noqa: F401
from .ops.linalg import linalg_pinv as pinv  # noqa: F401
from .ops.linalg import linalg_qr as qr  # noqa: F401
from .ops.linalg import linalg_slogdet as slogdet  # noqa: F401
from .ops.linalg import linalg_solve as solve  # noqa: F401
from .ops.linalg import linalg_solve_triangular as solve_triangular  # noqa: F401
from .ops.linalg import linalg_svd as svd  # noqa: F401
from .ops.linalg import linalg_svdvals as svdvals  # noqa: F401
from .ops.linalg import linalg_vecdot as vecdot  # noqa: F401
from .ops.linalg import linalg_vector_norm as vector_norm  # noqa: F401

__all__ = ['LinAlgError', 'cholesky', 'cholesky_ex', 'cond', 'cross', 'det', 'diagonal', 'eig',
           'eigh', 'eigvals', 'eigvalsh', 'inv', 'inv_ex', 'lstsq', 'lu', 'lu_factor', 'lu_solve',
           'matmul', 'matrix_exp',
           'matrix_norm', 'matrix_power', 'matrix_rank', 'multi_dot', 'norm', 'pinv', 'qr',
           'slogdet', 'solve', 'solve_ex', 'solve_triangular', 'svd', 'svdvals', 'tensorinv',
           'tensorsolve', 'vander', 'vecdot', 'vector_norm']


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """``torch.linalg.diagonal``: the diagonal over the last two dims by default."""
    return A.diagonal(offset, dim1, dim2)

"""Backend switches that PyTorch code queries or sets; only the CPU exists here.

Each is a plain namespace: the flags training scripts set at the top (``allow_tf32``,
``cudnn.benchmark``, ...) are stored and read back, and change nothing in chainrule.
"""
import contextlib
from types import SimpleNamespace


def _false() -> bool:
    return False


def _true() -> bool:
    return True


@contextlib.contextmanager
def _sdp_kernel(*args, **kwargs):
    yield


cuda = SimpleNamespace(
    is_built=_false,
    matmul=SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                           allow_bf16_reduced_precision_reduction=True),
    sdp_kernel=_sdp_kernel, flash_sdp_enabled=_true, mem_efficient_sdp_enabled=_true,
    math_sdp_enabled=_true, enable_flash_sdp=lambda enabled: None,
    enable_mem_efficient_sdp=lambda enabled: None, enable_math_sdp=lambda enabled: None,
    preferred_linalg_library=lambda backend=None: None)
cudnn = SimpleNamespace(enabled=False, benchmark=False, deterministic=False, allow_tf32=True,
                        is_available=_false, version=lambda: None)
mps = SimpleNamespace(is_available=_false, is_built=_false)
mkldnn = SimpleNamespace(enabled=False, is_available=_false)
mkl = SimpleNamespace(is_available=_false)
openmp = SimpleNamespace(is_available=_false)
cpu = SimpleNamespace(get_cpu_capability=lambda: "DEFAULT")
opt_einsum = SimpleNamespace(enabled=True, strategy="auto", is_available=_true)

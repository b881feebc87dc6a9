"""chainrule: reverse-mode automatic differentiation on NumPy, with PyTorch's API.

Public names only: each op module lists its public functions in ``__all__``.
"""
# ruff: noqa: F401 - this module only re-exports
from . import _dtype
from ._dtype import (bfloat16, bool, cdouble, cfloat, complex64, complex128, double, dtype, float, float16,
                     float32, float64, get_default_dtype, half, int, int8, int16, int32, int64,
                     long, set_default_dtype, short, uint8)
from ._dtype import set_default_tensor_type
from ._dtype import api_can_cast as can_cast
from ._dtype import api_promote_types as promote_types
from ._dtype import api_result_type as result_type
from ._finfo import finfo, iinfo
from ._tensor_str import get_printoptions, printoptions, set_printoptions
from .tensor import Size, Tensor, device
from .autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled,
                                 is_inference_mode_enabled, no_grad, set_grad_enabled)
from .ops.creation import *  # noqa: F401,F403
from .ops.elementwise import *  # noqa: F401,F403
from .ops.reduction import *  # noqa: F401,F403
from .ops.shape import *  # noqa: F401,F403
from .ops.indexing import *  # noqa: F401,F403
from .ops.linalg import *  # noqa: F401,F403
from .ops.conv import *  # noqa: F401,F403
from ._misc_ops import *  # noqa: F401,F403 - after the ops it composes
from ._legacy_types import *  # noqa: F401,F403
from ._memory_format import *  # noqa: F401,F403
from .serialization import load, save
from . import autograd, backends, cuda, func, linalg, nn, optim, utils  # noqa: E402
from . import accelerator, amp, cpu, distributed, distributions, fft, jit, random  # noqa: E402
from . import overrides, profiler, special, testing, types  # noqa: E402
from . import version  # noqa: E402
from .amp import GradScaler  # noqa: E402
from .func import vmap  # noqa: E402
from .amp import autocast  # noqa: E402
from .nn.functional import (cosine_similarity, dropout, layer_norm,  # noqa: E402
                            log_softmax, pairwise_distance, softmax)
from ._misc_ops import adaptive_max_pool1d, batch_norm, embedding  # noqa: E402
from ._misc_ops import complex_from_parts as complex  # noqa: E402,A004 - torch.complex
from ._misc_ops import inclusive_range as range  # noqa: E402,A004 - torch.range
from .nn.functional import (alpha_dropout, bilinear, celu, feature_alpha_dropout,  # noqa: E402
                            group_norm, hardshrink, prelu, relu_, rms_norm, rrelu, rrelu_,
                            selu, threshold, threshold_)
from .autograd.anomaly_mode import is_anomaly_enabled  # noqa: E402
from ._stft import istft, stft
from . import sparse
from .sparse import sparse_coo_tensor
from .nn._rnn_fused import gru_cell, lstm_cell, rnn_relu_cell, rnn_tanh_cell  # noqa: E402

__version__ = "0.1.0"


def numel(input: Tensor) -> int:
    return input.numel()


def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


def is_complex(input: Tensor) -> bool:
    return input.is_complex()


"""``torch.nn.modules.batchnorm``: the batch-norm classes (defined in normalization.py)."""
from .normalization import (  # noqa: F401
                            BatchNorm1d,
                            BatchNorm2d,
                            BatchNorm3d,
                            LazyBatchNorm1d,
                            LazyBatchNorm2d,
                            LazyBatchNorm3d,
                            SyncBatchNorm,
                            _BatchNorm,
                            _NormBase,
)

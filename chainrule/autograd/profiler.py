"""``torch.autograd.profiler``: the same region profiler as ``chainrule.profiler``."""
from ..profiler import profile, record_function  # noqa: F401


class emit_nvtx:
    """Accepted for compatibility (no NVTX on the CPU): a context manager that does nothing."""

    def __init__(self, enabled=True, record_shapes=False):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

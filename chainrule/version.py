"""torch.version: build facts scripts print (no CUDA, ROCm or XPU build here)."""
from __future__ import annotations

__all__ = ["__version__", "cuda", "debug", "git_version", "hip", "rocm", "xpu"]


__version__ = "0.1.0"  # chainrule's own version (chainrule.__version__)
cuda = None
hip = None
rocm = None
xpu = None
debug = False
git_version = "Unknown"

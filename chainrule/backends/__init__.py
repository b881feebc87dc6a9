"""Backend switches that PyTorch code queries; only the CPU exists here."""
from types import SimpleNamespace

mps = SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
cudnn = SimpleNamespace(enabled=False, benchmark=False, deterministic=False,
                        is_available=lambda: False)

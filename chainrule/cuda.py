"""chainrule computes on the CPU: ``cuda.is_available()`` is False so device-picking code
(``'cuda' if torch.cuda.is_available() else 'cpu'``) takes the CPU branch."""


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """Accepted for compatibility; there is no CUDA generator to seed."""


def manual_seed_all(seed: int) -> None:
    """Accepted for compatibility; there is no CUDA generator to seed."""


def synchronize(device=None) -> None:
    """Nothing runs asynchronously on the CPU."""

"""The op families: forward, backward and jvp of every op, one file per family.

PyTorch returns inf and nan silently (``1 / 0``, ``exp(1000)``); NumPy's ufuncs warn. The
warnings raised by chainrule's own op code are filtered out here, once, by module (so they
cost nothing per op and the user's own NumPy code still warns). A stricter filter the user
installs later (``warnings.simplefilter("error")``, ``-W error``) still takes precedence.
"""
import warnings


def quiet_numpy_warnings() -> None:
    """Ignore NumPy's floating-point RuntimeWarnings raised from inside chainrule."""
    warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"chainrule(\.|$)")


quiet_numpy_warnings()

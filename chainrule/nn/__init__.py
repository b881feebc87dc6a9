"""Neural-network building blocks: functional ops, modules, parameters and initialisation."""
from . import functional, init, utils  # noqa: F401
from .modules import *
from .modules import Module  # noqa: F401
from .parameter import Buffer, Parameter, UninitializedParameter  # noqa: F401
from .modules.lazy import UninitializedBuffer  # noqa: F401

"""Neural-network building blocks: functional ops, modules, parameters and initialisation."""
from . import functional
from .parameter import Buffer, Parameter, UninitializedParameter  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import Module  # noqa: F401
from . import init, utils  # noqa: F401,E402

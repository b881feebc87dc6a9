"""Neural-network building blocks: functional ops now, modules in nn.modules."""
from . import functional

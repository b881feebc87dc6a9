"""All layer classes, re-exported as ``chainrule.nn.<Name>``."""
from .activation import *
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential  # noqa: F401
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d  # noqa: F401
from .conv import LazyConv1d, LazyConv2d, LazyConv3d, LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d  # noqa: F401
from .dropout import *
from .flatten import Flatten, Unflatten  # noqa: F401
from .linear import Bilinear, Identity, LazyLinear, Linear  # noqa: F401
from .loss import *
from .misc import *
from .module import Module, RemovableHandle  # noqa: F401
from .normalization import *
from .padding import *
from .pooling import *
from .rnn import *
from .sparse import Embedding, EmbeddingBag  # noqa: F401
from .transformer import *

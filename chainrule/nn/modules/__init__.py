"""All layer classes, re-exported as ``chainrule.nn.<Name>``."""
from .activation import *
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential  # noqa: F401
from .conv import *
from .dropout import *
from .flatten import Flatten, Unflatten  # noqa: F401
from .linear import Bilinear, Identity, LazyLinear, Linear  # noqa: F401
from .loss import *
from .parallel import DataParallel  # noqa: F401
from .misc import *
from .module import Module, RemovableHandle  # noqa: F401
from .normalization import *
from .padding import *
from .pooling import *
from .rnn import *
from .sparse import Embedding, EmbeddingBag  # noqa: F401
from .transformer import *

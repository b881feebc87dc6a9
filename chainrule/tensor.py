"""The Tensor: a NumPy array plus autograd state; its methods are one-line calls into ops."""
from __future__ import annotations

import warnings
import weakref

import numpy as np

from . import _dtype
from ._memory_format import strided
from ._methods.elementwise import ElementwiseMethods
from ._methods.indexing import IndexingMethods
from ._methods.linalg import LinalgMethods
from ._methods.reduction import ReductionMethods
from ._methods.shape import ShapeMethods
from .autograd.function import (array_version, array_versions, bump_version, inference_arrays,
                                mark_inference, stamp_versions)
from .autograd.grad_mode import grad_state, inference_depth

_new = object.__new__
_ndarray = np.ndarray


class Size(tuple):
    """The shape of a tensor: a tuple that prints like ``torch.Size``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"  # PyTorch's text

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    # tuple's slicing, + and * give plain tuples; PyTorch's give a Size (``x.shape[1:]``).
    def __getitem__(self, key):
        r = tuple.__getitem__(self, key)
        return Size(r) if type(key) is slice else r

    def __add__(self, other):
        return Size(tuple.__add__(self, other))

    def __radd__(self, other):
        return Size(tuple.__add__(tuple(other), self))

    def __mul__(self, n):
        return Size(tuple.__mul__(self, n))

    __rmul__ = __mul__


def _shape_str(shape) -> str:
    return repr(Size(shape))


_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                 "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                 "privateuseone")


class device:
    """Where a tensor lives: ``device('cpu')``, ``device('cuda:0')``, ``device('cuda', 1)``.

    chainrule computes on the CPU only.
    """

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):  # noqa: A002 - torch's name
        if isinstance(type, device):
            type, index = type.type, type.index
        text = str(type)
        name, sep, idx = text.partition(":")
        if sep:
            if index is not None:
                raise RuntimeError("type (string) must not include an index because index was "
                                   f"passed explicitly: {text}")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{text}'")
            index = int(idx)
        if name not in _DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start "
                               f"of device string: {text}")
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        # CUDA devices can be built (scripts build them; only using one fails, as in CPU-only
        # PyTorch: Tensor.to/cuda and ops/creation.py _check_device raise). Other
        # accelerators are refused here: factories validate a device= argument by building it.
        if name != "cpu" and name != "cuda":
            raise RuntimeError(
                f"chainrule runs on the CPU only; device '{name}' is not available")
        self.type, self.index = name, index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if not isinstance(other, device):
            try:
                other = device(other)
            except (RuntimeError, TypeError):
                return False
        return other.type == self.type and other.index == self.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return device, (self.type, self.index)


_CPU = device("cpu")


def _no_cuda():
    """What CPU-only PyTorch raises when CUDA is asked for (scripts catch AssertionError)."""
    return AssertionError("Torch not compiled with CUDA enabled")


def _is_cuda_arg(a) -> bool:
    if isinstance(a, str):
        return a.split(":")[0] == "cuda"
    return isinstance(a, device) and a.type == "cuda"


def _make(data, requires_grad, grad_fn, output_nr=0):
    """Build a Tensor around an ndarray without validation (the hot path of every op)."""
    t = _new(Tensor)
    # NumPy returns scalars, not 0-d arrays, from some 0-d operations.
    t._data = data if type(data) is _ndarray else np.asarray(data)
    t._requires_grad = requires_grad
    t.grad_fn = grad_fn
    if output_nr:
        t._output_nr = output_nr
    if grad_fn is None:
        if inference_depth[0] and grad_state.inference:
            mark_inference(t._data)
    elif array_versions and output_nr == 0:
        stamp_versions(grad_fn)  # some array was modified in place: remember versions
    return t


class Tensor(ElementwiseMethods, ReductionMethods, ShapeMethods, IndexingMethods,
             LinalgMethods):
    """An n-dimensional array that can record the operations applied to it.

    >>> import chainrule as torch
    >>> w = torch.ones(3, requires_grad=True)
    >>> (w * w).sum().backward()
    >>> w.grad
    tensor([2., 2., 2.])
    """

    # Hot attributes are slots; rare ones (hooks, retained grads, names set by users)
    # go to __dict__, created only when used, and default to the class attributes below.
    __slots__ = ("_data", "_requires_grad", "grad_fn", "__dict__", "__weakref__")
    _grad = None
    _output_nr = 0
    _acc_ref = None
    _retains_grad = False
    _hooks = None
    _post_hooks = None
    _base = None
    _fw_grad = None
    __array_priority__ = 1000  # ndarray (op) Tensor defers to Tensor's reflected operator

    def __init__(self, *args, requires_grad=False, dtype=None):
        """``Tensor(data)`` copies data as the default float dtype; ``Tensor(2, 3)`` makes an
        uninitialised (here: zero) 2x3 tensor, like PyTorch's legacy constructor."""
        from ._dtype import get_default_dtype
        from .ops.creation import _to_array

        np_dtype = get_default_dtype().np if dtype is None else _dtype.to_np(dtype)
        if args and all(isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                        for a in args):
            arr = np.zeros(tuple(int(a) for a in args), np_dtype)
        elif len(args) == 1:
            arr = _to_array(args[0], np_dtype)
        elif not args:
            arr = np.zeros((0,), np_dtype)
        else:
            raise TypeError(f"Tensor() takes sizes or one data argument, got {args!r}")
        self._data = arr
        self._requires_grad = False
        self.grad_fn = None
        if requires_grad:
            self.requires_grad = True

    # -- autograd state -----------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.grad_fn is not None and not value:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if value and self._data.dtype.kind not in "fc":
            raise RuntimeError(
                "only Tensors of floating point and complex dtype can require gradients")
        if self.grad_fn is None:
            self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self.requires_grad = requires_grad
        return self

    def is_inference(self) -> bool:
        """Was this tensor made under ``inference_mode``?"""
        return bool(inference_arrays) and id(self._data) in inference_arrays

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad(self):
        if self.grad_fn is not None and not self._retains_grad and self._grad is None:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. "
                "Its .grad attribute won't be populated during autograd.backward(). If you "
                "indeed want the .grad field to be populated for a non-leaf Tensor, use "
                ".retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by "
                "mistake, make sure you access the leaf Tensor instead.", UserWarning,
                stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got "
                                f"grad of type {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor "
                    f"of size '{list(self.shape)}'. Please ensure that the gradient and the "
                    "tensor are the same size")
            if value.dtype != self.dtype:
                raise RuntimeError("assigned grad has data of a different type")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor during backward."""
        if self.grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self._retains_grad:
            return
        node = self.grad_fn
        retained = node.__dict__.setdefault("_retained", [])
        retained.append((self._output_nr, weakref.ref(self)))
        node._has_hooks = True
        node._fast = False
        self._retains_grad = True

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one."""
        if not self._requires_grad:
            raise RuntimeError(
                "cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn._register_tensor_hook(self._output_nr, hook)
        from .autograd.function import _add_hook

        if self._hooks is None:
            self._hooks = {}
        return _add_hook(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` after a gradient was accumulated into this leaf's ``.grad``."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors")
        from .autograd.function import _add_hook

        if self._post_hooks is None:
            self._post_hooks = {}
        return _add_hook(self._post_hooks, hook)

    def _tensor_hooks(self):
        return list(self._hooks.values()) if self._hooks else ()

    def _post_accumulate_hooks(self):
        return list(self._post_hooks.values()) if self._post_hooks else ()

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute the gradient of this tensor w.r.t. graph leaves, accumulating into ``.grad``."""
        if inputs is None:  # the common call, straight to the engine (no import per call;
            # looked up on the package: anomaly mode swaps in a checking run_backward)
            _autograd.run_backward((self,), (gradient,), retain_graph, create_graph,
                                   accumulate=True)
            return
        from .autograd import backward

        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> "Tensor":
        """A new tensor sharing this data, cut from the graph."""
        return _make(self._data, False, None)

    def detach_(self) -> "Tensor":
        if self._base is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self) -> "Tensor":
        return _make(self._data, False, None)

    @data.setter
    def data(self, value: "Tensor") -> None:
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    # -- metadata -----------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_canon_dim(dim, self._data.ndim)]

    @property
    def dtype(self):
        return _dtype.from_numpy_dtype(self._data.dtype)

    @property
    def device(self) -> device:
        return _CPU

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def is_cpu(self) -> bool:
        return True

    is_meta = is_sparse = is_quantized = is_mkldnn = is_mps = is_xpu = property(
        lambda self: False)

    def get_device(self) -> int:
        """The CUDA device index, -1 for a CPU tensor (always, here)."""
        return -1

    @property
    def layout(self):
        return strided

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(self._data.flags.c_contiguous)

    def stride(self, dim=None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_canon_dim(dim, self._data.ndim)]

    def storage_offset(self) -> int:
        """Elements from the start of the memory this tensor's array views (NumPy's base)."""
        a = base = self._data
        while isinstance(base.base, np.ndarray):
            base = base.base
        if base is a:
            return 0
        return (a.__array_interface__["data"][0] - base.__array_interface__["data"][0]) \
            // a.itemsize

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0]

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # -- conversion ---------------------------------------------------------------
    def numpy(self, *, force: bool = False) -> np.ndarray:
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        if self._requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead.")
        if dtype is not None and dtype != self._data.dtype:
            return self._data.astype(dtype)
        return self._data

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                "Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data)

    # float(t)/int(t)/complex(t) raise ValueError where .item() raises RuntimeError (PyTorch).
    def __float__(self) -> float:
        if self._data.size != 1:
            raise ValueError(_ONE_ELEMENT)
        return float(self._data.item())

    def __int__(self) -> int:
        if self._data.size != 1:
            raise ValueError(_ONE_ELEMENT)
        return int(self._data.item())

    def __complex__(self) -> complex:
        if self._data.size != 1:
            raise ValueError(_ONE_ELEMENT)
        return complex(self._data.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.item())

    def __hash__(self) -> int:
        return id(self)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __repr__(self) -> str:
        from ._tensor_str import tensor_repr

        return tensor_repr(self)

    def __format__(self, spec: str) -> str:
        # A 0-d tensor formats its Python number (f"{loss}" prints 0.12345600128173828).
        if self._data.ndim == 0:
            return self._data.item().__format__(spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return repr(self)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (self._data, self._requires_grad))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.  If you were "
                               "attempting to deepcopy a module, this may be because of a "
                               "torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        new = type(self).__new__(type(self))
        new._data = self._data.copy()
        new._requires_grad = self._requires_grad
        new.grad_fn = None
        if self._grad is not None:
            new._grad = self._grad.__deepcopy__(memo)
        for k, v in self.__dict__.items():
            if k not in ("_grad", "_acc_ref", "_hooks", "_post_hooks"):
                new.__dict__[k] = v
        memo[id(self)] = new
        return new

    # -- dtype conversion ---------------------------------------------------------
    def to(self, *args, **kwargs) -> "Tensor":
        from .ops.creation import _parse_to

        if any(_is_cuda_arg(a) for a in args) or _is_cuda_arg(kwargs.get("device")):
            raise _no_cuda()
        dt, copy = _parse_to(args, kwargs)
        if dt is None or dt.np == self._data.dtype:
            return self.clone() if copy else self
        return _ops().shape.cast(self, dt)

    def type(self, dtype=None, non_blocking=False, **kwargs):
        """The type string (``'torch.FloatTensor'``) or a cast to a dtype, a legacy type
        (``torch.DoubleTensor``) or its name (``'torch.DoubleTensor'``)."""
        if dtype is None:
            return "torch." + _TYPE_NAMES[self._data.dtype.name] + "Tensor"
        if isinstance(dtype, str):
            name = dtype
            if name.startswith("torch.cuda."):
                raise _no_cuda()
            dtype = _TYPE_BY_NAME.get(name)
            if dtype is None:
                raise ValueError(f"invalid type: '{name}'")
        elif isinstance(getattr(dtype, "dtype", None), _dtype.dtype):
            dtype = dtype.dtype  # a legacy type class: torch.DoubleTensor
        return self.to(dtype)

    def type_as(self, other: "Tensor") -> "Tensor":
        return self.to(other.dtype)

    def float(self) -> "Tensor":
        return self.to(_dtype.float32)

    def double(self) -> "Tensor":
        return self.to(_dtype.float64)

    def half(self) -> "Tensor":
        return self.to(_dtype.float16)

    def cfloat(self) -> "Tensor":
        return self.to(_dtype.complex64)

    def cdouble(self) -> "Tensor":
        return self.to(_dtype.complex128)

    def is_pinned(self, device=None) -> bool:
        return False  # CPU memory is never pinned here

    def is_shared(self) -> bool:
        return False

    def to_dense(self, dtype=None, *, masked_grad=None) -> "Tensor":
        return self if dtype is None else self.to(dtype)  # tensors are always dense

    @property
    def output_nr(self) -> int:
        """Which output of its ``grad_fn`` this tensor is (0 for leaves)."""
        return self._output_nr

    def long(self) -> "Tensor":
        return self.to(_dtype.int64)

    def int(self) -> "Tensor":
        return self.to(_dtype.int32)

    def short(self) -> "Tensor":
        return self.to(_dtype.int16)

    def char(self) -> "Tensor":
        return self.to(_dtype.int8)

    def byte(self) -> "Tensor":
        return self.to(_dtype.uint8)

    def bool(self) -> "Tensor":
        return self.to(_dtype.bool)

    def cpu(self) -> "Tensor":
        return self

    def cuda(self, *args, **kwargs):
        raise _no_cuda()

    def contiguous(self, memory_format=None) -> "Tensor":
        """``self`` when its data is C-contiguous, else a C-ordered copy (CloneBackward0)."""
        if self._data.flags.c_contiguous:
            return self
        return _ew.clone(self)

    def pin_memory(self) -> "Tensor":
        return self

    def share_memory_(self) -> "Tensor":
        return self


    # -- arithmetic operators (the ops live in ops/elementwise.py) --------------------
    def __rsub__(self, other):
        return _ew.rsub(self, other)

    def __rtruediv__(self, other):
        return _ew._rtruediv(self, other)

    def __pow__(self, other):
        return _ew.pow(self, other)

    def __rpow__(self, other):
        return _ew.pow(other, self)

    def __rmatmul__(self, other):
        return _la.matmul(_as_operand(other), self)

    def __neg__(self):
        return _ew.neg(self)

    def __pos__(self):
        return _ew.positive(self)

    def add(self, other, *, alpha=1):
        return _ew.add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return _ew.sub(self, other, alpha=alpha)

    subtract = sub

    def mul(self, other):
        return _ew.mul(self, other)

    multiply = mul

    def div(self, other, *, rounding_mode=None):
        return _ew.div(self, other, rounding_mode=rounding_mode)

    divide = true_divide = div

    def pow(self, exponent):
        return _ew.pow(self, exponent)

    def neg(self):
        return _ew.neg(self)

    negative = neg

    def softmax(self, dim, dtype=None):
        from .nn import functional as F

        return F.softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim, dtype=None):
        from .nn import functional as F

        return F.log_softmax(self, dim, dtype=dtype)

    def clone(self, *, memory_format=None):
        return _ew.clone(self)

    def mm(self, mat2):
        return _la.mm(self, mat2)

    def dot(self, other):
        return _la.dot(self, other)

    # -- reductions (ops/reduction.py): sum and mean are bound at the end of this file

    # -- shape (ops/shape.py) -----------------------------------------------------------
    def reshape(self, *args, shape=None):  # x.reshape(2, 3), ((2, 3)) or (shape=(2, 3))
        return _shp.reshape(self, *(args if shape is None else (shape,)))

    def view(self, *args, size=None):  # x.view(2, 3), ((2, 3)) or (size=(2, 3))
        return _shp.view(self, *(args if size is None else (size,)))

    def view_as(self, other):
        return _shp.reshape(self, other.shape)

    def reshape_as(self, other):
        return _shp.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return _shp.flatten(self, start_dim, end_dim)

    def transpose(self, dim0, dim1):
        return _shp.transpose(self, dim0, dim1)

    swapaxes = swapdims = transpose

    def t(self):
        return _shp.t(self)

    @property
    def T(self):
        n = self._data.ndim
        if n < 2:
            return self
        return _shp.permute_checked(self, tuple(range(n - 1, -1, -1)))

    @property
    def mT(self):
        return _shp.transpose(self, -2, -1)

    @property
    def mH(self):
        """The conjugate transpose of the last two dims (``mT`` for real tensors)."""
        t = _shp.transpose(self, -2, -1)
        return t.conj() if self._data.dtype.kind == "c" else t

    def adjoint(self):
        return self.mH

    @property
    def H(self):
        n = self._data.ndim
        if n != 2:
            raise RuntimeError(
                f"tensor.H is only supported on matrices (2-D tensors). Got {n}-D tensor."
                + (" For batches of matrices, consider using tensor.mH" if n > 2 else ""))
        return self.mH

    def permute(self, *args, dims=None):  # x.permute(1, 0), ((1, 0)) or (dims=(1, 0))
        return _shp.permute(self, *(args if dims is None else (dims,)))

    def expand(self, *sizes):
        return _shp.expand(self, *sizes)

    def expand_as(self, other):
        return _shp.expand(self, other.shape)

    def squeeze(self, dim=None):
        return _shp.squeeze(self, dim)

    def unsqueeze(self, dim):
        return _shp.unsqueeze(self, dim)

    # -- in-place ------------------------------------------------------------------------
    def zero_(self):
        """Fill with zeros in place (allowed on leaves only under no_grad, like PyTorch)."""
        return self.fill_(0)

    def fill_(self, value):
        if isinstance(value, Tensor) and value._requires_grad and grad_state.enabled:
            return inplace(self, _copy_from, value)
        if not grad_state.enabled or not (self._requires_grad or self._base is not None):
            _check_inplace(self)  # fast path: nothing to record
            self._data[...] = value.item() if isinstance(value, Tensor) else value
            self._bump()
            return self
        return inplace(self, _filled, value.item() if isinstance(value, Tensor) else value)

    def copy_(self, src, non_blocking=False):
        """Copy ``src`` (broadcast, cast) into this tensor; gradient flows to ``src``."""
        src = src if isinstance(src, Tensor) else _make(np.asarray(src), False, None)
        return inplace(self, _copy_from, src)

    # -- new tensors like this one (dtype taken from self) --------------------------
    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
        from .ops.creation import tensor

        return tensor(data, dtype=self.dtype if dtype is None else dtype,
                      requires_grad=requires_grad)

    def new(self, *args, device=None):
        """Legacy ``x.new(2, 3)`` / ``x.new(data)``: like ``torch.FloatTensor(...)`` with
        ``x``'s dtype."""
        from ._legacy_types import _new as legacy_new

        return legacy_new(_DtypeOf(self), args, device)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new_filled(size, 0, dtype, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new_filled(size, 1, dtype, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new_filled(size, 0, dtype, requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
        return self._new_filled((size,) if isinstance(size, int) else tuple(size), fill_value,
                                dtype, requires_grad)

    def _new_filled(self, size, value, dtype, requires_grad):
        from .ops.creation import _size

        d = self._data.dtype if dtype is None else _dtype.to_np(dtype)
        t = _make(np.full(_size(size), value, dtype=d), False, None)
        if requires_grad:
            t.requires_grad = True
        return t

    def _bump(self):
        """Record an in-place write (the version is shared by all views of the memory)."""
        bump_version(self._data)

    @property
    def _version(self) -> int:
        return array_version(self._data)


_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
               "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
               "complex64": "ComplexFloat", "complex128": "ComplexDouble"}
_TYPE_BY_NAME = {f"torch.{v}Tensor": _dtype.to_dtype(np.dtype(k)) for k, v in _TYPE_NAMES.items()}
_ONE_ELEMENT = "only one element tensors can be converted to Python scalars"


class _DtypeOf:
    """Stands in for a legacy type class (only its ``dtype`` is read)."""

    __slots__ = ("dtype",)

    def __init__(self, t):
        self.dtype = t.dtype


def _rebuild(data, requires_grad):
    t = _make(data, False, None)
    t._requires_grad = requires_grad
    return t


def _canon_dim(dim, ndim: int) -> int:
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n if ndim else 0


def _ops():
    from . import ops

    return ops


def _check_inplace(t: Tensor) -> None:
    """PyTorch forbids in-place changes to a leaf that requires grad while recording."""
    if t._requires_grad and t.grad_fn is None and grad_state.enabled:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation.")
    if not t._data.flags.writeable:
        t._data = t._data.copy()


def inplace(t: Tensor, op, *args, **kwargs) -> Tensor:
    """Run ``op(t, *args, **kwargs)`` out of place and write the result into ``t``'s memory.

    This is how every in-place op (``add_``, ``clamp_``, ``masked_fill_``, ...) gets
    PyTorch's semantics: views see the change, the version is bumped (so a node that saved
    the old values raises in backward), and when a gradient is wanted ``t`` takes the op's
    node as its new ``grad_fn``, computed from a copy of the old values.
    """
    _check_inplace(t)
    recording = grad_state.enabled and (
        t._requires_grad or any(getattr(a, "_requires_grad", False) for a in args)
        or any(getattr(v, "_requires_grad", False) for v in kwargs.values()))
    view_of_graph = grad_state.enabled and _base_in_graph(t)
    if view_of_graph:
        recording = True
    src = _make(t._data.copy(), t._requires_grad, t.grad_fn, t._output_nr) if recording else t
    r = op(src, *args, **kwargs)
    rd = r._data
    if rd.shape != t._data.shape:
        raise RuntimeError(f"output with shape {list(t._data.shape)} doesn't match the "
                           f"broadcast shape {list(rd.shape)}")
    if rd.dtype != t._data.dtype and _dtype.category(rd.dtype) > _dtype.category(t._data.dtype):
        # PyTorch casts the result back into self's dtype unless that loses a category
        # (float into an integer tensor, ...).
        raise RuntimeError(
            f"result type {_TYPE_NAMES[rd.dtype.name]} can't be cast to the desired output "
            f"type {_TYPE_NAMES[t._data.dtype.name]}")
    if rd is not t._data:
        t._data[...] = rd
    t._bump()
    if recording:
        # The new value's history replaces the old one (none if it is a constant now).
        t.grad_fn = r.grad_fn
        t._requires_grad = r.grad_fn is not None
        if r._output_nr:
            t._output_nr = r._output_nr
        elif "_output_nr" in t.__dict__:
            del t.__dict__["_output_nr"]
    if view_of_graph or (t._base is not None and t.grad_fn is not None and grad_state.enabled):
        _rebase_bases(t)  # the base's history must include this write too
    return t


def _base_in_graph(t: Tensor) -> bool:
    """Is ``t`` a view (from basic indexing) of a tensor whose history matters?"""
    multi = t.__dict__.get("_multi_view") if t._base is None else None
    if multi is not None and t._requires_grad:
        raise RuntimeError(
            f"Output {t._output_nr} of {multi} is a view and is being modified inplace. This "
            "view is the output of a function that returns multiple views. Such functions do "
            "not allow the output views to be modified inplace. You should replace the inplace "
            "operation by an out-of-place one.")
    base = t._base
    while base is not None:
        if base._requires_grad:
            if base.grad_fn is None:
                raise RuntimeError("a view of a leaf Variable that requires grad is being used "
                                   "in an in-place operation.")
            return True
        base = base._base
    return False


def _rebase_bases(view: Tensor) -> None:
    """After writing into ``view`` (memory is shared), each base in the chain gets a
    CopySlices node: base_new = base_old with base_old[key] = view_new (PyTorch's rule)."""
    from .autograd.function import NO_EDGE, edge

    t = view
    while True:
        base = t._base
        key = t.__dict__.get("_view_key")
        view_fn = t.__dict__.get("_view_fn")
        if base is None or (key is None and view_fn is None):
            return
        if key is not None:  # basic indexing
            node = _idx.CopySlices()
            node.key = key
            node.v_shape = t._data.shape
            node.accumulate = False
        else:  # reshape, transpose, ...: flat positions of the view in the base
            node = _shp.CopySlices()
            node.sel = view_fn(np.arange(base._data.size).reshape(base._data.shape))
        node.next_functions = (edge(base) if base._requires_grad else NO_EDGE,
                               edge(t) if t._requires_grad else NO_EDGE)
        node.saved = ()
        base.grad_fn = node
        base._requires_grad = True
        if "_output_nr" in base.__dict__:
            del base.__dict__["_output_nr"]
        t = base


def _filled(old: Tensor, value) -> Tensor:
    """The out-of-place value of ``old.fill_(value)``: a constant."""
    return _make(np.full(old._data.shape, value, old._data.dtype), False, None)


def _copy_from(old: Tensor, src: Tensor) -> Tensor:
    """The out-of-place value of ``old.copy_(src)``: src cast and broadcast to old."""
    r = src if src._data.dtype == old._data.dtype else src.to(old.dtype)
    if tuple(r.shape) != tuple(old.shape):
        r = r.expand(old.shape)
    return r


def _as_operand(x):
    if isinstance(x, Tensor):
        return x
    return _make(np.asarray(x), False, None)


# The op modules import Tensor, so they are bound here, after the class exists.
from .ops import elementwise as _ew  # noqa: E402
from .ops import linalg as _la  # noqa: E402
from .ops import reduction as _red  # noqa: E402
from .ops import shape as _shp  # noqa: E402
from .ops import indexing as _idx  # noqa: E402,F401
from . import autograd as _autograd  # noqa: E402

# Operators are bound straight to the op functions (no wrapper method): on small tensors
# each extra Python call is ~8% of an op's cost.
Tensor.__add__ = _ew._add
Tensor.__sub__ = _ew._sub
Tensor.__mul__ = _ew._mul
Tensor.__truediv__ = _ew._div
Tensor.__radd__ = _ew._add  # a + b == b + a for numbers
Tensor.__rmul__ = _ew._mul
Tensor.__matmul__ = Tensor.matmul = _la.matmul
Tensor.tanh, Tensor.sigmoid, Tensor.relu = _ew.tanh, _ew.sigmoid, _ew.relu
Tensor.exp, Tensor.log = _ew.exp, _ew.log
Tensor.sum, Tensor.mean = _red.sum, _red.mean

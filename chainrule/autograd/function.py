"""Graph nodes: the one place backward nodes, AccumulateGrad and custom Functions are defined.

A node is made by the forward of an op when some input requires grad. It holds
``next_functions`` (one ``(node, output_nr)`` edge per differentiable input, ``(None, 0)``
where no gradient is wanted) and ``saved``: the arrays its derivative needs. The engine
calls ``node.apply(grad, create_graph)``, which hands ``backward(grad, *saved)`` either raw
NumPy arrays (plain backward: nothing is recorded, the formula runs at NumPy speed) or
Tensors connected to the graph (``create_graph=True``: the formula's own ops are recorded,
so higher-order gradients come from the same one formula).
"""
from __future__ import annotations

import weakref

import numpy as np

from .grad_mode import grad_state

# ``saved_spec`` entries say where each saved array came from, so that with
# create_graph=True it can be turned back into a Tensor that is part of the graph.
OUTPUT = -1  # the node's own output (stored as an array: a Tensor would form a cycle)
CONST = None  # not differentiable (a mask, indices): stays a constant

FREED = ("freed",)  # marker: saved values were released by a backward without retain_graph

SECOND_BACKWARD_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


# ======================================================================================
# In-place version tracking
# ======================================================================================
# PyTorch keeps a version counter per tensor and checks saved tensors against it in
# backward. chainrule saves raw arrays, so versions are kept per *memory owner* (the root
# base array, shared by all views), and only for arrays that were ever modified in place.
# A global write clock makes the check cheap: a node made while some array had been
# written remembers the clock (``node._clock``); in backward, only a node older than the
# latest write looks its saved arrays up. While nothing was ever written in place, the
# whole cost on the hot path is one emptiness check of ``array_versions``.
array_versions: dict = {}  # id(root array) -> [weakref to it, version, clock of last write]
_clock = [0]  # counts in-place writes (process-wide)
_special = [False]  # inference tensors or saved-tensor hooks in play: slower save path


def _root(a):
    base = a.base
    while isinstance(base, np.ndarray):
        a, base = base, base.base
    return a


# Arrays of tensors made under inference_mode (by id): saving them for backward, or
# writing them outside inference_mode, raises as in PyTorch.
inference_arrays: dict = {}
_MARK = "special save handling"  # a key that keeps array_versions non-empty


def _turn_on_special() -> None:
    _special[0] = True
    array_versions[_MARK] = [None, 0, 0]


def mark_inference(arr) -> None:
    key = id(arr)
    if key not in inference_arrays:
        inference_arrays[key] = weakref.ref(arr, lambda _, key=key: inference_arrays.pop(key,
                                                                                        None))
        _turn_on_special()


def bump_version(arr) -> int:
    """Record an in-place write into ``arr``'s memory; returns the new version."""
    if inference_arrays and id(arr) in inference_arrays and not grad_state.inference:
        raise RuntimeError(
            "Inplace update to inference tensor outside InferenceMode is not allowed.You can "
            "make a clone to get a normal tensor before doing inplace update.See "
            "https://github.com/pytorch/rfcs/pull/17 for more details.")
    root = _root(arr)
    key = id(root)
    entry = array_versions.get(key)
    if entry is None:
        entry = array_versions[key] = [
            weakref.ref(root, lambda _, key=key: array_versions.pop(key, None)), 0, 0]
    _clock[0] += 1
    entry[1] += 1
    entry[2] = _clock[0]
    return entry[1]


def array_version(arr) -> int:
    entry = array_versions.get(id(_root(arr))) if array_versions else None
    return 0 if entry is None else entry[1]


def stamp_versions(node) -> None:
    """Called for each new node while ``array_versions`` is non-empty: remember the clock
    (and, in special cases, refuse inference tensors and run pack hooks)."""
    node._clock = _clock[0]
    if _special[0]:
        for a in node.saved:
            if type(a) is np.ndarray and inference_arrays and id(a) in inference_arrays:
                raise RuntimeError(
                    "Inference tensors cannot be saved for backward. To work around you can "
                    "make a clone to get a normal tensor and use it in autograd.")
        if _saved_hooks_depth[0]:
            _pack_saved(node)


_saved_hooks_depth = [0]


def saved_hooks_entered() -> None:
    _saved_hooks_depth[0] += 1
    _turn_on_special()  # stays on: nodes packed inside must still be unpacked later


def saved_hooks_exited() -> None:
    _saved_hooks_depth[0] = max(0, _saved_hooks_depth[0] - 1)


class _Packed:
    """A saved array replaced by what a ``saved_tensors_hooks`` pack hook returned."""

    __slots__ = ("packed", "unpack")

    def __init__(self, packed, unpack):
        self.packed, self.unpack = packed, unpack

    def array(self):
        t = self.unpack(self.packed)
        return t._data if hasattr(t, "_data") else np.asarray(t)


def _pack_saved(node) -> None:
    from .graph import current_saved_tensors_hooks
    _make = _tensor_mod._make

    hooks = current_saved_tensors_hooks()
    if hooks is None or not node.saved or node.saved is FREED:
        return
    pack, unpack = hooks
    number_slot = node.number_slot  # a Python number the op saved: not a tensor to torch
    with _no_grad():  # as in PyTorch, the hook's own ops are not recorded
        node.saved = tuple(_Packed(pack(_make(a, False, None)), unpack)
                           if type(a) is np.ndarray and i != number_slot else a
                           for i, a in enumerate(node.saved))


def _no_grad():
    from .grad_mode import no_grad

    return no_grad()


def _made_at(node) -> int:
    try:
        return node._clock
    except AttributeError:  # made while nothing had been written in place
        return 0


def unpack_saved(node, saved) -> tuple:
    """Check versions and undo pack hooks: the saved values a formula may use."""
    try:  # _made_at(node), inline: this runs for every node once anything was written
        made = node._clock
    except AttributeError:
        made = 0
    if _clock[0] > made:  # something was written since this node was made
        check_versions(node, saved)
    if _special[0] and any(type(a) is _Packed for a in saved):
        saved = tuple(a.array() if type(a) is _Packed else a for a in saved)
    return saved


def check_versions(node, saved) -> None:
    """Raise PyTorch's error if a saved array was written in place after it was saved."""
    made = _made_at(node)
    for a in saved:
        if type(a) is np.ndarray:
            entry = array_versions.get(id(_root(a)))
            if entry is not None and entry[2] > made:
                from ..ops.reduction import _scalar_name

                kind = _scalar_name(a.dtype)  # torch.FloatTensor, torch.DoubleTensor, ...
                now = entry[1]
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: [torch.{kind}Tensor {list(a.shape)}], which is "
                    f"saved by {type(node).__name__}, is at version {now}; expected version "
                    f"{now - 1} instead. Hint: the operation that failed to compute its "
                    "gradient is the one named; compute on a clone() instead of modifying in "
                    "place.")


class Node:
    """A backward function in the graph (what ``tensor.grad_fn`` points to)."""

    # __dict__ holds the rarely set attributes (hooks, metadata) so that making a node
    # in the hot path assigns only two slots; the class attributes are their defaults.
    __slots__ = ("next_functions", "saved", "_clock", "__dict__", "__weakref__")
    saved_spec: tuple = (0, 1)
    number_slot = None  # index in ``saved`` of a Python number kept as a 0-d array, if any
    num_outputs = 1
    _pre_hooks = None
    _hooks = None
    _retained = None  # weakrefs of non-leaf tensors that called retain_grad()
    _has_hooks = False  # set with any of the three above, so the engine checks one flag
    plain_formula = True  # backward(grad, *saved) may be called directly on arrays
    _fast = True  # plain_formula and no hooks: the engine's fast path (cleared by hooks)

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    @property
    def metadata(self) -> dict:
        md = self.__dict__.get("_metadata")
        if md is None:
            md = self.__dict__["_metadata"] = {}
        return md

    def backward(self, grad, *saved):
        """Return one gradient (or None) per entry of ``next_functions``."""
        raise NotImplementedError

    def apply(self, grad, create_graph: bool):
        saved = self.saved
        if saved is FREED:
            raise RuntimeError(SECOND_BACKWARD_MSG)
        if array_versions and saved:
            saved = unpack_saved(self, saved)
        if create_graph:
            grad = [as_graph_tensor(g) for g in grad] if type(grad) is list \
                else as_graph_tensor(grad)
            saved = self._saved_tensors()
        return self.backward(grad, *saved)

    def _saved_tensors(self) -> tuple:
        """Turn saved arrays back into Tensors linked to the graph (for create_graph)."""
        _make = _tensor_mod._make

        out = []
        saved = unpack_saved(self, self.saved) if array_versions else self.saved
        for value, src in zip(saved, self.saved_spec):
            if not isinstance(value, np.ndarray):
                out.append(value)  # Python scalars, shapes, dims: plain data
            elif src is CONST:
                out.append(_make(value, False, None))
            elif src == OUTPUT:
                out.append(_make(value, True, self))
            else:
                fn, nr = self.next_functions[src]
                if fn is None:
                    out.append(_make(value, False, None))
                elif type(fn) is AccumulateGrad:
                    out.append(fn.variable)
                else:
                    out.append(_make(value, True, fn, nr))
        return tuple(out)

    # -- hooks ------------------------------------------------------------------
    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after this node; may return new grad_inputs."""
        hooks = self.__dict__.setdefault("_hooks", {})
        self._fast = False
        return _add_hook(hooks, fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node; may return new grad_outputs."""
        hooks = self.__dict__.setdefault("_pre_hooks", {})
        self._has_hooks = True
        self._fast = False
        return _add_hook(hooks, ("node", fn))

    def _register_tensor_hook(self, output_nr, fn):
        hooks = self.__dict__.setdefault("_pre_hooks", {})
        self._has_hooks = True
        self._fast = False
        return _add_hook(hooks, ("tensor", output_nr, fn))


class RemovableHandle:
    """Returned by every ``register_*hook``; ``remove()`` takes the hook out."""

    _next_id = 0

    def __init__(self, hooks: dict):
        self.hooks = hooks
        RemovableHandle._next_id += 1
        self.id = RemovableHandle._next_id

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _add_hook(hooks: dict, entry) -> RemovableHandle:
    handle = RemovableHandle(hooks)
    hooks[handle.id] = entry
    return handle


class AccumulateGrad(Node):
    """The node at a leaf that requires grad: adds the incoming gradient into ``.grad``."""

    __slots__ = ("variable",)
    saved_spec = ()
    plain_formula = False
    _fast = False

    def __init__(self, variable):
        self.variable = variable
        self.next_functions = ()
        self.saved = ()

    def apply(self, grad, create_graph):
        _make = _tensor_mod._make

        var = self.variable
        for hook in var._tensor_hooks():
            from .engine import _call_tensor_hook

            grad = _call_tensor_hook(hook, grad, create_graph)
        if create_graph:
            grad = as_graph_tensor(grad)
            var._grad = grad if var._grad is None else var._grad + grad
        else:
            data = grad if type(grad) is np.ndarray else (
                grad._data if hasattr(grad, "_data") else np.asarray(grad))
            if data.dtype != var._data.dtype:
                data = data.astype(var._data.dtype)
            if data.shape != var._data.shape:
                data = np.broadcast_to(data, var._data.shape)
            g = var._grad
            if g is None:
                # Own the buffer (the engine passes arrays nobody else holds, or copies):
                # later accumulation writes into it in place.
                if not data.flags.owndata or not data.flags.writeable:
                    data = data.copy()
                var._grad = _make(data, False, None)
            elif g._requires_grad or not g._data.flags.writeable:
                var._grad = _make(g._data + data, False, None)
            else:
                np.add(g._data, data, out=g._data, casting="unsafe")
        for hook in var._post_accumulate_hooks():
            hook(var)
        return ()


def get_accumulator(t) -> AccumulateGrad:
    """The AccumulateGrad node of leaf ``t``: shared while any graph uses it.

    The tensor holds it only weakly (the node holds the tensor), so no cycle forms.
    """
    ref = t._acc_ref
    acc = ref() if ref is not None else None
    if acc is None:
        acc = AccumulateGrad(t)
        t._acc_ref = weakref.ref(acc)
    return acc


def as_graph_tensor(x):
    """Wrap an array gradient as a Tensor (constant) when a Tensor is needed."""
    Tensor, _make = _tensor_mod.Tensor, _tensor_mod._make

    if x is None or isinstance(x, Tensor):
        return x
    return _make(np.asarray(x), False, None)


def edge(t):
    """The ``(node, output_nr)`` edge into tensor ``t`` for a node that uses it."""
    fn = t.grad_fn
    if fn is not None:
        return (fn, t._output_nr)
    if t._requires_grad:
        ref = t._acc_ref  # get_accumulator's common case inline: the node already exists
        acc = ref() if ref is not None else None
        return (acc if acc is not None else get_accumulator(t), 0)
    return (None, 0)


NO_EDGE = (None, 0)


def grad_needed(*tensors) -> bool:
    """Should an op on these inputs record a node? (grad mode on and some input requires grad)"""
    if not grad_state.enabled:
        return False
    for t in tensors:
        if getattr(t, "_requires_grad", False):
            return True
    return False


# ======================================================================================
# Custom functions
# ======================================================================================
class FunctionCtx:
    """What ``forward`` and ``backward`` of a custom Function share (``ctx``)."""

    def save_for_backward(self, *tensors) -> None:
        for t in tensors:
            if t is not None and not _is_tensor(t):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{tensors.index(t)} is of type {type(t).__name__}")
        self.saved = tensors

    def save_for_forward(self, *tensors) -> None:
        self.saved_for_forward = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self.non_differentiable = {id(t) for t in tensors}

    def mark_dirty(self, *tensors) -> None:
        self.dirty_tensors = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)


class BackwardCFunction(Node, FunctionCtx):
    """The node (and the ``ctx``) of one call of a custom Function."""

    saved_spec = ()
    plain_formula = False
    _fast = False
    _forward_cls = None
    materialize_grads = True
    non_differentiable = frozenset()
    needs_input_grad = ()

    @property
    def saved_tensors(self) -> tuple:
        saved = self.saved
        if saved is FREED:
            raise RuntimeError(SECOND_BACKWARD_MSG)
        if saved and any(type(t) is _Packed for t in saved):  # saved_tensors_hooks: unpack
            saved = tuple(t.unpack(t.packed) if type(t) is _Packed else t for t in saved)
        if grad_state.enabled and self.__dict__.get("_outputs_data"):
            # Under create_graph, a saved output is re-linked to this node (no cycle kept).
            _make = _tensor_mod._make

            outs = self._outputs_data
            return tuple(_make(t._data, True, self, outs.index(id(t._data)))
                         if t is not None and id(t._data) in outs and t.grad_fn is None
                         else t for t in saved)
        return saved

    @property
    def saved_variables(self) -> tuple:
        return self.saved_tensors

    def apply(self, grad, create_graph):
        _make = _tensor_mod._make

        grads = list(grad) if self.num_outputs > 1 else [grad]
        for i, g in enumerate(grads):
            if g is None:
                if self.materialize_grads:
                    shape, dt = self._out_meta[i]
                    grads[i] = _make(np.zeros(shape, dt), False, None)
            else:
                grads[i] = as_graph_tensor(g)
        result = self._forward_cls.backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        n_inputs = len(self._input_meta)
        if len(result) != n_inputs:
            if len(result) > n_inputs and all(r is None for r in result[n_inputs:]):
                result = result[:n_inputs]
            else:
                raise RuntimeError(
                    f"function {type(self).__name__} returned an incorrect number of gradients "
                    f"(expected {n_inputs}, got {len(result)})")
        out = []
        for i, (r, meta) in enumerate(zip(result, self._input_meta)):
            if meta is None:
                continue  # not a tensor input: no edge
            if r is None:
                out.append(None)
                continue
            if not _is_tensor(r):
                raise RuntimeError(f"expected Variable or None (got {type(r).__name__})")
            shape = meta
            if tuple(r._data.shape) != tuple(shape):
                r = _sum_to_input(r, shape, type(self).__name__, i)
            dt = self._input_dtypes[i]
            if r._data.dtype != dt:
                r = r.to(_from_np_dtype(dt))  # PyTorch casts to the input's dtype
            out.append(r if create_graph else r._data)
        return tuple(out)

    def jvp(self, tangents, *saved):
        """Forward mode (called by forward_ad): the user's ``jvp(ctx, *tangents)``, one
        tangent per forward input (zeros for a tensor input without one, None for inputs
        that are not tensors, as PyTorch), with ``ctx.saved_tensors`` giving what
        ``save_for_forward`` kept. Tangents come as arrays (returned as arrays) or Tensors."""
        Tensor, _make = _tensor_mod.Tensor, _tensor_mod._make
        from .grad_mode import enable_grad, no_grad

        as_arrays = any(t is not None and not isinstance(t, Tensor) for t in tangents)
        it = iter(tangents)
        args = []
        for shape, dt in zip(self._input_meta, self._input_dtypes):
            if shape is None:
                args.append(None)
                continue
            t = next(it)
            if t is None:
                t = np.zeros(shape, dt)
            args.append(t if isinstance(t, Tensor) else _make(np.asarray(t), False, None))
        kept = self.saved
        fwd = self.__dict__.get("saved_for_forward")
        if fwd is not None:
            self.saved = fwd
        try:
            with no_grad() if as_arrays else enable_grad():
                res = self._forward_cls.jvp(self, *args)
        finally:
            self.saved = kept
        res = list(res) if isinstance(res, (tuple, list)) else [res]
        if as_arrays:
            res = [r._data if isinstance(r, Tensor) else r for r in res]
        return res if self.num_outputs > 1 else res[0]


def _sum_to_input(r, shape, name, i):
    """PyTorch accepts a gradient that broadcasts to the input: it is summed back."""
    from ..ops._broadcast import sum_to

    try:
        if np.broadcast_shapes(r._data.shape, tuple(shape)) == tuple(r._data.shape):
            return sum_to(r, tuple(shape))
    except ValueError:
        pass
    raise RuntimeError(
        f"Function {name} returned an invalid gradient at index {i} - got "
        f"{list(r._data.shape)} but expected shape compatible with {list(shape)}")


def _from_np_dtype(d):
    from .._dtype import from_numpy_dtype

    return from_numpy_dtype(d)


def _is_tensor(x) -> bool:
    Tensor = _tensor_mod.Tensor

    return isinstance(x, Tensor)


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(name + "Backward", (BackwardCFunction,),
                                 {"_forward_cls": cls, "__module__": cls.__module__})


class Function(metaclass=_FunctionMeta):
    """Base class for custom differentiable operations.

    >>> import chainrule as torch
    >>> class Square(torch.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (x,) = ctx.saved_tensors
    ...         return 2 * x * grad
    >>> x = torch.tensor([3.0], requires_grad=True)
    >>> Square.apply(x).backward()
    >>> x.grad
    tensor([6.])
    """

    def __init__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with "
            "forward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        Tensor, _make = _tensor_mod.Tensor, _tensor_mod._make
        from .grad_mode import no_grad

        ctx = cls._backward_cls()
        ctx.saved = ()
        tensor_args = [a for a in args if isinstance(a, Tensor)]
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        uses_setup = cls.setup_context is not Function.setup_context
        with no_grad():
            if uses_setup:
                output = cls.forward(*args, **kwargs)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        if uses_setup:
            cls.setup_context(ctx, args, output)
        record = grad_state.enabled and any(t._requires_grad for t in tensor_args)
        single = not isinstance(output, tuple)
        outputs = (output,) if single else output
        if not record:
            return output
        ctx.next_functions = tuple(edge(a) for a in tensor_args)
        ctx._input_meta = tuple(a._data.shape if isinstance(a, Tensor) else None for a in args)
        ctx._input_dtypes = tuple(a._data.dtype if isinstance(a, Tensor) else None for a in args)
        ctx.num_outputs = len(outputs)
        dirty = {id(t) for t in ctx.__dict__.get("dirty_tensors", ())}
        for t in ctx.__dict__.get("dirty_tensors", ()):
            if t._requires_grad and t.grad_fn is None:
                raise RuntimeError("a leaf Variable that requires grad has been used in an "
                                   "in-place operation.")
        nondiff = ctx.non_differentiable
        wrapped, meta, out_ids = [], [], []
        for i, o in enumerate(outputs):
            if not isinstance(o, Tensor):
                wrapped.append(o)
                meta.append(((), np.float32))
                out_ids.append(None)
                continue
            meta.append((o._data.shape, o._data.dtype))
            out_ids.append(id(o._data))
            if id(o) in nondiff or o._data.dtype.kind not in "fc":
                o = _make(o._data, False, None) if o.grad_fn is not None or o._requires_grad \
                    else o
                wrapped.append(o)
                continue
            if id(o) in dirty:
                o.grad_fn, o._requires_grad = ctx, True
                o.__dict__["_output_nr"] = i
                wrapped.append(o)
            elif any(o is a for a in tensor_args) or o.grad_fn is not None or o._requires_grad:
                wrapped.append(_make(o._data, True, ctx, i))  # a view that carries this node
            else:
                o.grad_fn, o._requires_grad = ctx, True
                if i:
                    o.__dict__["_output_nr"] = i
                wrapped.append(o)
        ctx._out_meta = meta
        ctx._outputs_data = out_ids
        # Saved tensors that are outputs must not hold the output Tensor (a cycle):
        # keep a plain alias; saved_tensors re-links it under create_graph.
        ctx.saved = tuple(
            _make(t._data, False, None) if t is not None and any(t is w for w in wrapped)
            else t for t in ctx.saved)
        if ctx.saved:
            from .graph import current_saved_tensors_hooks

            hooks = current_saved_tensors_hooks()
            if hooks is not None:  # pack now; ctx.saved_tensors unpacks in backward
                pack, unpack = hooks
                with no_grad():
                    ctx.saved = tuple(t if t is None else _Packed(pack(t), unpack)
                                      for t in ctx.saved)
        return wrapped[0] if single else tuple(wrapped)


class InplaceFunction(Function):
    pass


class NestedIOFunction(Function):
    pass


def once_differentiable(fn):
    """Mark a custom backward as not itself differentiable (runs it under no_grad)."""
    import functools

    from .grad_mode import no_grad

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            return fn(ctx, *args)

    return wrapper


# chainrule.tensor imports this module, so it is bound here, at the end, as a module: its
# names are looked up at call time (a function-level import costs ~1.5 us a call, and
# create_graph and custom Functions make such calls for every gradient).
from .. import tensor as _tensor_mod  # noqa: E402

"""Datasets, samplers and the DataLoader (in-process or with worker processes), PyTorch's API.

>>> import chainrule as torch
>>> from chainrule.utils.data import DataLoader, TensorDataset
>>> ds = TensorDataset(torch.arange(5), torch.arange(5) * 2.0)
>>> [x.tolist() for x, _ in DataLoader(ds, batch_size=2)]
[[0, 1], [2, 3], [4]]
"""
from __future__ import annotations

import bisect
import collections.abc
import itertools
import math
import multiprocessing
import numbers
import os
import pickle
import queue
import random
import sys
import time
import traceback
import types
import warnings
import weakref

import numpy as np

from ..ops.creation import rng as _rng
from ..tensor import Tensor, _make

__all__ = [
    "BatchSampler",
    "DistributedSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "StackDataset",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
]


# -- datasets ---------------------------------------------------------------------------------
class Dataset:
    """A map-style dataset: ``__getitem__(index)`` and usually ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream-style dataset: ``__iter__`` yields samples."""

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other: Dataset) -> ChainDataset:
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Iterable datasets one after another, chained lazily.

    >>> class Stream(IterableDataset):
    ...     def __init__(self, n):
    ...         self.n = n
    ...     def __iter__(self):
    ...         return iter(range(self.n))
    >>> list(ChainDataset([Stream(2), Stream(3)]))
    [0, 1, 0, 1, 2]
    """

    def __init__(self, datasets):
        self.datasets = datasets

    def _each(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield d

    def __iter__(self):
        for d in self._each():
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self._each())


class TensorDataset(Dataset):
    """Sample i is ``tuple(t[i] for t in tensors)``; all tensors share their first dim."""

    def __init__(self, *tensors: Tensor):
        if not all(tensors[0].shape[0] == t.shape[0] for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        # Plain data needs no graph: index the arrays directly (t[index] records a node).
        return tuple(t[index] if t._requires_grad else _make(t._data[index], False, None)
                     for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class ConcatDataset(Dataset):
    """Datasets one after another."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        start = 0 if d == 0 else self.cumulative_sizes[d - 1]
        return self.datasets[d][idx - start]


class StackDataset(Dataset):
    """Datasets side by side: sample i is the tuple (or dict, given keywords) of their i-th.

    >>> import chainrule as torch
    >>> images, labels = torch.arange(6.0).reshape(3, 2), torch.tensor([7, 8, 9])
    >>> StackDataset(images, labels)[1]
    (tensor([2., 3.]), tensor(8))
    >>> StackDataset(image=images, label=labels)[2]
    {'image': tensor([4., 5.]), 'label': tensor(9)}
    """

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via "
                             "``kwargs``) like input/output, but both types are given.")
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        self.datasets = args if args else kwargs
        parts = list(args) if args else list(kwargs.values())
        self._length = len(parts[0])
        if any(len(d) != self._length for d in parts):
            raise ValueError("Size mismatch between datasets")

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices: list) -> list:
        """A batch of samples; each part is fetched with its own ``__getitems__`` if any."""
        named = isinstance(self.datasets, dict)
        parts = self.datasets.items() if named else enumerate(self.datasets)
        columns = {}
        for key, d in parts:
            many = getattr(d, "__getitems__", None)
            col = many(indices) if callable(many) else [d[i] for i in indices]
            if len(col) != len(indices):
                raise ValueError(f"Nested dataset's output size mismatch. Expected "
                                 f"{len(indices)}, got {len(col)}")
            columns[key] = col
        if named:
            return [{k: col[j] for k, col in columns.items()} for j in range(len(indices))]
        return [tuple(col[j] for col in columns.values()) for j in range(len(indices))]

    def __len__(self) -> int:
        return self._length


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset, lengths, generator=None) -> list:
    """Split into non-overlapping random Subsets of the given lengths (or fractions)."""
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, s in enumerate(sizes):
            if s == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an "
                              "empty dataset.")
        lengths = sizes
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    perm = _rng(generator).permutation(sum(lengths)).tolist()
    out, offset = [], 0
    for length in lengths:
        out.append(Subset(dataset, perm[offset:offset + length]))
        offset += length
    return out


# -- samplers -----------------------------------------------------------------------------------
class Sampler:
    """Yields indices (or lists of indices, for batch samplers)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


def _fresh_rng(generator) -> np.random.Generator:
    """The generator to draw from: the given one, or one seeded from the global generator
    (so results are reproducible under ``chainrule.manual_seed``)."""
    if generator is not None:
        return _rng(generator)
    return np.random.default_rng(int(_rng().integers(0, 2 ** 63 - 1)))


class RandomSampler(Sampler):
    """A random permutation of the indices (or draws with replacement)."""

    def __init__(self, data_source, replacement: bool = False, num_samples=None,
                 generator=None):
        self.data_source, self.replacement = data_source, replacement
        self._num_samples, self.generator = num_samples, generator
        if not isinstance(replacement, bool):
            raise TypeError("replacement should be a boolean value, but got replacement="
                            f"{replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n, g = len(self.data_source), _fresh_rng(self.generator)
        if self.replacement:
            yield from g.integers(0, n, self.num_samples).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from g.permutation(n).tolist()
        yield from g.permutation(n)[: self.num_samples % n].tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    def __init__(self, indices, generator=None):
        self.indices, self.generator = indices, generator

    def __iter__(self):
        for i in _fresh_rng(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None):
        w = weights._data if isinstance(weights, Tensor) else np.asarray(weights)
        self.weights = np.asarray(w, dtype=np.float64)
        self.num_samples, self.replacement, self.generator = num_samples, replacement, generator

    def __iter__(self):
        p = self.weights / self.weights.sum()
        g = _fresh_rng(self.generator)
        yield from g.choice(len(p), self.num_samples, replace=self.replacement, p=p).tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups a sampler's indices into lists of ``batch_size``.

    >>> list(BatchSampler(SequentialSampler(range(5)), 2, drop_last=False))
    [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError("batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError("drop_last should be a boolean value, but got "
                             f"drop_last={drop_last}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        it = iter(self.sampler)
        while True:
            batch = list(itertools.islice(it, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size


# -- collation ------------------------------------------------------------------------------
def _stack(tensors) -> Tensor:
    import chainrule

    if any(t._requires_grad for t in tensors):
        return chainrule.stack(list(tensors), 0)
    return _make(np.stack([t._data for t in tensors]), False, None)


def default_collate(batch):
    """Stack a list of samples into a batch: tensors and arrays are stacked, numbers become
    tensors, and tuples, lists and dicts are collated field by field."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(batch)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OSUa":
            raise TypeError("default_collate: batch must contain tensors, numpy arrays, "
                            f"numbers, dicts or lists; found {elem.dtype}")
        return _make(np.stack(batch), False, None)
    if isinstance(elem, np.generic):
        return _make(np.array(batch), False, None)
    if isinstance(elem, bool):
        return _make(np.array(batch, dtype=np.bool_), False, None)
    if isinstance(elem, numbers.Integral):
        return _make(np.array(batch, dtype=np.int64), False, None)
    if isinstance(elem, numbers.Real):
        return _make(np.array(batch, dtype=np.float64), False, None)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return type(elem)({k: default_collate([d[k] for d in batch]) for k in elem}) \
            if not isinstance(elem, collections.OrderedDict) else \
            collections.OrderedDict((k, default_collate([d[k] for d in batch])) for k in elem)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(e) != len(elem) for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError("default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                    f"or lists; found {type(elem)}")


def default_convert(data):
    """Without batching: NumPy arrays become tensors, containers are converted elementwise."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OSUa":
        return _make(data, False, None)
    if isinstance(data, collections.abc.Mapping):
        return type(data)({k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (list, tuple)):
        return type(data)(default_convert(d) for d in data)
    return data


# -- worker processes ---------------------------------------------------------------------
# num_workers > 0: each worker process reads (task index, batch of indices) from its own pipe
# and puts (task index, collated batch) on a queue shared by all; the main process hands out
# up to prefetch_factor tasks per worker and yields the results in task order. Tasks go
# through plain pipes (synchronous sends, no feeder thread), so the stop message always
# arrives, even when the iterator is collected as part of a reference cycle.
_POLL_S = 1.0  # how often a waiting side checks that the other side is still alive
_worker_info = None  # set in worker processes only


class WorkerInfo:
    """What :func:`get_worker_info` returns inside a worker (read-only once made)."""

    __initialized = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs)
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")
        return super().__setattr__(key, val)

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={getattr(self, k)}" for k in self.__keys)
        return f"{type(self).__name__}({items})"


def get_worker_info():
    """In a DataLoader worker process: its ``id``, ``num_workers``, ``seed`` and its copy of
    the ``dataset``; ``None`` in the main process.

    >>> get_worker_info() is None
    True
    """
    return _worker_info


class _ExceptionWrapper:
    """An exception raised in a worker, carried to the main process with its traceback."""

    def __init__(self, where: str):
        exc_type, exc, tb = sys.exc_info()
        self.exc_type = exc_type
        self.exc_msg = "".join(traceback.format_exception(exc_type, exc, tb))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:  # KeyError repr()s its message: keep the newlines
            raise KeyError(_KeyErrorMessage(msg))
        try:
            exc = self.exc_type(msg)
        except Exception:  # an exception type whose constructor needs other arguments
            raise RuntimeError(msg) from None
        raise exc


class _KeyErrorMessage(str):
    def __repr__(self):
        return self


class _IterableEnd:
    """A worker's answer once its copy of an IterableDataset is exhausted."""

    def __init__(self, worker_id: int):
        self.worker_id = worker_id


class _ResumeIteration:
    """Persistent workers: start a new epoch (IterableDataset workers re-iterate)."""


def _fetch(dataset, index, iterable: bool, it, auto_collation: bool, collate_fn,
           batch_size, drop_last: bool):
    """One task's result in a worker (raises StopIteration when ``it`` is exhausted)."""
    if iterable:
        if not auto_collation:
            return collate_fn(next(it))
        batch = list(itertools.islice(it, batch_size))
        if not batch or (drop_last and len(batch) < batch_size):
            raise StopIteration
        return collate_fn(batch)
    if not auto_collation:
        return collate_fn(dataset[index])
    if type(dataset) is TensorDataset and collate_fn is default_collate and \
            not any(t._requires_grad for t in dataset.tensors):  # as in the main process
        idx = np.asarray(index, dtype=np.int64)
        return [_make(t._data[idx], False, None) for t in dataset.tensors]
    getitems = getattr(dataset, "__getitems__", None)
    if getitems is not None:
        return collate_fn(getitems(list(index)))
    return collate_fn([dataset[i] for i in index])


def _worker_loop(dataset, task_pipe, result_queue, done_event, iterable: bool,
                 auto_collation: bool, collate_fn, batch_size, drop_last: bool,
                 base_seed: int, init_fn, worker_id: int, num_workers: int):
    """The body of a worker process: seed, run ``init_fn``, then answer tasks until told
    to stop (``None``) or until the main process is gone."""
    global _worker_info
    import chainrule

    try:
        seed = base_seed + worker_id
        random.seed(seed)
        chainrule.manual_seed(seed)
        np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        parent = os.getppid()
        init_error = None
        it = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            if iterable:
                it = iter(dataset)
        except Exception:
            init_error = _ExceptionWrapper(f"in DataLoader worker process {worker_id}")
        ended = False
        while os.getppid() == parent:
            if not task_pipe.poll(_POLL_S):
                continue
            try:
                task = task_pipe.recv()
            except EOFError:  # the main process is gone
                break
            if task is None:
                break
            if isinstance(task, _ResumeIteration):
                ended = False
                if iterable:
                    try:
                        it = iter(dataset)
                    except Exception:
                        init_error = _ExceptionWrapper(
                            f"in DataLoader worker process {worker_id}")
                result_queue.put((task, None))
                continue
            if ended or done_event.is_set():
                continue  # nothing left to give (or shutting down): wait for None
            idx, index = task
            if init_error is not None:
                data, init_error = init_error, None
            else:
                try:
                    data = _fetch(dataset, index, iterable, it, auto_collation, collate_fn,
                                  batch_size, drop_last)
                except StopIteration:
                    if not iterable:
                        data = _ExceptionWrapper(f"in DataLoader worker process {worker_id}")
                    else:
                        data, ended = _IterableEnd(worker_id), True
                except Exception:
                    data = _ExceptionWrapper(f"in DataLoader worker process {worker_id}")
            result_queue.put((idx, _pickled(data, worker_id)))
            del data, task, index
    except KeyboardInterrupt:
        pass  # the main process handles Ctrl-C
    task_pipe.close()
    if done_event.is_set():  # nobody reads any more: do not wait to flush the queue
        result_queue.cancel_join_thread()
        result_queue.close()


def _pickled(data, worker_id: int) -> bytes:
    """The batch as bytes, pickled here rather than in the queue's feeder thread, where a
    failure would only be printed and the main process would wait for the batch forever."""
    try:
        return pickle.dumps(data, pickle.HIGHEST_PROTOCOL)
    except Exception:
        err = _ExceptionWrapper(f"in DataLoader worker process {worker_id}")
    try:
        return pickle.dumps(err, pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception type that cannot be pickled
        err.exc_type = RuntimeError
        return pickle.dumps(err, pickle.HIGHEST_PROTOCOL)


class _MultiProcessingIter:
    """The iterator of a DataLoader with ``num_workers > 0``."""

    def __init__(self, loader: DataLoader):
        self._loader = weakref.ref(loader)  # no cycle with a loader holding persistent workers
        n = self._num_workers = loader.num_workers
        self._max_tasks = max(1, loader.prefetch_factor * n)
        self._timeout, self._in_order = loader.timeout, loader.in_order
        self._persistent = loader.persistent_workers
        ctx = loader.multiprocessing_context or multiprocessing.get_context()
        # torch: base_seed comes from the loader's generator, worker i is seeded base_seed + i
        base_seed = int(_rng(loader.generator).integers(0, 2 ** 63 - 1))
        self._shutdown = True
        self._pid = os.getpid()  # a forked child inherits this object: it must not shut down
        self._done_event = ctx.Event()
        self._result_queue = ctx.Queue()
        self._task_pipes, self._workers = [], []
        iterable = loader._iterable
        for wid in range(n):
            reader, writer = ctx.Pipe(duplex=False)
            w = ctx.Process(target=_worker_loop, daemon=True, args=(
                loader.dataset, reader, self._result_queue, self._done_event, iterable,
                loader._auto_collation, loader.collate_fn, loader.batch_size,
                loader.drop_last, base_seed, loader.worker_init_fn, wid, n))
            w.start()
            reader.close()  # the worker's end
            self._task_pipes.append(writer)
            self._workers.append(w)
        self._shutdown = False
        self._reset(loader, first=True)

    def _reset(self, loader: DataLoader, first: bool = False) -> None:
        self._sampler_iter = iter(loader._index_sampler)
        self._send_idx = self._rcvd_idx = 0
        self._task_info: dict = {}  # task index -> [worker id] or [worker id, data]
        self._active = [True] * self._num_workers
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        if not first:  # persistent workers: wait until each one has finished the last epoch
            for pipe in self._task_pipes:
                pipe.send(_ResumeIteration())
            pending = self._num_workers
            while pending:
                idx, _ = self._get_data()
                if isinstance(idx, _ResumeIteration):
                    pending -= 1
        for _ in range(self._max_tasks):
            self._put_task()

    def _put_task(self) -> None:
        for _ in range(self._num_workers):
            wid = next(self._worker_cycle)
            if self._active[wid]:
                break
        else:
            return  # every worker is exhausted (IterableDataset)
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        try:
            self._task_pipes[wid].send((self._send_idx, index))
        except OSError:  # the worker died: _get_data reports it
            pass
        self._task_info[self._send_idx] = [wid]
        self._send_idx += 1

    def _get_data(self):
        deadline = None if self._timeout <= 0 else time.monotonic() + self._timeout
        while True:
            wait = _POLL_S if deadline is None else min(_POLL_S, deadline - time.monotonic())
            try:
                return self._result_queue.get(timeout=max(wait, 0))
            except queue.Empty:
                dead = [w for w in self._workers if not w.is_alive()]
                if dead:
                    self._shutdown_workers()
                    pids = ", ".join(str(w.pid) for w in dead)
                    raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited "
                                       "unexpectedly") from None
                if deadline is not None and time.monotonic() >= deadline:
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} "
                                       "seconds") from None

    def __iter__(self):
        return self

    def __next__(self):
        while True:
            # Skip tasks that went to a worker whose IterableDataset ran out before them.
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info is not None and (len(info) == 2 or self._active[info[0]]):
                    break
                self._task_info.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
            else:
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            info = self._task_info[self._rcvd_idx]
            if len(info) == 2:  # arrived earlier, out of order
                del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._process(info[1])
            idx, data = self._get_data()
            data = pickle.loads(data)
            if isinstance(data, _IterableEnd):
                self._active[data.worker_id] = False
                self._task_info.pop(idx, None)
                self._put_task()
                continue
            if idx != self._rcvd_idx and self._in_order:
                self._task_info[idx].append(data)
                continue
            del self._task_info[idx]
            if idx == self._rcvd_idx:
                self._rcvd_idx += 1
            return self._process(data)

    def _process(self, data):
        self._put_task()
        if isinstance(data, _ExceptionWrapper):
            data.reraise()
        return data

    def __len__(self) -> int:
        return len(self._loader())

    def _shutdown_workers(self) -> None:
        if self._shutdown or os.getpid() != self._pid:
            return
        self._shutdown = True
        try:
            self._done_event.set()
            for pipe, w in zip(self._task_pipes, self._workers):
                if w.is_alive():
                    try:
                        pipe.send(None)
                    except OSError:
                        pass
            for w in self._workers:
                w.join(timeout=5 * _POLL_S)
            for pipe in self._task_pipes:
                pipe.close()
        finally:
            for w in self._workers:
                if w.is_alive():
                    w.terminate()
                    w.join(timeout=_POLL_S)

    def __del__(self):
        try:
            self._shutdown_workers()
        except Exception:  # during interpreter shutdown, modules may already be gone
            pass


def _check_context(context, num_workers: int):
    """DataLoader's ``multiprocessing_context``: None, a start-method name or a context."""
    if context is None:
        return None
    if num_workers == 0:
        raise ValueError("multiprocessing_context can only be used with multi-process "
                         f"loading (num_workers > 0), but got num_workers={num_workers}")
    if isinstance(context, str):
        methods = multiprocessing.get_all_start_methods()
        if context not in methods:
            raise ValueError(f"multiprocessing_context option should specify a valid start "
                             f"method in {methods!r}, but got "
                             f"multiprocessing_context={context!r}")
        return multiprocessing.get_context(context)
    if not isinstance(context, multiprocessing.context.BaseContext):
        raise TypeError("multiprocessing_context option should be a valid context object or "
                        "a string specifying the start method, but got "
                        f"multiprocessing_context={context}")
    return context


# -- loader -------------------------------------------------------------------------------
class DataLoader:
    """Iterates a dataset in (optionally shuffled) batches, collated by ``collate_fn``.

    With ``num_workers > 0`` batches are loaded by that many worker processes (see
    :func:`get_worker_info`), in order, ``prefetch_factor`` batches ahead per worker.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers: int = 0, collate_fn=None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None,
                 persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.prefetch_factor, self.persistent_workers = prefetch_factor, persistent_workers
        self.in_order = in_order
        self.multiprocessing_context = _check_context(multiprocessing_context, num_workers)
        self._iterator = None
        self.dataset, self.num_workers = dataset, num_workers
        self.batch_size, self.drop_last = batch_size, drop_last
        self.generator, self.timeout = generator, timeout
        self.pin_memory, self.worker_init_fn = pin_memory, worker_init_fn
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (None, False):
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle \
                else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size, self.drop_last = batch_size, drop_last
        self.sampler, self.batch_sampler = sampler, batch_sampler
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None or (self._iterable and
                                                  self.batch_size is not None)

    @property
    def _index_sampler(self):
        """What the main process hands to workers: batches of indices, single indices, or
        (IterableDataset) placeholders that each ask for the next batch."""
        if self._iterable:
            return itertools.repeat(None)
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        if self.num_workers == 0:
            return self._single_process_iter()
        if not self.persistent_workers:
            return _MultiProcessingIter(self)
        if self._iterator is None:
            self._iterator = _MultiProcessingIter(self)
        else:
            self._iterator._reset(self)
        return self._iterator

    def _single_process_iter(self):
        if self._iterable:
            it = iter(self.dataset)
            if self.batch_size is None:
                for sample in it:
                    yield self.collate_fn(sample)
                return
            while True:
                batch = list(itertools.islice(it, self.batch_size))
                if not batch or (self.drop_last and len(batch) < self.batch_size):
                    return
                yield self.collate_fn(batch)
        elif self.batch_sampler is not None:
            fast = (type(self.dataset) is TensorDataset and self.collate_fn is default_collate
                    and not any(t._requires_grad for t in self.dataset.tensors))
            for indices in self.batch_sampler:
                if fast:  # one fancy-index per tensor instead of per-sample indexing + stack
                    idx = np.asarray(indices, dtype=np.int64)
                    yield [_make(t._data[idx], False, None) for t in self.dataset.tensors]
                    continue
                getitems = getattr(self.dataset, "__getitems__", None)
                if getitems is not None:  # a dataset that fetches a whole batch at once
                    yield self.collate_fn(getitems(list(indices)))
                    continue
                yield self.collate_fn([self.dataset[i] for i in indices])
        else:
            for i in self.sampler:
                yield self.collate_fn(self.dataset[i])

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)


# ======================================================================================
# DistributedSampler, and torch's submodule paths
# ======================================================================================
class DistributedSampler(Sampler):
    """The share of the indices of replica ``rank`` out of ``num_replicas`` (PyTorch's
    sharding: padded by repeating indices unless ``drop_last``; reshuffled per ``set_epoch``).
    chainrule has no process group, so ``num_replicas`` and ``rank`` must be given."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False):
        if num_replicas is None or rank is None:
            raise ValueError("Default process group has not been initialized, please make "
                             "sure to call init_process_group.")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.epoch, self.drop_last, self.shuffle, self.seed = 0, drop_last, shuffle, seed
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:  # same seed and epoch on every replica: the same permutation
            indices = np.random.default_rng(self.seed + self.epoch).permutation(n).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            pad = self.total_size - len(indices)
            if pad > 0:
                indices += (indices * math.ceil(pad / max(len(indices), 1)))[:pad]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch


def _submodule(name: str, **members):
    """``torch.utils.data.<name>``: a module of this module's names, importable by path."""
    mod = types.ModuleType(f"{__name__}.{name}")
    mod.__dict__.update(members)
    sys.modules[mod.__name__] = mod
    return mod


dataloader = _submodule("dataloader", DataLoader=DataLoader, default_collate=default_collate,
                        get_worker_info=get_worker_info)
distributed = _submodule("distributed", DistributedSampler=DistributedSampler)
sampler = _submodule("sampler", Sampler=Sampler, SequentialSampler=SequentialSampler,
                     RandomSampler=RandomSampler, SubsetRandomSampler=SubsetRandomSampler,
                     BatchSampler=BatchSampler, WeightedRandomSampler=WeightedRandomSampler)
dataset = _submodule("dataset", Dataset=Dataset, IterableDataset=IterableDataset,
                     TensorDataset=TensorDataset, ConcatDataset=ConcatDataset, Subset=Subset,
                     random_split=random_split)

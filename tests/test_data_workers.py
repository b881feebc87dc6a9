"""DataLoader(num_workers > 0): worker processes, seeding, worker info, errors, shutdown.

Every test keeps to 2 workers and tiny datasets, and runs under a timeout so that a bug
fails instead of hanging.
"""
import functools
import multiprocessing
import os
import pickle
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import chainrule as cr
from chainrule.utils import data as crdata
from chainrule.utils.data import (
    DataLoader,
    Dataset,
    IterableDataset,
    TensorDataset,
    get_worker_info,
)


def _timeout(seconds):
    """Fail (instead of hanging) when the test takes longer than ``seconds``."""

    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            def on_alarm(signum, frame):
                raise TimeoutError(f"{fn.__name__} took more than {seconds} s")

            old = signal.signal(signal.SIGALRM, on_alarm)
            signal.setitimer(signal.ITIMER_REAL, seconds)
            try:
                return fn(*args, **kwargs)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old)

        return wrapper

    return deco


def _no_children_left(before):
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        if not set(multiprocessing.active_children()) - before:
            return True
        time.sleep(0.02)
    return False


# Datasets at module level so that "spawn" workers can import them.
class InfoDataset(Dataset):
    """Sample i: (i, worker id, worker seed, chainrule/NumPy/random draws, pid)."""

    def __init__(self, n=8):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        w = get_worker_info()
        return {"i": i, "id": w.id, "num_workers": w.num_workers, "seed": w.seed,
                "initial_seed": cr.initial_seed(), "same_dataset": w.dataset.n == self.n,
                "np": float(np.random.rand()), "py": random.random(),
                "cr": float(cr.rand(1)), "pid": os.getpid()}


class Range(IterableDataset):
    def __init__(self, n, shard=False):
        self.n, self.shard = n, shard

    def __iter__(self):
        w = get_worker_info()
        if self.shard and w is not None:
            return iter(range(w.id, self.n, w.num_workers))
        return iter(range(self.n))


class Failing(Dataset):
    def __init__(self, exc):
        self.exc = exc

    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 3:
            raise self.exc
        return i


class Slow(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        time.sleep(0.4)
        return i


class Dies(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        os._exit(3)


class Unpicklable(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        return lambda: i


def _ds(n=10):
    return TensorDataset(cr.arange(n), cr.arange(n) * 2.0)


def test_tensors_pickle():
    t = cr.arange(6.0).reshape(2, 3)
    back = pickle.loads(pickle.dumps(t))
    assert back.tolist() == t.tolist() and back.dtype == t.dtype
    p = cr.nn.Parameter(cr.ones(2))
    assert isinstance(pickle.loads(pickle.dumps(p)), cr.nn.Parameter)


@_timeout(10)
def test_batches_in_order_like_single_process():
    for kw in ({"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": None},
               {"batch_size": 4, "prefetch_factor": 1}):
        single_kw = {k: v for k, v in kw.items() if k != "prefetch_factor"}
        single = [[x.tolist() for x in b] for b in DataLoader(_ds(), **single_kw)]
        multi = [[x.tolist() for x in b] for b in DataLoader(_ds(), num_workers=2, **kw)]
        assert multi == single, kw
    assert get_worker_info() is None


@_timeout(10)
def test_shuffle_covers_each_sample_once_and_follows_the_generator():
    def epoch(seed):
        dl = DataLoader(_ds(20), batch_size=3, shuffle=True, num_workers=2,
                        generator=cr.Generator().manual_seed(seed))
        return [i for b in dl for i in b[0].tolist()]

    a, b = epoch(0), epoch(0)
    assert sorted(a) == list(range(20)) and a == b and a != epoch(1)


@_timeout(10)
def test_worker_info_and_seeds():
    dl = DataLoader(InfoDataset(), batch_size=2, num_workers=2,
                    generator=cr.Generator().manual_seed(0))
    rows = [{k: v.tolist() if isinstance(v, cr.Tensor) else v for k, v in b.items()}
            for b in dl]
    assert [i for r in rows for i in r["i"]] == list(range(8))
    by_worker = {}
    for r in rows:
        by_worker.setdefault(r["id"][0], r)
    assert sorted(by_worker) == [0, 1]  # batches alternate between the two workers
    s0, s1 = by_worker[0]["seed"][0], by_worker[1]["seed"][0]
    assert s1 == s0 + 1  # base_seed + worker_id, as in torch
    for r in rows:
        assert r["num_workers"] == [2, 2] and all(r["same_dataset"])
        assert r["initial_seed"] == r["seed"]  # each worker's chainrule generator is seeded
    # augmentations differ across workers: NumPy's, Python's and chainrule's draws
    for key in ("np", "py", "cr"):
        assert by_worker[0][key] != by_worker[1][key]
    # and the same loader generator seed gives the same seeds again
    again = next(iter(DataLoader(InfoDataset(), batch_size=2, num_workers=2,
                                 generator=cr.Generator().manual_seed(0))))
    assert again["seed"].tolist()[0] == s0 and again["np"].tolist() == by_worker[0]["np"]


@pytest.mark.torch
@_timeout(15)
def test_worker_info_matches_torch():
    import torch
    from torch.utils import data as td

    class TorchInfo(td.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            w = td.get_worker_info()
            return w.id, w.num_workers, w.seed - torch.initial_seed(), w.dataset is not None

    got_t = [tuple(x.tolist() for x in b) for b in
             td.DataLoader(TorchInfo(), batch_size=2, num_workers=2)]
    got_c = [(b["id"].tolist(), b["num_workers"].tolist(),
              [s - i for s, i in zip(b["seed"].tolist(), b["initial_seed"].tolist())],
              b["same_dataset"].tolist())
             for b in DataLoader(InfoDataset(4), batch_size=2, num_workers=2)]
    assert got_c == [tuple(x) for x in got_t]
    assert td.get_worker_info() is None and get_worker_info() is None


@pytest.mark.torch
@_timeout(15)
def test_iterable_dataset_copies_and_sharding_match_torch():
    from torch.utils import data as td

    class TorchRange(td.IterableDataset):
        def __init__(self, n, shard=False):
            self.n, self.shard = n, shard

        def __iter__(self):
            w = td.get_worker_info()
            if self.shard and w is not None:
                return iter(range(w.id, self.n, w.num_workers))
            return iter(range(self.n))

    for shard, kw in ((False, {"batch_size": 2}), (True, {"batch_size": 2, "drop_last": True}),
                      (True, {"batch_size": None})):
        want = [_list(b) for b in td.DataLoader(TorchRange(5, shard), num_workers=2, **kw)]
        got = [_list(b) for b in DataLoader(Range(5, shard), num_workers=2, **kw)]
        assert got == want, (shard, kw)
    # without sharding each worker yields the whole dataset: every sample twice
    flat = [i for b in DataLoader(Range(5), batch_size=2, num_workers=2) for i in b.tolist()]
    assert sorted(flat) == sorted(list(range(5)) * 2)


def _list(b):
    return b if isinstance(b, int) else b.tolist()


def _set_offset(worker_id):
    get_worker_info().dataset.offset = 100 * (worker_id + 1)


class Offset(Dataset):
    offset = 0

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return i + self.offset


@_timeout(10)
def test_worker_init_fn_runs_in_each_worker_on_its_copy():
    ds = Offset()
    got = [b.tolist() for b in DataLoader(ds, batch_size=1, num_workers=2,
                                          worker_init_fn=_set_offset)]
    assert got == [[100], [201], [102], [203]]
    assert ds.offset == 0  # the main process's dataset is untouched


@_timeout(10)
def test_worker_errors_reraise_with_traceback():
    with pytest.raises(ValueError) as e:
        list(DataLoader(Failing(ValueError("bad sample 3")), batch_size=2, num_workers=2))
    msg = str(e.value)
    assert msg.startswith("Caught ValueError in DataLoader worker process 1.\n"
                          "Original Traceback (most recent call last):")
    assert "bad sample 3" in msg and "__getitem__" in msg
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process"):
        list(DataLoader(Failing(KeyError("k")), batch_size=2, num_workers=2))
    with pytest.raises(ZeroDivisionError, match="Caught ZeroDivisionError"):  # init errors
        list(DataLoader(_ds(), num_workers=2, worker_init_fn=_bad_init))
    with pytest.raises(AttributeError, match="Can't pickle local object"):  # no hang
        list(DataLoader(Unpicklable(), batch_size=None, num_workers=2, timeout=5))


def _bad_init(worker_id):
    raise ZeroDivisionError(f"init of worker {worker_id}")


@pytest.mark.torch
@_timeout(15)
def test_error_message_matches_torch():
    from torch.utils import data as td

    class TorchFailing(td.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            if i == 3:
                raise ValueError("bad sample 3")
            return i

    it = iter(td.DataLoader(TorchFailing(), batch_size=2, num_workers=2))
    try:
        with pytest.raises(ValueError) as te:
            list(it)
    finally:  # torch's workers hang on shutdown when it is left to the cycle collector
        it._shutdown_workers()
    with pytest.raises(ValueError) as ce:
        list(DataLoader(Failing(ValueError("bad sample 3")), batch_size=2, num_workers=2))
    t_lines, c_lines = str(te.value).splitlines(), str(ce.value).splitlines()
    assert c_lines[:2] == t_lines[:2] and c_lines[-1] == t_lines[-1]


@_timeout(10)
def test_timeout_and_dead_workers_raise(monkeypatch):
    monkeypatch.setattr(crdata, "_POLL_S", 0.05)
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.1 seconds"):
        list(DataLoader(Slow(), batch_size=1, num_workers=2, timeout=0.1))
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) .*\) exited "
                                           "unexpectedly"):
        list(DataLoader(Dies(), batch_size=1, num_workers=2))


@_timeout(10)
def test_persistent_workers_are_reused_across_epochs():
    dl = DataLoader(InfoDataset(6), batch_size=2, num_workers=2, persistent_workers=True,
                    shuffle=True)
    pids = []
    for _ in range(3):
        batches = list(dl)
        assert sorted(i for b in batches for i in b["i"].tolist()) == list(range(6))
        pids.append({p for b in batches for p in b["pid"].tolist()})
    assert len(pids[0]) == 2 and pids[0] == pids[1] == pids[2]
    it = iter(dl)
    next(it)  # an epoch left early: the next one still starts from the beginning
    assert sorted(i for b in dl for i in b["i"].tolist()) == list(range(6))
    # an IterableDataset's workers start their copies over each epoch
    dl = DataLoader(Range(7, shard=True), batch_size=2, num_workers=2, persistent_workers=True)
    epochs = [[b.tolist() for b in dl] for _ in range(2)]
    assert epochs[0] == epochs[1] == [[0, 2], [1, 3], [4, 6], [5]]


@_timeout(10)
def test_workers_exit_after_epoch_break_and_collection():
    before = set(multiprocessing.active_children())
    assert [b[0].tolist() for b in DataLoader(_ds(4), batch_size=2, num_workers=2)]
    assert _no_children_left(before)
    it = iter(DataLoader(_ds(), batch_size=2, num_workers=2))
    next(it)
    assert len(set(multiprocessing.active_children()) - before) == 2
    del it  # leaving an epoch early shuts the workers down
    assert _no_children_left(before)
    dl = DataLoader(_ds(), batch_size=2, num_workers=2, persistent_workers=True)
    next(iter(dl))
    del dl
    assert _no_children_left(before)


def test_interpreter_exit_does_not_hang():
    code = ("import chainrule as cr\n"
            "from chainrule.utils.data import DataLoader, TensorDataset\n"
            "dl = DataLoader(TensorDataset(cr.arange(100)), batch_size=2, num_workers=2,"
            " persistent_workers=True)\n"
            "it = iter(dl); print(next(it)[0].tolist(), next(it)[0].tolist())\n"
            "it2 = iter(DataLoader(TensorDataset(cr.arange(100)), batch_size=2,"
            " num_workers=2)); next(it2)\n")
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True,
                         text=True, timeout=20, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[0, 1] [2, 3]"


@_timeout(10)
def test_in_order_false_still_yields_every_batch():
    got = [b[0].tolist() for b in DataLoader(_ds(), batch_size=2, num_workers=2,
                                             in_order=False)]
    assert sorted(i for b in got for i in b) == list(range(10))


@pytest.mark.slow  # "spawn" workers import chainrule afresh: 1-2 s
@_timeout(30)
def test_spawn_context():
    dl = DataLoader(_ds(6), batch_size=2, num_workers=2, multiprocessing_context="spawn")
    assert [b[0].tolist() for b in dl] == [[0, 1], [2, 3], [4, 5]]


@pytest.mark.torch
def test_argument_errors_match_torch():
    import torch
    from torch.utils import data as td

    tds = td.TensorDataset(torch.arange(10))
    cases = [({"num_workers": 0, "multiprocessing_context": "spawn"}, ValueError),
             ({"num_workers": 2, "multiprocessing_context": "nope"}, ValueError),
             ({"num_workers": 2, "multiprocessing_context": 3}, TypeError),
             ({"num_workers": 2, "prefetch_factor": -1}, ValueError)]
    for kw, exc in cases:
        with pytest.raises(exc) as te:
            td.DataLoader(tds, **kw)
        with pytest.raises(exc) as ce:
            DataLoader(_ds(), **kw)
        assert str(ce.value) == str(te.value)
    dl = DataLoader(_ds(), num_workers=2, multiprocessing_context="fork")
    assert dl.multiprocessing_context.get_start_method() == "fork"
    assert DataLoader(_ds(), num_workers=2).prefetch_factor == 2

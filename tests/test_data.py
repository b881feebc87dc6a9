"""chainrule.utils.data: datasets, samplers, collation and DataLoader behaviour."""
import collections

import numpy as np
import pytest

import chainrule as cr
from chainrule.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


def _ds(n=10):
    return TensorDataset(cr.arange(n), cr.tensor(np.arange(n) * 2.0))


def test_tensor_dataset_and_size_check():
    ds = _ds()
    assert len(ds) == 10
    x, y = ds[3]
    assert x.item() == 3 and y.item() == 6.0
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(cr.zeros(3), cr.zeros(4))


def test_sequential_batches_cover_in_order_and_last_partial():
    batches = list(DataLoader(_ds(), batch_size=4))
    assert [b[0].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0][1].dtype == cr.float64
    assert len(DataLoader(_ds(), batch_size=4)) == 3


def test_drop_last():
    dl = DataLoader(_ds(), batch_size=4, drop_last=True)
    assert len(dl) == 2
    assert [b[0].tolist() for b in dl] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_shuffle_is_a_permutation_and_seeded():
    def order(seed):
        g = cr.Generator().manual_seed(seed)
        dl = DataLoader(_ds(50), batch_size=8, shuffle=True, generator=g)
        return [i for b in dl for i in b[0].tolist()]

    a, b, c = order(0), order(0), order(1)
    assert sorted(a) == list(range(50))
    assert a == b and a != c and a != list(range(50))


def test_shuffle_follows_manual_seed_and_changes_each_epoch():
    dl = DataLoader(_ds(30), batch_size=30, shuffle=True)
    cr.manual_seed(5)
    e1, e2 = next(iter(dl))[0].tolist(), next(iter(dl))[0].tolist()
    cr.manual_seed(5)
    assert next(iter(dl))[0].tolist() == e1
    assert e1 != e2 and sorted(e1) == sorted(e2) == list(range(30))


def test_batch_rows_stay_paired():
    dl = DataLoader(_ds(20), batch_size=6, shuffle=True, generator=cr.Generator().manual_seed(3))
    for x, y in dl:
        np.testing.assert_array_equal(y.numpy(), 2.0 * x.numpy())


class Pairs(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": np.full(2, i, dtype=np.float32), "n": i, "f": i / 2, "s": str(i),
                "t": (cr.tensor([i, i]), True)}


def test_default_collate_structures_match_torch_types():
    b = next(iter(DataLoader(Pairs(), batch_size=3)))
    assert b["x"].shape == (3, 2) and b["x"].dtype == cr.float32
    assert b["n"].tolist() == [0, 1, 2] and b["n"].dtype == cr.int64
    assert b["f"].dtype == cr.float64
    assert b["s"] == ["0", "1", "2"] or b["s"] == ("0", "1", "2")
    assert isinstance(b["t"], list) and b["t"][0].shape == (3, 2)
    assert b["t"][1].dtype == cr.bool
    P = collections.namedtuple("P", "a b")
    out = default_collate([P(1, 2.0), P(3, 4.0)])
    assert isinstance(out, P) and out.a.tolist() == [1, 3]


def test_custom_collate_sampler_and_batch_sampler():
    seen = []
    dl = DataLoader(_ds(), batch_size=3, collate_fn=lambda b: seen.append(len(b)) or len(b))
    assert list(dl) == [3, 3, 3, 1] and seen == [3, 3, 3, 1]
    dl = DataLoader(_ds(), batch_size=2, sampler=[9, 0, 5])
    assert [b[0].tolist() for b in dl] == [[9, 0], [5]]
    dl = DataLoader(_ds(), batch_sampler=[[1, 2, 3], [7]])
    assert [b[0].tolist() for b in dl] == [[1, 2, 3], [7]]
    dl = DataLoader(_ds(), batch_size=None)
    assert dl.__len__() == 10 and [x.item() for x, _ in dl][:3] == [0, 1, 2]


@pytest.mark.torch
def test_argument_errors_match_torch():
    import torch
    from torch.utils import data as td

    cases = [{"persistent_workers": True}, {"prefetch_factor": 2}, {"num_workers": -1},
             {"timeout": -1}, {"batch_size": 2, "shuffle": True, "sampler": [1, 2]},
             {"batch_sampler": [[0]], "batch_size": 2},
             {"batch_size": None, "drop_last": True}]
    tds = td.TensorDataset(torch.arange(10))
    for kw in cases:
        with pytest.raises(ValueError) as te:
            td.DataLoader(tds, **kw)
        with pytest.raises(ValueError) as ce:
            DataLoader(_ds(), **kw)
        assert str(ce.value) == str(te.value)


def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    r = list(RandomSampler(range(7), generator=cr.Generator().manual_seed(0)))
    assert sorted(r) == list(range(7))
    r = list(RandomSampler(range(3), num_samples=7, generator=cr.Generator().manual_seed(0)))
    assert len(r) == 7 and set(r) == {0, 1, 2}
    r = list(RandomSampler(range(3), replacement=True, num_samples=20))
    assert len(r) == 20 and set(r) <= {0, 1, 2}
    bs = BatchSampler(SequentialSampler(range(7)), 3, drop_last=True)
    assert list(bs) == [[0, 1, 2], [3, 4, 5]] and len(bs) == 2
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(3), 0, False)


@pytest.mark.torch
def test_random_split_lengths_match_torch():
    from torch.utils import data as td

    for lengths in ([3, 7], [0.33, 0.33, 0.34], [0.5, 0.5], [0.1, 0.2, 0.7]):
        for n in (10, 11, 101):
            if isinstance(lengths[0], int) and sum(lengths) != n:
                continue
            ours = random_split(range(n), lengths, generator=cr.Generator().manual_seed(0))
            theirs = td.random_split(range(n), lengths)
            assert [len(s) for s in ours] == [len(s) for s in theirs]
            items = sorted(i for s in ours for i in s)
            assert items == list(range(n))
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(range(10), [3, 3])


def test_subset_concat_and_iterable():
    s = Subset(_ds(), [4, 2])
    assert len(s) == 2 and s[1][0].item() == 2
    c = ConcatDataset([_ds(3), _ds(2)])
    assert len(c) == 5 and c[4][0].item() == 1 and c[-1][0].item() == 1

    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3)] == [[0, 1, 2], [3, 4, 5],
                                                                        [6]]
    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3, drop_last=True)] == [
        [0, 1, 2], [3, 4, 5]]


def test_batched_fetch_with_getitems():
    calls = []

    class Batched(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            raise AssertionError("__getitems__ should be used")

        def __getitems__(self, indices):
            calls.append(indices)
            return [float(i) for i in indices]

    out = [b.tolist() for b in DataLoader(Batched(), batch_size=2)]
    assert out == [[0.0, 1.0], [2.0, 3.0], [4.0]] and calls == [[0, 1], [2, 3], [4]]


@pytest.mark.torch
@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True), (9, 3, False),
                                                    (2, 4, False)])
def test_distributed_sampler_shards_like_torch(n, replicas, drop_last):
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    from chainrule.utils.data.distributed import DistributedSampler

    for rank in range(replicas):
        ours = DistributedSampler(list(range(n)), replicas, rank, shuffle=False,
                                  drop_last=drop_last)
        theirs = TorchSampler(list(range(n)), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
    shuffled = [DistributedSampler(list(range(n)), replicas, r, seed=3) for r in range(replicas)]
    for s in shuffled:
        s.set_epoch(2)
    seen = sorted(i for s in shuffled for i in s)
    assert set(seen) == set(range(n)) and len(seen) == shuffled[0].total_size


@pytest.mark.torch
def test_distributed_sampler_errors_and_submodule_paths_like_torch():
    import torch
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    from chainrule.utils.data.dataloader import default_collate
    from chainrule.utils.data.distributed import DistributedSampler

    for kw in ({}, dict(num_replicas=2, rank=2)):
        with pytest.raises(ValueError) as theirs:
            TorchSampler(list(range(4)), **kw)
        with pytest.raises(ValueError) as ours:
            DistributedSampler(list(range(4)), **kw)
        assert str(ours.value) == str(theirs.value)
    batch = [cr.ones(2), cr.zeros(2)]
    np.testing.assert_array_equal(
        default_collate(batch).numpy(),
        torch.utils.data.dataloader.default_collate([torch.ones(2), torch.zeros(2)]).numpy())
    from chainrule.utils.data.sampler import WeightedRandomSampler  # noqa: F401
    from chainrule.utils.data.dataset import TensorDataset  # noqa: F401

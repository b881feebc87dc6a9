"""The import paths and attribute chains PyTorch scripts use resolve in chainrule too."""
import importlib
import json

import pytest

import chainrule as cr

IMPORTS = [
    ("utils.data", ["DataLoader", "TensorDataset", "Dataset", "random_split"]),
    ("utils.data.dataloader", ["default_collate", "DataLoader"]),
    ("utils.data.distributed", ["DistributedSampler"]),
    ("utils.data.sampler", ["Sampler", "WeightedRandomSampler"]),
    ("utils.checkpoint", ["checkpoint", "checkpoint_sequential"]),
    ("optim.lr_scheduler", ["StepLR", "LambdaLR", "CosineAnnealingLR"]),
    ("optim.optimizer", ["Optimizer"]),
    ("nn.utils.rnn", ["pad_sequence", "pack_padded_sequence"]),
    ("nn.parameter", ["Parameter"]),
    ("nn.modules.loss", ["_Loss"]),
    ("nn.modules.module", ["Module"]),
    ("nn.modules.batchnorm", ["_BatchNorm", "BatchNorm2d"]),
    ("nn.modules.conv", ["_ConvNd"]),
    ("nn.modules.utils", ["_pair", "_single", "_triple"]),
    ("nn.common_types", ["_size_2_t"]),
    ("nn.utils.parametrizations", ["weight_norm"]),
    ("nn.utils.parametrize", ["register_parametrization"]),
    ("autograd.functional", ["jacobian", "hessian"]),
    ("autograd.profiler", ["profile", "record_function"]),
    ("autograd.grad_mode", ["no_grad"]),
    ("profiler", ["profile", "record_function", "ProfilerActivity"]),
    ("types", ["Number"]),
    ("overrides", ["has_torch_function"]),
    ("distributions.normal", ["Normal"]),
    ("distributions.categorical", ["Categorical"]),
    ("distributions.kl", ["kl_divergence", "register_kl"]),
    ("cuda.amp", ["autocast", "GradScaler"]),
    ("func", ["functional_call", "vmap", "grad", "stack_module_state"]),
    ("optim.swa_utils", ["AveragedModel", "SWALR"]),
]


@pytest.mark.torch
@pytest.mark.parametrize("path, names", IMPORTS, ids=[p for p, _ in IMPORTS])
def test_import_paths_like_torch(path, names):
    theirs = importlib.import_module("torch." + path)
    ours = importlib.import_module("chainrule." + path)
    for n in names:
        assert hasattr(theirs, n), f"torch.{path}.{n} (the test's list is wrong)"
        assert hasattr(ours, n), f"chainrule.{path}.{n} is missing"


def test_profiler_times_marked_regions(tmp_path):
    with cr.profiler.profile(activities=[cr.profiler.ProfilerActivity.CPU]) as prof:  # noqa: SIM117
        with cr.profiler.record_function("outer"):
            with cr.profiler.record_function("inner"):
                (cr.ones(3) * 2).sum()
            with cr.profiler.record_function("inner"):
                pass
    rows = {r["name"]: r for r in prof.key_averages()}
    assert rows["inner"]["calls"] == 2 and rows["outer"]["calls"] == 1
    assert rows["outer"]["total"] >= rows["inner"]["total"] > 0
    assert rows["outer"]["self"] == rows["outer"]["total"] - rows["inner"]["total"]
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=5)
    assert "outer" in table and "# of Calls" in table
    prof.export_chrome_trace(str(tmp_path / "trace.json"))
    with open(tmp_path / "trace.json") as f:
        events = json.load(f)["traceEvents"]
    assert sorted(e["name"] for e in events) == ["inner", "inner", "outer"]
    with cr.profiler.record_function("outside"):  # no profile open: nothing recorded
        pass
    assert len(prof.events()) == 3

"""The training examples run end to end and reach their stated results.

They need the `examples` extra (scikit-learn, matplotlib, tqdm); without it these tests skip.
"""
import importlib.util
import os
import sys

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")
pytest.importorskip("tqdm")
pytest.importorskip("threadpoolctl")

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "examples")


def _run(name, tmp_path, *args):
    if EXAMPLES not in sys.path:  # as when run as a script: the examples' shared helpers
        sys.path.insert(0, EXAMPLES)
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main([*args, "--out", str(tmp_path)])
    assert os.path.getsize(result["png"]) > 10_000  # a real figure was written
    with open(result["png"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    return result


def test_mlp_reaches_97_percent(tmp_path):
    # Its time (seconds on this machine, issue 5 asks < 30 s) is reported by the script and
    # measured by benchmarks/d1_digits_epoch.py: no timing is asserted in a test.
    r = _run("train_digits_mlp", tmp_path)
    assert r["test_acc"] >= 0.97
    assert os.path.exists(tmp_path / "digits_mlp.pt")


def test_mlp_quick(tmp_path):
    r = _run("train_digits_mlp", tmp_path, "--quick", "--seed", "1")
    assert r["test_acc"] >= 0.93
    assert len(r["history"]["test_acc"]) == 6


def test_cnn_reaches_98_percent(tmp_path):
    r = _run("train_digits_cnn", tmp_path)
    assert r["test_acc"] >= 0.98


def test_cnn_epochs_flag(tmp_path):
    r = _run("train_digits_cnn", tmp_path, "--epochs", "2")
    assert len(r["history"]["test_acc"]) == 2
    assert r["test_acc"] >= 0.8


def test_finetune_keeps_frozen_trunk_unchanged(tmp_path):
    r = _run("finetune_frozen", tmp_path, "--quick")
    assert r["frozen_unchanged"] and r["no_trunk_grads"] and r["head_changed"]
    assert r["pretrain_acc"] >= 0.95
    assert r["finetune_acc"] >= 0.7  # chance is 0.2: the frozen features transfer


def test_lstm_beats_baselines(tmp_path):
    r = _run("sequence_lstm", tmp_path, "--quick")
    # 4 epochs: well below the repeat-last-value baseline (about 0.047) and predicting 0 (0.5)
    assert r["test_mse"] < 0.03 < r["persistence_mse"]
    assert r["history"]["test"][-1] < r["history"]["test"][0]

"""read_run, TensorBoard export, evaluation, data loading, the console script."""
import glob
import os
import subprocess
import sys

import pytest
import torch

import gps_ssl
from conftest import MAIN_CONFIG


def test_read_run(tiny_run):
    run = gps_ssl.read_run(tiny_run)
    assert run.config["method"]["name"] == "simclr" and run.config["optim"]["batch_size"] == 64
    assert run.config["model"]["width"] == 4 and run.config["gps"] is True
    assert run.summary["steps"] == 4 and not run.summary["interrupted"]
    assert 0 < run.eval["linear_top1"] <= 100 and run.eval["test_images"] == 500
    steps, losses = run.series("loss")
    assert len(steps) >= 1 and all(l > 0 for l in losses)
    assert run.env is not None and "gps" in run.command
    assert [os.path.basename(c) for c in run.checkpoints] == ["checkpoint.pt"]  # one epoch: the final one only
    with pytest.raises(FileNotFoundError, match="not a gps run directory"):
        gps_ssl.read_run(tiny_run.parent)


def test_read_run_names_a_damaged_summary(tmp_path, tiny_run):
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "config.yaml").write_text((tiny_run / "config.yaml").read_text())
    (damaged / "summary.json").write_text('{"steps": ')
    with pytest.raises(gps_ssl.Error, match="summary.json: not valid JSON"):
        gps_ssl.read_run(damaged)
    (damaged / "summary.json").unlink()
    assert gps_ssl.read_run(damaged).summary is None  # a run still going


def test_read_run_skips_a_cut_last_line(tmp_path, tiny_run):
    text = (tiny_run / "metrics.jsonl").read_text()
    cut = tmp_path / "metrics.jsonl"
    cut.write_text(text + '{"step": 99, "lo')
    assert gps_ssl.runs.read_metrics(cut) == gps_ssl.runs.read_metrics(tiny_run / "metrics.jsonl")
    cut.write_text('{"bad\n' + text)
    with pytest.raises(ValueError, match="metrics.jsonl:1"):
        gps_ssl.runs.read_metrics(cut)


def test_tensorboard_export(tiny_run, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    r = subprocess.run([sys.executable, "-m", "gps_ssl.tensorboard", str(tiny_run), "--logdir", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert glob.glob(str(tmp_path / "events.out.tfevents.*"))
    acc = EventAccumulator(str(tmp_path))
    acc.Reload()
    tags = acc.Tags()["scalars"]
    assert "train/loss" in tags and "eval/linear_top1" in tags
    loss = [e.value for e in acc.Scalars("train/loss")]
    _, expect = gps_ssl.read_run(tiny_run).series("loss")
    assert loss == pytest.approx(expect, rel=1e-6)
    bad = subprocess.run([sys.executable, "-m", "gps_ssl.tensorboard", str(tmp_path)], capture_output=True, text=True)
    assert bad.returncode != 0 and "not a gps run directory" in bad.stderr


def test_evaluate_separable_features():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(200) % 4
    x = torch.nn.functional.one_hot(y, 4).float() * 3 + 0.1 * torch.randn(200, 4, generator=g)
    r = gps_ssl.evaluate(x[:150], y[:150], x[150:], y[150:], linear_epochs=30, linear_lr=0.1)
    assert r["linear_top1"] == 100.0 and r["knn_top1"] == 100.0 and r["feature_dim"] == 4
    with pytest.raises(gps_ssl.Error, match="test_x"):
        gps_ssl.evaluate(x[:150], y[:150], x[150:, :3], y[150:])
    with pytest.raises(gps_ssl.Error, match="eval.knn_k"):
        gps_ssl.evaluate(x[:150], y[:150], x[150:], y[150:], knn_k=0)


def test_load_dataset_matches_the_config(fmnist512):
    assert fmnist512.images.shape == (512, 1, 28, 28) and fmnist512.images.dtype == torch.uint8
    assert fmnist512.labels.shape == (512,) and fmnist512.num_classes == 10
    counts = torch.bincount(fmnist512.labels, minlength=10)
    assert counts.sum() == 512 and int(counts.min()) >= 51 and int(counts.max()) <= 52  # stratified
    test = gps_ssl.load_dataset("fashion-mnist", "test", config=MAIN_CONFIG)
    assert len(test) == 10000
    with pytest.raises(gps_ssl.Error, match="data.name"):
        gps_ssl.load_dataset("imagenet-22k")
    with pytest.raises(gps_ssl.Error, match="nowhere"):
        gps_ssl.load_dataset("fashion-mnist", root="/nowhere")


def test_console_script_runs_the_cli(tmp_path):
    from conftest import gps_bin
    r = subprocess.run([sys.executable, "-c", "import gps_ssl.cli; gps_ssl.cli.main()", "--version"],
                       capture_output=True, text=True)
    # In the build tree there is no gps_ssl/bin: the script says where it looked.
    installed = os.path.exists(os.path.join(os.path.dirname(gps_ssl.__file__), "bin", "gps"))
    if installed:
        assert r.returncode == 0 and "gps" in r.stdout
    else:
        assert r.returncode != 0 and "bin/gps" in r.stderr
    assert gps_bin()

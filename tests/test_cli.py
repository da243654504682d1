"""python -m nnplay: the commands, their --json objects and their one-line errors."""
import json
import subprocess
import sys

import pytest

from nnplay.cli import main

from test_build import SEED_MODELS


def write_spec(tmp_path, spec, name="spec.json"):
    path = tmp_path / name
    path.write_text(json.dumps(spec))
    return str(path)


def last_json(capsys):
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_summary_json_matches_seed_model(tmp_path, capsys):
    expected, model = SEED_MODELS["housing regressor 13-10-10-1"]
    assert main(["summary", write_spec(tmp_path, {"model": model}), "--json"]) == 0
    out = last_json(capsys)
    assert out["total_params"] == out["trainable_params"] == expected
    assert [r["params"] for r in out["layers"]] == [140, 110, 11]
    assert set(out["layers"][0]) == {"name", "type", "output_shape", "params"}


def test_summary_text_ends_with_total(tmp_path, capsys):
    assert main(["summary", write_spec(tmp_path, {})]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "Total params: 25"


def test_train_json(tmp_path, capsys):
    spec = write_spec(tmp_path, {"train": {"epochs": 400}})
    assert main(["train", spec, "--epochs", "30", "--json", "--save", str(tmp_path / "run")]) == 0
    out = last_json(capsys)
    assert out["epochs"] == 30 and out["stopped"] == "completed"
    assert set(out["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(out["history"]["val_loss"]) == 30
    assert out["final"]["val_accuracy"] == out["history"]["val_accuracy"][-1]
    assert (tmp_path / "run" / "model.keras").stat().st_size > 0
    assert json.loads((tmp_path / "run" / "spec.json").read_text())["train"]["epochs"] == 30


def test_train_reports_early_stopping(tmp_path, capsys):
    spec = write_spec(tmp_path, {
        "data": {"dataset": "gauss", "noise": 0.5, "samples": 200},
        "model": {"layers": [{"type": "Dense", "units": 64, "activation": "relu"}] * 2},
        "train": {"optimizer": "adam", "learning_rate": 0.05, "epochs": 400,
                  "early_stopping": {"patience": 5}}})
    assert main(["train", spec, "--json"]) == 0
    out = last_json(capsys)
    assert out["stopped"] == "early_stopping" and out["epochs"] < 400


@pytest.mark.parametrize("spec, reason", [
    ({"model": {"layers": [{"type": "Conv2D"}]}}, "layer 1 (Conv2D): Conv2D needs an image"),
    ({"data": {"dataset": "mnist-typo"}}, "mnist-typo"),
    ({"train": {"optimizer": "adamw"}}, "train.optimizer"),
    ({"trian": {}}, "unknown section"),
])
def test_bad_spec_exits_nonzero_with_one_line(tmp_path, capsys, spec, reason):
    assert main(["summary", write_spec(tmp_path, spec)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and reason in err


def test_missing_and_broken_files(tmp_path, capsys):
    assert main(["train", str(tmp_path / "nope.json")]) == 2
    assert "no spec file" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text("{\"data\": ")
    assert main(["summary", str(broken)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_datasets_json_lists_offline_sets(capsys):
    assert main(["datasets", "--json"]) == 0
    rows = {r["name"]: r for r in last_json(capsys)["datasets"]}
    assert rows["circle"]["offline"] and rows["digits"]["offline"] and rows["sunspots"]["offline"]
    assert rows["mnist"]["needs_download"]


def test_module_entry_point(tmp_path):
    spec = write_spec(tmp_path, {})
    run = subprocess.run([sys.executable, "-m", "nnplay", "summary", spec, "--json"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0
    assert json.loads(run.stdout.strip().splitlines()[-1])["total_params"] == 25

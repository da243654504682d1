"""`python -m nnplay bench`: paired windows for the page-polling figure; interleaved
engine/fit pairs, reported as the median ratio and its spread."""
import pytest

from nnplay.bench import interleaved, run_bench
from nnplay.tools.page_bench import paired_rates


def test_paired_rates_divide_each_kind_of_window_by_its_own_time():
    clock = {"t": 0.0, "epoch": 0}

    def read():
        return clock["t"], clock["epoch"]

    def advance(rate):
        def occupy(seconds):
            clock["t"] += seconds
            clock["epoch"] += int(rate * seconds)
        return occupy

    watched, unwatched = paired_rates(read, advance(80), advance(100), rounds=3, window=2.0)
    assert (watched, unwatched) == (80.0, 100.0)


def test_interleaved_pairs_take_turns_and_report_the_median_ratio_and_its_spread():
    calls = []
    # the machine slows down as it goes: each pair shares its moment's speed
    engine_s, fit_s = iter([1.0, 2.0, 4.0, 1.0, 8.0]), iter([2.0, 4.0, 8.0, 1.0, 8.0])

    def engine(n):
        calls.append(("engine", n))
        return next(engine_s)

    def fit(n):
        calls.append(("fit", n))
        return next(fit_s)

    out = interleaved(engine, fit, pairs=5, epochs=3, per_epoch=100)
    assert calls == [("engine", 3), ("fit", 3)] * 5
    # ratios per pair: 2, 2, 2, 1, 1
    assert out["ratio"] == 2.0 and (out["ratio_min"], out["ratio_max"]) == (1.0, 2.0)
    assert out["ratio_iqr"] == [1.0, 2.0] and out["pairs"] == 5
    assert out["nnplay"] == 150 and out["fit"] == 75      # 300 samples a turn: median rates


def test_bench_reports_the_mlp_and_the_cnn_as_interleaved_pairs(monkeypatch):
    from nnplay import bench
    turns = []

    def side(name, seconds):
        def make(exp, data):
            turns.append((name, data.x_train.shape[1:], len(data.x_train)))
            return lambda n: seconds * n
        return make

    monkeypatch.setattr(bench, "_engine_turn", side("engine", 1.0))
    monkeypatch.setattr(bench, "_fit_turn", side("fit", 2.0))
    out = run_bench(verbose=False, pairs=3, mlp_samples=256, cnn_epochs=2, toy=False,
                    browser=False)
    assert set(out) == {"mlp", "cnn"}
    assert [t[:2] for t in turns] == [("engine", (784,)), ("fit", (784,)),
                                      ("engine", (8, 8, 1)), ("fit", (8, 8, 1))]
    assert turns[0][2] == 256 and turns[2][2] > 800           # MNIST-sized rows; digits, half of them
    assert out["mlp"] == {"nnplay": 256, "fit": 128, "ratio": 2.0, "ratio_min": 2.0,
                          "ratio_max": 2.0, "ratio_iqr": [2.0, 2.0], "pairs": 3}
    assert out["cnn"]["ratio"] == 2.0 and out["cnn"]["pairs"] == 3


def test_the_engine_and_fit_turns_train_the_same_model_for_real():
    from nnplay.bench import _mlp_case
    case = _mlp_case(64, 1)
    assert case["pairs"] == 1 and case["nnplay"] > 0 and case["fit"] > 0
    assert case["ratio_min"] == case["ratio"] == case["ratio_max"]


def test_bench_refuses_a_bad_size_with_a_message(capsys):
    from nnplay.cli import main
    with pytest.raises(SystemExit):
        main(["bench", "--pairs", "0"])
    assert "not a whole number of at least 1" in capsys.readouterr().err

"""Figure builders: the traces a student sees."""
import numpy as np
import pytest

from nnplay import plots


def test_learning_curves_train_solid_validation_dashed():
    fig = plots.learning_curves({"loss": [3, 2, 1], "val_loss": [3, 2.5, 2.4]}, best_epoch=3)
    train, val = fig.data[:2]
    assert (train.name, train.line.dash, val.name, val.line.dash) == ("train", "solid", "validation", "dash")
    assert list(val.y) == [3, 2.5, 2.4]
    assert fig.layout.title.text == "loss · best epoch 3" and fig.layout.shapes[0].x0 == 3


def test_smoothing_is_tensorboards_debiased_ema():
    assert plots.smooth([1, 1, 1], 0.9) == pytest.approx([1, 1, 1])
    assert plots.smooth([0, 10], 0.5)[1] == pytest.approx(10 * 0.5 / 0.75)
    assert list(plots.smooth([1, 2], 0)) == [1, 2]


def test_runs_overlay_one_colour_per_run_and_best_markers():
    runs = [{"name": "a", "history": {"loss": [2, 1], "val_loss": [2, 1.5]}, "best_epoch": 2},
            {"name": "b", "history": {"loss": [2, 1.2], "val_loss": [2.2, 1.9]}, "best_epoch": 1}]
    fig = plots.runs_overlay(runs)
    lines = [t for t in fig.data if t.mode == "lines"]
    assert len(lines) == 4 and lines[0].line.color == lines[1].line.color != lines[2].line.color
    stars = [t for t in fig.data if t.mode == "markers"]
    assert [(s.x[0], s.y[0]) for s in stars] == [(2, 1.5), (1, 2.2)]


def test_generalization_gap_is_validation_minus_training():
    fig = plots.generalization_gap([{"name": "a", "history": {"loss": [1, 0.5], "val_loss": [1.5, 1.5]}}])
    assert list(fig.data[0].y) == [0.5, 1.0]


def test_decision_boundary_draws_grid_under_points():
    raw = np.array([[0, 0], [1, 1]], dtype=float)
    fig = plots.data_scatter(raw, np.array([0, 1]), raw, np.array([1, 0]), "binary",
                             grid=np.zeros((100, 100)))
    assert [t.type for t in fig.data] == ["heatmap", "scatter", "scatter"]
    assert [t.name for t in fig.data[1:]] == ["train", "validation"]


def test_decision_boundary_sends_the_grid_as_256_levels():
    """The live boundary is sent four times a second: as uint8 levels it is an eighth of the
    bytes, with probability 0 -> 0, 0.5 -> the middle colour, 1 -> 255."""
    raw = np.array([[0, 0], [1, 1]], dtype=float)
    grid = np.tile(np.linspace(0, 1, 100), (100, 1))
    fig = plots.data_scatter(raw, np.array([0, 1]), raw, np.array([1, 0]), "binary", grid=grid)
    z = np.asarray(fig.data[0].z)
    assert z.dtype == np.uint8 and (fig.data[0].zmin, fig.data[0].zmax) == (0, 255)
    assert (z[0, 0], z[0, -1]) == (0, 255) and abs(int(z[0, 50]) - 128) <= 2
    classes = plots.data_scatter(raw, np.array([0, 1]), raw, np.array([1, 2]), "multiclass",
                                 grid=np.full((100, 100), 7.0))
    assert set(np.asarray(classes.data[0].z).ravel()) == {7} and classes.data[0].zmax == 9


def test_runs_charts_share_legend_margins_and_epoch_axis():
    runs = [{"name": "a", "history": {"loss": [2, 1, 0.5], "val_loss": [2, 1.5, 1.4]}},
            {"name": "b", "history": {"loss": [2, 1.2], "val_loss": [2.2, 1.9]}}]
    overlay, gap = plots.runs_overlay(runs), plots.generalization_gap(runs)
    assert [t.name for t in overlay.data if t.showlegend is not False] == ["a", "b"]
    assert [t.name for t in gap.data if t.name] == ["a", "b"]
    for part in ("margin", "legend"):
        assert overlay.layout[part] == gap.layout[part]
    assert list(overlay.layout.xaxis.range) == list(gap.layout.xaxis.range) == [1, 3]

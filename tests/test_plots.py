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


def _picture(uri: str) -> np.ndarray:
    import base64
    import io

    from PIL import Image
    assert uri.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def test_a_live_boundary_is_a_picture_coloured_as_the_heatmap_would_be():
    """The Train page's boundary: the grid as an image under the points, its top row the
    grid's last (the highest x2), each level in the heatmap's colour, the classes in theirs."""
    raw = np.array([[0, 0], [1, 1]], dtype=float)
    grid = np.tile(np.linspace(0, 1, 100), (100, 1))   # x1 from orange (0) to blue (1)
    grid[-1] = 0.5                                      # the top row: the middle colour
    fig = plots.data_scatter(raw, np.array([0, 1]), raw, np.array([1, 0]), "binary", grid=grid,
                             bounds=(-3.0, 3.0), picture=True)
    assert [t.type for t in fig.data] == ["scatter", "scatter"]   # the points only
    image = fig.layout.images[0]
    assert (image.x, image.y, image.sizex, image.sizey) == (-3.0, 3.0, 6.0, 6.0)
    assert (image.xref, image.yref, image.layer, image.sizing) == ("x", "y", "below", "stretch")
    pixels = _picture(image.source)
    assert pixels.shape == (100, 100, 3)
    assert tuple(pixels[-1, 0]) == (0xf9, 0xc9, 0x9a) and tuple(pixels[-1, -1]) == (0x9f, 0xc6, 0xe6)
    assert tuple(pixels[0, 0]) == tuple(pixels[0, -1]) == (0xf2, 0xf3, 0xf4)   # the middle
    classes = plots.data_scatter(raw, np.array([0, 1]), raw, np.array([1, 2]), "multiclass",
                                 grid=np.full((100, 100), 2.0), picture=True)
    assert {tuple(p) for p in _picture(classes.layout.images[0].source).reshape(-1, 3)} == {
        tuple(int(plots.PALETTE[2][i:i + 2], 16) for i in (1, 3, 5))}
    assert classes.layout.images[0].opacity == 0.75


def test_a_live_boundary_frame_repaints_only_the_picture_and_title():
    raw = np.array([[0, 0], [1, 1]], dtype=float)
    fig = plots.data_scatter(raw, np.array([0, 1]), raw, np.array([1, 0]), "binary",
                             grid=np.zeros((100, 100)), title="after epoch 1", picture=True)
    points = [(t.x.tolist(), t.y.tolist()) for t in fig.data]
    same = plots.redraw_grid(fig, np.ones((100, 100)), "binary", "after epoch 9")
    assert same is fig and fig.layout.title.text == "after epoch 9"
    assert {tuple(p) for p in _picture(fig.layout.images[0].source).reshape(-1, 3)} == {
        (0x9f, 0xc6, 0xe6)}
    assert [(t.x.tolist(), t.y.tolist()) for t in fig.data] == points
    fresh = plots.data_scatter(raw, np.array([0, 1]), raw, np.array([1, 0]), "binary",
                               grid=np.ones((100, 100)), title="after epoch 9", picture=True)
    assert fig.to_json() == fresh.to_json()   # the same frame as a figure drawn anew


def test_the_boundary_keeps_the_ranges_it_is_given():
    """Both axes give up width or height, not range, to stay square: plotly.js would
    otherwise widen the x2 range and write it back, and each frame's given range (the data's
    bounds) would then read as a change that redraws every point."""
    raw = np.array([[0, 0], [1, 1]], dtype=float)
    fig = plots.data_scatter(raw, np.array([0, 1]), raw, np.array([1, 0]), "binary")
    assert fig.layout.xaxis.constrain == fig.layout.yaxis.constrain == "domain"


@pytest.mark.parametrize("metrics", [["loss"], ["loss", "accuracy"]])
def test_a_live_learning_curves_frame_equals_a_figure_drawn_anew(metrics):
    rng = np.random.default_rng(0)
    full = {k: list(rng.random(3000)) for k in ("loss", "val_loss", "accuracy", "val_accuracy")}
    fig, layout = None, None
    for epochs, best in [(9, 3), (10, 3), (200, 150), (3000, 2999)]:
        history = {k: v[:epochs] for k, v in full.items()}
        fresh = plots.learning_curves(history, metrics, best_epoch=best)
        if layout != plots.curves_layout(history, metrics, best):
            fig, layout = fresh, plots.curves_layout(history, metrics, best)
        else:
            assert plots.refresh_curves(fig, history, metrics, best).to_json() == fresh.to_json()
    assert layout == plots.curves_layout(full, metrics, 2999)   # refreshed from 9 epochs on
    assert len(fig.data[0].x) < 3000 and fig.data[0].x[-1] == 3000


def test_runs_charts_share_legend_margins_and_epoch_axis():
    runs = [{"name": "a", "history": {"loss": [2, 1, 0.5], "val_loss": [2, 1.5, 1.4]}},
            {"name": "b", "history": {"loss": [2, 1.2], "val_loss": [2.2, 1.9]}}]
    overlay, gap = plots.runs_overlay(runs), plots.generalization_gap(runs)
    assert [t.name for t in overlay.data if t.showlegend is not False] == ["a", "b"]
    assert [t.name for t in gap.data if t.name] == ["a", "b"]
    for part in ("margin", "legend"):
        assert overlay.layout[part] == gap.layout[part]
    assert list(overlay.layout.xaxis.range) == list(gap.layout.xaxis.range) == [1, 3]


# ---- figures a student reads -------------------------------------------------------------------

def test_confusion_figure_colours_every_mistake_and_writes_counts():
    m = np.array([[990, 10, 0], [0, 50, 0], [1, 0, 99]])
    fig = plots.confusion_figure(m, ["a", "b", "c"])
    mistakes, right = fig.data
    z = np.array(mistakes.z, dtype=float)
    assert np.isnan(z[0, 2]) and np.isnan(z[1, 1])        # no example, and the diagonal
    assert z[0, 1] == pytest.approx(0.01) and z[2, 0] == pytest.approx(0.01)
    # the smallest mistake still gets the scale's first colour, which is clearly not white
    assert mistakes.zmin == 0 and mistakes.colorscale[0][1] != "#ffffff"
    assert mistakes.zmax == pytest.approx(0.01)
    texts = set(np.concatenate([np.ravel(mistakes.text), np.ravel(right.text)]))
    assert texts == {"990", "10", "50", "1", "99", ""}      # an empty cell says nothing


def test_per_class_accuracy_is_one_colour_with_the_worst_class_marked():
    colors = plots.per_class_accuracy_figure(np.array([0.9, 0.5, 0.95]), ["a", "b", "c"]).data[0].marker.color
    assert colors[0] == colors[2] != colors[1]
    same = plots.per_class_accuracy_figure(np.array([1.0, 1.0]), ["a", "b"]).data[0].marker.color
    assert len(set(same)) == 1


def test_weight_histogram_counts_have_whole_number_ticks():
    small = plots.weight_histogram({"counts": [1, 0, 2], "edges": [0, 1, 2, 3]})
    assert small.layout.yaxis.dtick == 1 and small.layout.yaxis.tickformat == ",d"
    big = plots.weight_histogram({"counts": [100, 40], "edges": [0, 1, 2]})
    assert big.layout.yaxis.tickformat == ",d"


def test_image_grid_labels_are_readable_and_pictures_square():
    fig = plots.image_grid(np.zeros((3, 8, 8, 1)), ["true 3<br>→ predicted 5"] * 3, columns=2)
    assert all(a.font.size >= 12 for a in fig.layout.annotations)
    for axis in ("yaxis", "yaxis2", "yaxis3"):
        assert fig.layout[axis].scaleratio == 1 and fig.layout[axis].constrain == "domain"
    assert fig.layout.yaxis2.scaleanchor == "x2"


def test_learning_curves_of_two_metrics_share_one_figure_and_one_legend():
    history = {"loss": [0.7, 0.5, 0.4], "val_loss": [0.7, 0.6, 0.6],
               "accuracy": [0.5, 0.7, 0.8], "val_accuracy": [0.5, 0.6, 0.6]}
    fig = plots.learning_curves(history, ["loss", "accuracy"], best_epoch=2)
    assert [(t.name, t.yaxis, t.showlegend) for t in fig.data] == [
        ("train", "y", True), ("validation", "y", True),
        ("train", "y2", False), ("validation", "y2", False)]
    assert list(fig.data[3].y) == [0.5, 0.6, 0.6]
    assert [s.xref for s in fig.layout.shapes] == ["x", "x2"] and fig.layout.shapes[1].x0 == 2
    assert fig.layout.title.text == "Learning curves · best epoch 2"
    assert [a.text for a in fig.layout.annotations] == ["<b>loss</b>", "<b>accuracy</b>"]

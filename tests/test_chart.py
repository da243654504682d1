"""The pages' charts (nnplay.ui.chart): what a frame sends and where plotly.js comes from."""
import asyncio
import gzip
import json

import numpy as np
import plotly
import plotly.io as pio
import pytest
from starlette.requests import Request

from nnplay import plots
from nnplay.ui import chart


def figures():
    rng = np.random.default_rng(0)
    raw, y = rng.normal(size=(400, 2)), rng.integers(0, 2, 400)
    history = {k: list(rng.random(300)) for k in ("loss", "val_loss", "accuracy", "val_accuracy")}
    return [
        plots.learning_curves(history, ["loss", "accuracy"], best_epoch=20),
        plots.data_scatter(raw[:300], y[:300], raw[300:], y[300:], "binary",
                           grid=rng.random((100, 100)), title="boundary"),
        plots.data_scatter(raw[:300], rng.integers(0, 3, 300), raw[300:], rng.integers(0, 3, 100),
                           "multiclass", grid=rng.integers(0, 3, (100, 100)), title="three classes"),
        plots.image_grid(rng.random((8, 8, 8)), [str(i) for i in range(8)]),
    ]


@pytest.mark.parametrize("fig", figures(), ids=["curves", "boundary", "multiclass", "images"])
def test_a_frame_is_the_figure_plotly_py_would_send_without_its_template(fig):
    """figure_json reads plotly's own data and layout (no deep copy): it must keep giving
    what the public to_plotly_json gives, arrays base64-packed the same way."""
    public = fig.to_plotly_json()
    public["layout"].pop("template")
    sent = json.loads(chart.figure_json(fig))
    assert sent == json.loads(pio.json.to_json_plotly(public))
    assert "template" not in sent["layout"] and "bdata" in json.dumps(sent["data"])


def test_a_chart_keeps_the_students_zoom_by_its_key_unless_its_figure_says_how():
    curves, boundary, _, grid = figures()
    assert json.loads(chart.figure_json(grid, uirevision="augment_grid"))["layout"]["uirevision"] \
        == "augment_grid"
    assert json.loads(chart.figure_json(boundary, uirevision="boundary_chart"))["layout"][
        "uirevision"] == "boundary"   # data_scatter's own
    assert "uirevision" not in json.loads(chart.figure_json(grid))["layout"]


def serve(path: str, accept_encoding: str):
    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"",
             "headers": [(b"accept-encoding", accept_encoding.encode())]}
    route = next(r for r in chart.routes() if r.matches(scope)[0].name == "FULL")
    return asyncio.run(route.endpoint(Request(scope)))


@pytest.mark.parametrize("path", ["/_nnplay/plotly.min.js", "/class/room/_nnplay/plotly.min.js"])
def test_the_app_serves_the_plotly_package_s_own_plotly_js(path):
    """Offline: the copy in the plotly package, compressed for browsers that take gzip, kept a
    year (the page asks for it with the plotly version in the URL); also below a baseUrlPath."""
    packed = serve(path, "gzip, deflate, br")
    assert packed.headers["content-encoding"] == "gzip"
    assert "immutable" in packed.headers["cache-control"]
    assert gzip.decompress(packed.body) == chart.PLOTLY_JS.read_bytes()
    plain = serve(path, "identity")
    assert "content-encoding" not in plain.headers and plain.path == chart.PLOTLY_JS
    assert f"_nnplay/plotly.min.js?v={plotly.__version__}" in chart._JS

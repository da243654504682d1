"""Every Plotly chart of the pages (but the Ask page's clickable plane, which needs
st.plotly_chart's selection events), drawn by one small Streamlit component.

`st.plotly_chart` identifies a chart by its whole figure, so each frame of a live fragment
(the Train page's curves and boundary, Inspect, Compare and Race while a run trains) is a new
element: the browser drops the chart and draws it from scratch, ~0.3 s of a student's CPU a
frame, and 16 browsers could not keep up with a class server. This component
(`st.components.v2`) is identified by its key alone: its <div> stays, and each frame calls
`Plotly.react` on it with the new figure. plotly.js is the copy that ships in the `plotly`
package, served by this app (`routes`), so a class needs no internet; every chart of a page
shares it, so a browser loads and compiles one Plotly (0.8 s of CPU), not this one and
Streamlit's too.
"""
from __future__ import annotations

import functools
import gzip
from pathlib import Path

import plotly
import plotly.io as pio
import streamlit as st
from _plotly_utils.utils import is_homogeneous_array, is_skipped_key, to_typed_array_spec

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
_JS = (Path(__file__).with_name("chart.js").read_text()
       .replace("__PLOTLY_VERSION__", plotly.__version__))

_component = st.components.v2.component(
    "nnplay_chart", html='<div class="nnplay-chart"></div><div class="nnplay-chart-message"></div>',
    css=".nnplay-chart-message { font-size: 0.875rem; opacity: 0.7; }", js=_JS,
    isolate_styles=False)   # Plotly's own stylesheet (hover labels, modebar) is global


def _app_paths(tail: str) -> tuple[str, str]:
    """The paths of one of the app's own routes, "_nnplay/<tail>": behind a baseUrlPath a page
    asks below that path, since the JS names the route relative to the page."""
    return f"/_nnplay/{tail}", f"/{{base:path}}/_nnplay/{tail}"


@functools.cache
def plotly_js_gzipped() -> bytes:
    """plotly.js compressed once (1.5 MB of 4.8), as the server starts (app.py), not per
    request: compressing holds the server's event loop ~0.2 s."""
    return gzip.compress(PLOTLY_JS.read_bytes(), compresslevel=6)


def routes() -> list:
    """The app's route for plotly.js: `st.App(..., routes=chart.routes())`. The URL carries
    the plotly version, so a browser may keep the file for a year."""
    from starlette.responses import FileResponse, Response
    from starlette.routing import Route

    headers = {"Cache-Control": "public, max-age=31536000, immutable", "Vary": "Accept-Encoding"}

    async def plotly_js(request):
        if "gzip" in request.headers.get("accept-encoding", ""):
            return Response(plotly_js_gzipped(), media_type="text/javascript",
                            headers={**headers, "Content-Encoding": "gzip"})
        return FileResponse(PLOTLY_JS, media_type="text/javascript", headers=headers)
    return [Route(path, plotly_js, methods=["GET"]) for path in _app_paths("plotly.min.js")]


def figure_json(fig, uirevision: str | None = None) -> str:
    """The figure as plotly.js reads it (arrays base64-packed), without plotly.py's default
    template: the browser styles the chart as Streamlit does, and each frame is 5 KB, not 11.
    Read from the figure's own data and layout: the public `to_plotly_json()` deep-copies
    them first, which on a class server (16 pages' frames, training threads holding the GIL)
    made serializing the frames most of the server's page work."""
    layout = {name: value for name, value in fig._layout.items() if name != "template"}
    if uirevision is not None:   # a student's zoom or hidden traces outlive the next frame
        layout.setdefault("uirevision", uirevision)
    return pio.json.to_json_plotly({"data": _packed(fig._data), "layout": _packed(layout)})


def _packed(value):
    """A copy of a figure's data or layout as `Figure.to_dict` gives it (containers copied,
    numeric arrays base64-packed, with plotly's own rules), without copying the arrays first."""
    if isinstance(value, dict):
        return {key: item if is_skipped_key(key)
                else to_typed_array_spec(item) if is_homogeneous_array(item) else _packed(item)
                for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_packed(item) for item in value]
    return value


def preload():
    """Have the browser load plotly.js as a page opens, while the student reads it, rather
    than when the first chart is drawn: a student who leaves the Data page before its chart
    is drawn would otherwise compile plotly.js (0.8 s of CPU) after pressing Train, and a
    class pressing Train together all at once. An empty element, in the sidebar."""
    _component(key="nnplay_plotly_preload", data={}, width="stretch", height="content")


def chart(fig, key: str | None = None, report_drawn: str | None = None):
    """Draw `fig`, as wide as its column (or as its own width, if it sets one). A keyed chart
    redrawn by a live fragment is updated in place: the first frame makes it, later frames
    change it, keeping the student's zoom (`uirevision`: the figure's own, else the key).
    `report_drawn`: a path of this app (relative, as "_nnplay/…") the browser POSTs to once it
    has drawn this figure, once per path and page (an app's route: see `drawn_route`)."""
    data = {"figure": figure_json(fig, uirevision=key)}
    if report_drawn is not None:
        data["report"] = report_drawn
    _component(key=key, data=data, width="stretch", height="content")


def drawn_route(name: str, on_drawn) -> list:
    """The app's routes for charts' `report_drawn` paths "_nnplay/<name>/<id>": a POST calls
    `on_drawn(id)` (ids of letters, digits, - and _ only), answered with an empty 204 whatever
    the id (a page learns nothing from it)."""
    import re

    from starlette.responses import Response
    from starlette.routing import Route

    valid = re.compile(r"[A-Za-z0-9_-]{1,64}")

    async def drawn(request):
        ident = request.path_params["ident"]
        if valid.fullmatch(ident):
            on_drawn(ident)
        return Response(status_code=204)
    return [Route(path, drawn, methods=["POST"]) for path in _app_paths(f"{name}/{{ident}}")]

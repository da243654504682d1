"""Plotly figure builders: plain data in, go.Figure out. No Streamlit here.

Colours follow TensorFlow Playground: orange for class 0 / negative, blue for class 1 /
positive, a diverging orange-white-blue scale for the decision boundary.
"""
from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go

ORANGE, BLUE = "#f59322", "#0877bd"
# Curves use their own colours: blue and orange mean the two classes on the data plots.
TRAIN_COLOR, VALIDATION_COLOR = "#333333", "#8e44ad"
BOUNDARY_SCALE = [[0.0, ORANGE], [0.5, "#e8eaeb"], [1.0, BLUE]]
# The background is paler than the points (as in TensorFlow Playground), so points of a
# class stay visible on their own side of the boundary.
BACKGROUND_SCALE = [[0.0, "#f9c99a"], [0.5, "#f2f3f4"], [1.0, "#9fc6e6"]]
PALETTE = ["#0877bd", "#f59322", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]
# No template: the pages' charts (nnplay.ui.chart) style the figures as Streamlit's, and
# building a template costs ~20 ms per figure, which matters at four redraws a second.
# Under the plot, out of the title's way; charts that stack use it so their axes line up.
LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.18, xanchor="left", x=0.0)
_LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10),
               legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0))


def _figure(title: str, **layout) -> go.Figure:
    """An empty figure; the layout is passed as plain dicts, the fast way to build one."""
    return go.Figure(layout={"title": {"text": title, "x": 0.0, "font": {"size": 15}},
                             **_LAYOUT, **layout})


def main_metric(history: dict) -> str | None:
    """The metric worth a second chart next to the loss: accuracy, else mae, else None."""
    for name in ("accuracy", "mae", "mse", "auc"):
        if name in history:
            return name
    return None


def learning_curves(history: dict, metric="loss", *, best_epoch: int = 0,
                    title: str | None = None, log_y: bool = False) -> go.Figure:
    """Train (solid) and validation (dashed) values per epoch of `metric`, or of a list of
    metrics side by side in one figure; the best epoch as a dotted line and in the title, the
    legend under the charts. One figure rather than one per metric: the Train page redraws it
    four times a second, and the browser's cost is mostly per figure."""
    metrics = [metric] if isinstance(metric, str) else list(metric)
    label = _curves_title(history, metrics, best_epoch, title)
    has_best = bool(best_epoch) and any(history.get("val_" + m) for m in metrics)
    epochs = max((len(v) for v in history.values() if v), default=0)
    gap = 0.1
    width = (1 - gap * (len(metrics) - 1)) / len(metrics)
    axes, shapes, names = {}, [], []
    for i, name in enumerate(metrics):
        n = "" if i == 0 else str(i + 1)
        left = i * (width + gap)
        axes["xaxis" + n] = dict(domain=[left, left + width], anchor="y" + n, title="epoch",
                                 tickformat=",d", **({"dtick": 1} if epochs < 8 else {}))
        axes["yaxis" + n] = dict(anchor="x" + n, type="log" if log_y else "linear")
        if has_best and history.get("val_" + name):  # shapes as dicts: add_vline is slow
            shapes.append(dict(type="line", x0=best_epoch, x1=best_epoch, xref="x" + n,
                               y0=0, y1=1, yref=f"y{n} domain",
                               line=dict(color="#888", dash="dot", width=1)))
        if len(metrics) > 1:
            names.append(dict(text=f"<b>{name.replace('_', ' ')}</b>", x=left, xref="paper",
                              xanchor="left", y=1.0, yref="paper", yanchor="bottom",
                              showarrow=False, font=dict(size=13)))
    fig = _figure(label, height=340 if len(metrics) == 1 else 360, hovermode="x unified",
                  legend={**LEGEND_BELOW, "y": -0.24}, uirevision="|".join(metrics), shapes=shapes,
                  annotations=names, **axes,
                  **({"margin": dict(l=10, r=10, t=70, b=10)} if len(metrics) > 1 else {}))
    for i, name in enumerate(metrics):
        n = "" if i == 0 else str(i + 1)
        for prefix, dash, kind in (("", "solid", "train"), ("val_", "dash", "validation")):
            values = history.get(prefix + name)
            if values:
                keep = _thin(len(values))  # a few hundred pixels wide: no need for 10,000 points
                fig.add_scatter(x=keep + 1, y=np.asarray(values)[keep], name=kind,
                                xaxis="x" + n, yaxis="y" + n, legendgroup=kind, showlegend=i == 0,
                                mode="lines" if len(values) > 1 else "markers",
                                line=dict(color=VALIDATION_COLOR if prefix else TRAIN_COLOR,
                                          dash=dash, width=2))
    return fig


def _curves_title(history: dict, metrics: list, best_epoch: int, title: str | None) -> str:
    label = title or (metrics[0].replace("_", " ") if len(metrics) == 1 else "Learning curves")
    if best_epoch and any(history.get("val_" + m) for m in metrics):
        label += f" · best epoch {best_epoch:,}"
    return label


def curves_layout(history: dict, metrics: list, best_epoch: int) -> tuple:
    """What decides the shape of learning_curves' figure beyond its numbers: the traces
    drawn, the best-epoch lines, a tick per epoch below 8 epochs. While it stays the same,
    refresh_curves gives the next frame of a live chart."""
    epochs = max((len(v) for v in history.values() if v), default=0)
    traces = tuple(bool(history.get(prefix + m)) for m in metrics for prefix in ("", "val_"))
    has_best = bool(best_epoch) and any(history.get("val_" + m) for m in metrics)
    return tuple(metrics), traces, has_best, epochs < 8, epochs > 1


def refresh_curves(fig: go.Figure, history: dict, metrics: list, best_epoch: int) -> go.Figure:
    """The next frame of a live learning_curves figure whose curves_layout is unchanged: new
    points, title and best-epoch lines, in place (a third of the time of a new figure, four
    times a second on every page of a class)."""
    for trace in fig.data:
        metric = metrics[int(trace.xaxis[1:] or 1) - 1]
        values = history["val_" + metric if trace.name == "validation" else metric]
        keep = _thin(len(values))
        trace.x, trace.y = keep + 1, np.asarray(values)[keep]
    fig.layout.title.text = _curves_title(history, metrics, best_epoch, None)
    for shape in fig.layout.shapes:
        shape.x0 = shape.x1 = best_epoch
    return fig


def _points(fig: go.Figure, raw: np.ndarray, y: np.ndarray, task: str, name: str, symbol: str):
    if raw is None or len(raw) == 0:
        return
    if task == "regression":
        color = dict(color=y, colorscale=BOUNDARY_SCALE, cmin=-1, cmax=1)
    elif task == "binary":
        color = dict(color=np.where(np.asarray(y) == 1, BLUE, ORANGE))
    else:
        color = dict(color=np.asarray(PALETTE)[np.asarray(y, dtype=int) % len(PALETTE)])
    fig.add_scatter(x=raw[:, 0], y=raw[:, 1], mode="markers", name=name,
                    marker=dict(size=7 if symbol == "circle" else 8, symbol=symbol,
                                line=dict(color="white" if symbol == "circle" else "black", width=1),
                                **color),
                    hovertemplate="x1 %{x:.2f}<br>x2 %{y:.2f}<extra>" + name + "</extra>")


def data_scatter(raw_train, y_train, raw_val, y_val, task: str, *, grid=None,
                 bounds=(-6.0, 6.0), title: str = "", picture: bool = False) -> go.Figure:
    """2-D points coloured by class (train: filled circles, validation: outlined diamonds),
    over the model's decision grid when one is given: a heatmap, or with `picture` an image
    under the axes (`grid_picture`). A live boundary is a picture: its next frame changes only
    that image, which the browser swaps in ~6 ms, where a new heatmap has Plotly redraw every
    point (~40 ms a frame, on each of a class's laptops). A plane the student clicks (the Ask
    page) is a heatmap: Plotly reports clicks on traces, not on an image."""
    fig = _figure(title, height=440, xaxis=dict(range=list(bounds), title="x1", constrain="domain"),
                  yaxis=dict(range=list(bounds), title="x2", scaleanchor="x", scaleratio=1,
                             constrain="domain"),
                  uirevision="boundary", legend=LEGEND_BELOW)
    if grid is not None and picture:
        low, high = bounds
        fig.layout.images = [dict(source=grid_picture(grid, task), xref="x", yref="y", x=low,
                                  y=high, sizex=high - low, sizey=high - low, sizing="stretch",
                                  layer="below", opacity=_grid_opacity(task))]
    elif grid is not None:
        axis = np.linspace(bounds[0], bounds[1], grid.shape[0])
        if task == "multiclass":  # class indices
            scale, zmin, zmax = [[i / 9, PALETTE[i]] for i in range(10)], 0, 9
        else:
            scale, zmin, zmax = BACKGROUND_SCALE, 0, 255
        fig.add_heatmap(x=axis, y=axis, z=_grid_z(grid, task), colorscale=scale, zmin=zmin, zmax=zmax,
                        opacity=_grid_opacity(task), showscale=False,
                        hoverinfo="skip")
    _points(fig, raw_train, y_train, task, "train", "circle")
    _points(fig, raw_val, y_val, task, "validation", "diamond")
    return fig


BOUNDARY_RANGE = {"binary": (0.0, 1.0), "regression": (-1.0, 1.0)}


def _grid_opacity(task: str) -> float:
    """The class colours are softened under the points; a probability scale is already pale."""
    return 0.75 if task == "multiclass" else 1.0


def _grid_z(grid, task: str) -> np.ndarray:
    """The heatmap's values: class indices (exact in uint8), else 256 levels of the output."""
    if task == "multiclass":
        return np.asarray(grid).astype(np.uint8)
    return _levels(grid, *BOUNDARY_RANGE[task])


def _rgb(color: str) -> list[int]:
    return [int(color[i:i + 2], 16) for i in (1, 3, 5)]


def _scale_colors(scale) -> np.ndarray:
    """The colour of each of 256 levels on a Plotly colour scale, interpolated in RGB as
    plotly.js does (256 x 3, uint8)."""
    stops = [at for at, _ in scale]
    rgb = np.array([_rgb(color) for _, color in scale], dtype=float)
    levels = np.linspace(0.0, 1.0, 256)
    return np.round(np.stack([np.interp(levels, stops, rgb[:, c]) for c in range(3)],
                             axis=1)).astype(np.uint8)


_LEVEL_COLORS = _scale_colors(BACKGROUND_SCALE)
_CLASS_COLORS = np.array([_rgb(color) for color in PALETTE], dtype=np.uint8)


def grid_picture(grid, task: str) -> str:
    """The decision grid as a PNG data URI, coloured as the heatmap would be (its top row is
    the grid's last, the highest x2): 100 x 100 pixels, ~7 KB, the browser smoothing it."""
    z = _grid_z(grid, task)[::-1]
    colors = _CLASS_COLORS[z % len(PALETTE)] if task == "multiclass" else _LEVEL_COLORS[z]
    png = io.BytesIO()
    from PIL import Image   # Pillow: a Streamlit dependency, pinned
    Image.fromarray(np.ascontiguousarray(colors), "RGB").save(png, "PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(png.getvalue()).decode("ascii")


def redraw_grid(fig: go.Figure, grid, task: str, title: str) -> go.Figure:
    """The next frame of a live boundary drawn by data_scatter with a picture: only the
    picture and the title change, in place. Rebuilding the figure from its points costs about
    ten times more (20 ms against 2), and a class's pages redraw it several times a second."""
    fig.layout.images[0].source = grid_picture(grid, task)
    fig.layout.title.text = title
    return fig


def _levels(values, lo: float, hi: float) -> np.ndarray:
    """Values in [lo, hi] as 256 levels (uint8): finer than the eye tells apart on a colour
    scale, and an eighth of the bytes of float64 for a grid sent four times a second."""
    scaled = (np.clip(np.asarray(values, dtype=np.float32), lo, hi) - lo) / (hi - lo)
    return np.round(scaled * 255).astype(np.uint8)


def series_plot(values: np.ndarray, title: str = "", split_at: list | None = None, *,
                x=None, x_title: str = "step", y_title: str = "") -> go.Figure:
    """A line plot of a sequence against `x` (years, dates; default step numbers), with
    vertical lines at the (x, label) pairs of `split_at` where validation and test begin."""
    x = np.arange(len(values)) if x is None else np.asarray(x)
    fig = _figure(title, height=300, xaxis_title=x_title, yaxis_title=y_title, showlegend=False,
                  hovermode="x")
    hover = "%{x|%d %b %Y}" if np.issubdtype(x.dtype, np.datetime64) else f"{x_title} %{{x}}"
    fig.add_scatter(x=x, y=values, mode="lines", line=dict(color=BLUE, width=1.5),
                    hovertemplate=hover + ": %{y:.4g}<extra></extra>")
    _split_lines(fig, split_at)
    return fig


def _split_lines(fig: go.Figure, split_at) -> None:
    """Dotted vertical lines, labelled, at the (x, label) pairs where later splits begin."""
    for at, label in split_at or []:
        # a shape and a note rather than add_vline, whose note fails on date axes
        fig.add_shape(type="line", x0=at, x1=at, y0=0, y1=1, yref="paper",
                      line=dict(color="#888", dash="dot"))
        fig.add_annotation(x=at, y=1, yref="paper", text=label, showarrow=False,
                           xanchor="left", yanchor="top")


def forecast_figure(times, actual: np.ndarray, predicted: np.ndarray, split_at=None, *,
                    x_title: str = "step", y_title: str = "",
                    title: str = "Actual and forecast over time") -> go.Figure:
    """A series' actual values and the model's one-step-ahead forecasts against time, with
    the validation and test parts marked: where the orange line leaves the blue one is where
    the model stops following the series."""
    times = np.asarray(times)
    fig = _figure(title, height=340, xaxis_title=x_title, yaxis_title=y_title, hovermode="x",
                  legend=dict(orientation="h", y=-0.25))
    when = "%{x|%d %b %Y}" if np.issubdtype(times.dtype, np.datetime64) else f"{x_title} %{{x}}"
    fig.add_scatter(x=times, y=actual, mode="lines", name="actual", line=dict(color=BLUE, width=1.5),
                    hovertemplate=when + "<br>actual %{y:.4g}<extra></extra>")
    fig.add_scatter(x=times, y=predicted, mode="lines", name="forecast (one step ahead)",
                    line=dict(color=ORANGE, width=1.5),
                    hovertemplate=when + "<br>forecast %{y:.4g}<extra></extra>")
    _split_lines(fig, split_at)
    return fig


def image_grid(images: np.ndarray, labels: list[str], columns: int = 8,
               title: str = "", tile_px: int = 110) -> go.Figure:
    """Small images in a grid, each square (1:1 pixels) with its label above it in a readable
    font (13 px); a label may have two lines ("true 3<br>predicted 5")."""
    from plotly.subplots import make_subplots
    n = len(images)
    columns = max(1, min(columns, n)) if n else columns
    rows = max(1, int(np.ceil(n / columns)))
    lines = max([str(label).count("<br>") + 1 for label in labels[:n]] or [1])
    label_px = 18 * lines
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=labels[:n],
                        horizontal_spacing=0.02,
                        vertical_spacing=min(0.3, label_px / (rows * (tile_px + label_px))) if rows > 1 else 0.0)
    for i, img in enumerate(images):
        img = np.asarray(img, dtype=np.float32)
        r, c = divmod(i, columns)
        if img.shape[-1] == 3:
            lo, hi = float(img.min()), float(img.max())
            rgb = ((img - lo) / (hi - lo + 1e-9) * 255).astype(np.uint8)
            fig.add_trace(go.Image(z=rgb, hoverinfo="skip"), row=r + 1, col=c + 1)
        else:
            fig.add_trace(go.Heatmap(z=img[::-1, :, 0] if img.ndim == 3 else img[::-1],
                                     colorscale="gray_r", showscale=False, hoverinfo="skip"),
                          row=r + 1, col=c + 1)
    for i in range(n):   # each picture square, shrunk into its cell rather than stretched
        axis = "" if i == 0 else str(i + 1)
        fig.layout[f"yaxis{axis}"].update(scaleanchor=f"x{axis}", scaleratio=1, constrain="domain")
        fig.layout[f"xaxis{axis}"].update(constrain="domain")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    top = label_px + (30 if title else 6)
    fig.update_layout(**{**_LAYOUT, "margin": dict(l=10, r=10, t=top, b=6)},
                      height=(tile_px + label_px) * rows + top - label_px + 6,
                      title=dict(text=title, x=0.0, font=dict(size=15)), showlegend=False)
    fig.update_annotations(font_size=13)
    return fig


# ---- data page and model page -------------------------------------------------------------

SPLIT_COLORS = {"train": BLUE, "validation": ORANGE, "test": "#7f7f7f"}


def class_balance(labels: dict, class_names, title: str = "Examples per class") -> go.Figure:
    """Grouped bars: how many examples of each class each split holds.

    `labels` maps a split name ("train", "validation", "test") to its int class labels."""
    names = [str(c) for c in class_names]
    fig = _figure(title, height=300, barmode="group", xaxis_title="class",
                  yaxis_title="examples")
    for split, y in labels.items():
        if len(y) == 0:
            continue
        counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=len(names))[:len(names)]
        fig.add_bar(x=names, y=counts, name=split, marker_color=SPLIT_COLORS.get(split, BLUE))
    fig.update_xaxes(type="category")
    return fig


def value_histogram(values: dict, title: str = "", xaxis_title: str = "value") -> go.Figure:
    """Histograms of a number per split, stacked so the bars show the whole distribution
    (a regression target, review lengths)."""
    fig = _figure(title, height=300, barmode="stack", xaxis_title=xaxis_title,
                  yaxis_title="examples")
    present = [np.asarray(v) for v in values.values() if len(v)]
    lo, hi = (min(v.min() for v in present), max(v.max() for v in present)) if present else (0, 1)
    bins = dict(start=float(lo), end=float(hi) + 1e-9, size=(float(hi - lo) or 1.0) / 30)
    for split, v in values.items():
        if len(v) == 0:
            continue
        fig.add_histogram(x=np.asarray(v), name=split, xbins=bins,
                          marker_color=SPLIT_COLORS.get(split, BLUE))
    return fig


GROUP_COLORS = {"input": "#e8eaeb", "core": "#d6e9f8", "convolution": "#fde3c4",
                "recurrent": "#dcefd9", "regularization": "#ece0f5", "output": "#fff4c2"}


def _dot_text(text) -> str:
    return str(text).replace("\\", "\\\\").replace('"', '\\"')


def stack_dot(boxes: list[dict]) -> str:
    """A Graphviz DOT diagram of a layer stack, top to bottom, for st.graphviz_chart.

    Each box: {"title", "shape", "group"} and optionally "params" (int), "problem" (bool:
    drawn with a red border) and "dashed" (bool: a layer added for you, like the auto head).
    """
    lines = ['digraph stack {', '  rankdir=TB; nodesep=0.2; ranksep=0.25; bgcolor="transparent";',
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, '
             'width=2.6, penwidth=1, color="#9aa0a6"];',
             '  edge [color="#9aa0a6", arrowsize=0.6];']
    for i, box in enumerate(boxes):
        label = [_dot_text(box["title"]), _dot_text(box.get("shape", ""))]
        if box.get("params"):
            label.append(f"{box['params']:,} params")
        style = "rounded,filled,dashed" if box.get("dashed") else "rounded,filled"
        border = ', color="#d62728", penwidth=2' if box.get("problem") else ""
        fill = GROUP_COLORS.get(box.get("group", "core"), "#ffffff")
        text = "\\n".join(label)  # DOT's own line break inside a label
        lines.append(f'  n{i} [label="{text}", fillcolor="{fill}", style="{style}"{border}];')
        if i:
            lines.append(f"  n{i - 1} -> n{i};")
    lines.append("}")
    return "\n".join(lines)


# ---- Inspect page: weights, gradients, filters, the network, evaluation -----------------------

WEIGHT_SCALE = BOUNDARY_SCALE   # orange negative, white zero, blue positive
DENSITY_SCALE = [[0.0, "#ffffff"], [0.15, "#c6dbef"], [1.0, BLUE]]
WRONG = "#d62728"
MAX_LINE_POINTS = 1500


def weight_histogram(histogram: dict, title: str = "", color: str = BLUE,
                     subtitle: str = "") -> go.Figure:
    """Bars of one weight_stats histogram ({"counts", "edges"}); `subtitle` in a readable 12 px
    line under the title."""
    fig = _figure(title, height=250 if subtitle else 230, bargap=0.02, showlegend=False,
                  xaxis_title="value", yaxis_title="how many weights")
    if subtitle:
        fig.update_layout(title_subtitle=dict(text=subtitle, font=dict(size=12)),
                          margin=dict(_LAYOUT["margin"], t=62))
    edges = np.asarray(histogram.get("edges") or [], dtype=float)
    top = max(histogram.get("counts") or [0])
    # counts are whole numbers: never a tick at 0.5 (small counts get a tick every 1, 2, ...)
    fig.update_yaxes(tickformat=",d", rangemode="tozero",
                     **({"dtick": max(1, int(np.ceil(top / 5)))} if top <= 10 else {}))
    if len(edges) > 1:
        fig.add_bar(x=(edges[:-1] + edges[1:]) / 2, y=histogram["counts"], width=np.diff(edges),
                    marker_color=color,
                    hovertemplate="%{x:.3g}: %{y}<extra></extra>")
    return fig


def _mix(a: str, b: str, t: float) -> str:
    """The colour a fraction t of the way from hex colour a to hex colour b, as rgb()."""
    ca = np.array([int(a[i:i + 2], 16) for i in (1, 3, 5)])
    cb = np.array([int(b[i:i + 2], 16) for i in (1, 3, 5)])
    r, g, b_ = (ca + (cb - ca) * t).astype(int)
    return f"rgb({r},{g},{b_})"


def weight_distribution_over_time(epochs: np.ndarray, edges: np.ndarray, counts: np.ndarray,
                                  title: str = "") -> go.Figure:
    """TensorBoard's histogram dashboard ("offset" mode): one ridge per snapshot, evenly spaced
    going down (labelled with their epochs), the newest in front and darkest, every ridge on
    the same value range."""
    fig = _figure(title, height=280, xaxis_title="value", yaxis_title="epoch", showlegend=False)
    k = len(epochs)
    if not k:
        return fig
    centers = (edges[:-1] + edges[1:]) / 2
    x = np.concatenate([[edges[0]], centers, [edges[-1]]])
    ridge = 2.5 if k > 1 else 1.0       # a ridge's full height, in rows
    peak = float(counts.max()) or 1.0
    for i, (epoch, row) in enumerate(zip(epochs, counts)):   # oldest first: drawn behind
        t = i / (k - 1) if k > 1 else 1.0
        y = np.concatenate([[i], i - row / peak * ridge, [i]])
        fig.add_scatter(x=x, y=y, mode="lines", fill="toself", fillcolor=_mix("#deebf7", "#6baed6", t),
                        line=dict(color=_mix("#9ecae1", "#08519c", t), width=1),
                        customdata=np.concatenate([[0], row, [0]]),
                        hovertemplate=f"epoch {int(epoch)}<br>value %{{x:.3g}}: "
                                      "%{customdata:.1f} weights<extra></extra>")
    ticks = np.unique(np.linspace(0, k - 1, min(k, 6)).astype(int))
    fig.update_yaxes(range=[k - 1 + 0.3, -ridge - 0.2], tickvals=ticks,
                     ticktext=[str(int(epochs[i])) for i in ticks], showgrid=False)
    return fig


def kernel_heatmap(matrix: np.ndarray, title: str = "", *, row_labels=None, col_labels=None,
                   x_title: str = "unit", y_title: str = "input") -> go.Figure:
    """A weight matrix (inputs x units) in orange (negative) / blue (positive), 0 white."""
    matrix = np.asarray(matrix, dtype=float)
    rows, cols = matrix.shape
    limit = float(np.abs(matrix).max()) or 1.0
    fig = _figure(title, height=int(min(620, max(240, 16 * rows + 90))),
                  xaxis_title=x_title, yaxis_title=y_title)
    fig.add_heatmap(z=matrix, x=col_labels or list(range(1, cols + 1)),
                    y=row_labels or list(range(1, rows + 1)), colorscale=WEIGHT_SCALE,
                    zmin=-limit, zmax=limit, colorbar=dict(thickness=10),
                    hovertemplate=f"{y_title} %{{y}}, {x_title} %{{x}}: %{{z:.3f}}<extra></extra>")
    fig.update_yaxes(autorange="reversed", type="category" if row_labels else None,
                     dtick=None if row_labels else max(1, rows // 16))
    fig.update_xaxes(type="category" if col_labels else None,
                     dtick=None if col_labels else max(1, cols // 16))
    return fig


def tile_maps(maps: np.ndarray, labels: list[str], *, columns: int = 8, title: str = "",
              colorscale="gray", symmetric: bool = False, tile_px: int = 100) -> go.Figure:
    """Small square heatmaps in a grid: filters (symmetric: orange/white/blue around 0, each
    tile scaled to its own largest magnitude) or feature maps. `maps` is (n, h, w) or
    (n, h, w, 3) for colour; row 0 of a map is its top."""
    from plotly.subplots import make_subplots
    maps = np.asarray(maps, dtype=float)
    n = len(maps)
    columns = max(1, min(columns, n))
    rows = max(1, int(np.ceil(n / columns)))
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=list(labels[:n]),
                        horizontal_spacing=0.02, vertical_spacing=0.12 / rows + 0.04)
    for i, tile in enumerate(maps):
        r, c = divmod(i, columns)
        if tile.ndim == 3:  # colour: stretch to 0..255 (weights: 0 in the middle)
            lo, hi = (-np.abs(tile).max(), np.abs(tile).max()) if symmetric else (tile.min(), tile.max())
            rgb = ((tile - lo) / (hi - lo + 1e-9) * 255).astype(np.uint8)
            fig.add_trace(go.Image(z=rgb, hoverinfo="skip"), row=r + 1, col=c + 1)
            continue
        extra = {}
        if symmetric:
            limit = float(np.abs(tile).max()) or 1.0
            extra = dict(zmin=-limit, zmax=limit)
        fig.add_trace(go.Heatmap(z=tile[::-1], colorscale=WEIGHT_SCALE if symmetric else colorscale,
                                 showscale=False, hovertemplate="%{z:.3f}<extra></extra>", **extra),
                      row=r + 1, col=c + 1)
    for i in range(n):
        axis = "" if i == 0 else str(i + 1)
        fig.layout[f"yaxis{axis}"].update(scaleanchor=f"x{axis}", scaleratio=1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(**{**_LAYOUT, "margin": dict(l=10, r=10, t=60 if title else 30, b=10)},
                      height=tile_px * rows + (60 if title else 30), showlegend=False,
                      title=dict(text=title, x=0.0, font=dict(size=15)))
    fig.update_annotations(font_size=12)
    return fig


def _thin(n: int) -> np.ndarray:
    """Indices of at most MAX_LINE_POINTS evenly spread rows, the last one kept."""
    if n <= MAX_LINE_POINTS:
        return np.arange(n)
    return np.unique(np.append(np.linspace(0, n - 1, MAX_LINE_POINTS).astype(int), n - 1))


def gradient_norms(norms: np.ndarray, names: list[str], title: str = "Gradient norm per epoch"
                   ) -> go.Figure:
    """One line per variable (epoch on x, the epoch's mean gradient norm on a log y axis)."""
    norms = np.asarray(norms, dtype=float)
    fig = _figure(title, height=380, xaxis_title="epoch", yaxis_title="‖gradient‖",
                  hovermode="x unified", uirevision="gradients")
    rows = _thin(len(norms))
    for j, name in enumerate(names):
        values = norms[rows, j] if len(norms) else []
        values = np.where(np.asarray(values) > 0, values, np.nan)
        fig.add_scatter(x=rows + 1, y=values, mode="lines", name=name,
                        line=dict(color=PALETTE[j % len(PALETTE)], width=2,
                                  dash="dot" if name.endswith("bias") else "solid"),
                        hovertemplate="%{y:.3g}")
    positive = norms[norms > 0]
    few_decades = positive.size and np.log10(positive.max() / positive.min()) < 3
    fig.update_yaxes(type="log", exponentformat="power", dtick="D2" if few_decades else None)
    fig.update_layout(legend=dict(orientation="v", yanchor="top", y=1.0, xanchor="left", x=1.01))
    return fig


# -- the network view: TensorFlow Playground's columns of neurons --

_NEURON, _ROW_GAP, _COL_GAP = 1.0, 1.35, 3.2


def _neuron_png(values: np.ndarray, zero_to_one: bool):
    """A small RGB picture of one neuron's output over the input square (top row first)."""
    from PIL import Image
    values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    if zero_to_one:
        t = np.clip(values, 0.0, 1.0)
    else:
        limit = float(np.abs(values).max()) or 1.0
        t = 0.5 + values / (2 * limit)
    stops = np.array([[0xf5, 0x93, 0x22], [0xe8, 0xea, 0xeb], [0x08, 0x77, 0xbd]], dtype=float)
    low = np.clip(t * 2, 0, 1)[..., None]
    high = np.clip(t * 2 - 1, 0, 1)[..., None]
    rgb = np.where(t[..., None] < 0.5, stops[0] + (stops[1] - stops[0]) * low,
                   stops[1] + (stops[2] - stops[1]) * high)
    return Image.fromarray(rgb[::-1].astype(np.uint8), "RGB")


def _neuron_y(i: int, n: int) -> float:
    return ((n - 1) / 2 - i) * _ROW_GAP


def _edge_traces(fig: go.Figure, view: dict):
    """Edges coloured by sign and as thick as |weight| relative to the layer's largest (so the
    first layer stays readable next to a big output weight), grouped into a few traces so the
    figure stays light; an invisible marker on each edge says its weight on hover."""
    groups, hover_x, hover_y, hover_text = {}, [], [], []
    columns = view["columns"]
    for c, w in enumerate(view["weights"]):
        finite = np.abs(w[np.isfinite(w)])
        biggest = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        src, dst = columns[c], columns[c + 1]
        x0, x1 = c * _COL_GAP + _NEURON / 2, (c + 1) * _COL_GAP - _NEURON / 2
        n_src, n_dst = len(src["maps"]), len(dst["maps"])
        for i in range(min(n_src, w.shape[0])):
            for j in range(min(n_dst, w.shape[1])):
                value = float(w[i, j])
                if not np.isfinite(value):   # a diverged model: no edge to draw
                    continue
                y0, y1 = _neuron_y(i, n_src), _neuron_y(j, n_dst)
                key = (value >= 0, min(3, int(abs(value) / biggest * 4)))
                xs, ys = groups.setdefault(key, ([], []))
                xs += [x0, x1, None]
                ys += [y0, y1, None]
                hover_x.append(x0 + (x1 - x0) * 0.3)
                hover_y.append(y0 + (y1 - y0) * 0.3)
                hover_text.append(f"{src['labels'][i]} → {dst['labels'][j]}<br>weight {value:.3f}")
    for (positive, level), (xs, ys) in sorted(groups.items()):
        fig.add_scatter(x=xs, y=ys, mode="lines", hoverinfo="skip", showlegend=False,
                        line=dict(color=BLUE if positive else ORANGE, width=0.6 + 1.5 * level),
                        opacity=0.35 + 0.2 * level)
    fig.add_scatter(x=hover_x, y=hover_y, mode="markers", text=hover_text, showlegend=False,
                    marker=dict(size=8, opacity=0), hovertemplate="%{text}<extra></extra>")


def network_figure(view: dict, title: str = "") -> go.Figure:
    """TensorFlow Playground's network drawing from inspect.network_view(): a column per layer
    (inputs first), each neuron a small picture of its output over the input square (orange
    negative, blue positive), edges coloured by the weight's sign and sized by its size."""
    columns = view["columns"]
    tallest = max(len(col["maps"]) for col in columns)
    half = (tallest - 1) / 2 * _ROW_GAP + _NEURON / 2
    span_x = [-_NEURON / 2 - 1.4, (len(columns) - 1) * _COL_GAP + _NEURON / 2 + 1.0]
    span_y = [-half - 0.6, half + 1.3]
    # Neurons stay square (scaleanchor); size the height for a ~1000 px wide chart, neurons
    # at most 80 px, so a deep network is not left floating in empty space.
    unit_px = min(80.0, 1000.0 / (span_x[1] - span_x[0]))
    top = 50 if title else 10
    fig = _figure(title, height=int((span_y[1] - span_y[0]) * unit_px) + top + 10,
                  showlegend=False, margin=dict(l=10, r=10, t=top, b=10), plot_bgcolor="white")
    _edge_traces(fig, view)
    centers_x, centers_y, centers_text = [], [], []
    for c, col in enumerate(columns):
        x = c * _COL_GAP
        n = len(col["maps"])
        zero_to_one = col["activation"] in ("sigmoid", "softmax")
        for i, values in enumerate(col["maps"]):
            y = _neuron_y(i, n)
            fig.add_layout_image(source=_neuron_png(values, zero_to_one), xref="x", yref="y",
                                 x=x - _NEURON / 2, y=y + _NEURON / 2, sizex=_NEURON,
                                 sizey=_NEURON, sizing="stretch", layer="above")
            centers_x.append(x)
            centers_y.append(y)
            centers_text.append(f"{col['labels'][i]}<br>output {values.min():.2f} … "
                                f"{values.max():.2f}")
        heading = "Input" if c == 0 else col["name"]
        detail = f"{col['units']} feature{'s' * (col['units'] != 1)}" if c == 0 else \
            f"{col['units']} neuron{'s' * (col['units'] != 1)}, {col['activation']}"
        fig.add_annotation(x=x, y=half + 0.15, text=f"<b>{heading}</b><br>{detail}",
                           showarrow=False, yanchor="bottom", font=dict(size=12))
        if col["units"] > n:
            fig.add_annotation(x=x, y=-half - 0.1, text=f"+{col['units'] - n} more",
                               showarrow=False, yanchor="top", font=dict(size=11, color="#666"))
        if c == 0:
            for i, label in enumerate(col["labels"]):
                fig.add_annotation(x=x - _NEURON / 2 - 0.1, y=_neuron_y(i, n), text=label,
                                   showarrow=False, xanchor="right", font=dict(size=12))
    fig.add_scatter(x=centers_x, y=centers_y, mode="markers", text=centers_text,
                    marker=dict(size=30, symbol="square", opacity=0),
                    hovertemplate="%{text}<extra></extra>")
    fig.update_xaxes(visible=False, range=span_x, fixedrange=True, constrain="domain")
    fig.update_yaxes(visible=False, range=span_y, fixedrange=True, constrain="domain",
                     scaleanchor="x", scaleratio=1)
    return fig


# -- evaluation --

MISTAKE_SCALE = [[0.0, "#fcd3c4"], [1.0, "#c0392b"]]   # the faintest mistake is still pink
CORRECT_SCALE = [[0.0, "#deebf7"], [1.0, BLUE]]
ONE_COLOR = "#607d8b"     # per-class bars: one neutral colour (blue/orange mean classes)


def confusion_figure(matrix: np.ndarray, class_names, title: str = "Confusion matrix") -> go.Figure:
    """Rows: true class, columns: predicted class; every cell says its count. Colour is the
    share of the row (so a rare class's mistakes show as plainly as a common one's): blue on
    the diagonal (right), red off it (mistakes), where even one mistake in a large class is a
    clear pink and cells with no examples stay blank."""
    matrix = np.asarray(matrix)
    n = len(matrix)
    names = [str(c) for c in class_names][:n] if class_names is not None and len(class_names) >= n \
        else [str(i) for i in range(n)]
    totals = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, totals, out=np.zeros(matrix.shape, float), where=totals > 0)
    diagonal = np.eye(n, dtype=bool)
    size = int(min(600, max(340, 42 * n + 150)))
    fig = _figure(title, height=size, xaxis_title="predicted class", yaxis_title="true class")
    custom = np.dstack([matrix, np.broadcast_to(totals, matrix.shape)])
    hover = ("true %{y}, predicted %{x}: %{customdata[0]} of %{customdata[1]} examples "
             "(%{z:.0%} of the row)<extra></extra>")
    mistakes = np.where(~diagonal & (matrix > 0), share, np.nan)
    worst = float(np.nanmax(mistakes)) if np.isfinite(mistakes).any() else 1.0
    right = np.where(diagonal & (totals > 0), share, np.nan)
    text_font = {"size": 14 if n <= 10 else 11}     # colour: Plotly picks one that reads on the cell
    for z, scale, zmax, name in ((mistakes, MISTAKE_SCALE, max(worst, 1e-9), "mistakes"),
                                 (right, CORRECT_SCALE, 1, "right")):
        text = np.where(np.isnan(z), "", matrix.astype(str))
        fig.add_heatmap(z=z, x=names, y=names, customdata=custom, text=text,
                        texttemplate="%{text}", textfont=text_font, colorscale=scale, zmin=0,
                        zmax=zmax, showscale=False, hovertemplate=hover, hoverongaps=False,
                        name=name)
    fig.update_xaxes(type="category", side="bottom", constrain="domain", showgrid=False,
                     categoryorder="array", categoryarray=names)
    fig.update_yaxes(type="category", autorange="reversed", scaleanchor="x", scaleratio=1,
                     constrain="domain", constraintoward="top", showgrid=False,
                     categoryorder="array", categoryarray=names)
    return fig


def per_class_accuracy_figure(accuracy: np.ndarray, class_names, counts=None,
                              title: str = "Accuracy per class") -> go.Figure:
    """A bar per class with its share of correct predictions (recall), all in one colour,
    the worst class in red (when the classes differ) so the eye goes to it."""
    accuracy = np.asarray(accuracy, dtype=float)
    names = [str(c) for c in class_names][:len(accuracy)]
    if len(names) < len(accuracy):
        names = [str(i) for i in range(len(accuracy))]
    hover = "%{x}: %{y:.1%}" + (" of %{customdata} examples" if counts is not None else "")
    fig = _figure(title, height=300, yaxis=dict(range=[0, 1.1], tickformat=".0%"),
                  xaxis_title="true class", showlegend=False)
    colors = [ONE_COLOR] * len(accuracy)
    if len(accuracy) > 1 and accuracy.min() < accuracy.max():
        colors[int(accuracy.argmin())] = WRONG
    fig.add_bar(x=names, y=accuracy, customdata=counts, text=[f"{a:.0%}" for a in accuracy],
                textposition="outside", cliponaxis=False, marker_color=colors,
                hovertemplate=hover + "<extra></extra>")
    fig.update_xaxes(type="category")
    return fig


def misclassified_scatter(raw_val, y_val, wrong, task: str, *, grid=None, bounds=(-6.0, 6.0),
                          title: str = "") -> go.Figure:
    """Validation points over the decision boundary, the misclassified ones ringed in red."""
    fig = data_scatter(None, None, raw_val, y_val, task, grid=grid, bounds=bounds, title=title)
    wrong = np.asarray(wrong, dtype=int)
    if len(wrong):
        fig.add_scatter(x=raw_val[wrong, 0], y=raw_val[wrong, 1], mode="markers",
                        name=f"misclassified ({len(wrong)})",
                        marker=dict(size=15, symbol="circle-open", color=WRONG, line=dict(width=2.5)),
                        hovertemplate="x1 %{x:.2f}<br>x2 %{y:.2f}<extra>misclassified</extra>")
    return fig


def predicted_vs_actual(actual: np.ndarray, predicted: np.ndarray, title: str = "Predicted vs actual",
                        unit: str = "") -> go.Figure:
    """Each validation example at (actual, predicted); perfect predictions sit on the y = x line."""
    lo = float(min(np.min(actual), np.min(predicted))) if len(actual) else 0.0
    hi = float(max(np.max(actual), np.max(predicted))) if len(actual) else 1.0
    pad = (hi - lo) * 0.05 or 1.0
    span = [lo - pad, hi + pad]
    suffix = f" ({unit})" if unit else ""
    fig = _figure(title, height=400, xaxis=dict(title="actual" + suffix, range=span),
                  yaxis=dict(title="predicted" + suffix, range=span, scaleanchor="x", scaleratio=1))
    fig.add_scatter(x=span, y=span, mode="lines", name="y = x (perfect)",
                    line=dict(color="#888", dash="dash", width=1), hoverinfo="skip")
    fig.add_scatter(x=actual, y=predicted, mode="markers", name="validation",
                    marker=dict(color=BLUE, size=6, opacity=0.7, line=dict(color="white", width=0.5)),
                    hovertemplate="actual %{x:.4g}<br>predicted %{y:.4g}<extra></extra>")
    return fig


def residuals_figure(predicted: np.ndarray, residual: np.ndarray, title: str = "Residuals",
                     unit: str = "") -> go.Figure:
    """Prediction error (predicted − actual) against the prediction: a band around 0 with no
    pattern is what a good fit looks like."""
    suffix = f" ({unit})" if unit else ""
    fig = _figure(title, height=400, xaxis_title="predicted" + suffix,
                  yaxis_title="predicted − actual" + suffix, showlegend=False)
    fig.add_hline(y=0, line=dict(color="#888", dash="dash", width=1))
    fig.add_scatter(x=predicted, y=residual, mode="markers",
                    marker=dict(color=ORANGE, size=6, opacity=0.7, line=dict(color="white", width=0.5)),
                    hovertemplate="predicted %{x:.4g}<br>error %{y:.4g}<extra></extra>")
    return fig


def smooth(values, weight: float) -> np.ndarray:
    """TensorBoard's exponential moving average (weight 0: raw values), debiased at the start."""
    values = np.asarray(values, dtype=float)
    if weight <= 0 or len(values) == 0:
        return values
    out, last, norm = np.empty_like(values), 0.0, 0.0
    for i, v in enumerate(values):
        last = last * weight + (1 - weight) * v
        norm = norm * weight + (1 - weight)
        out[i] = last / norm
    return out


# Charts of several runs stacked on one page: a fixed left margin and the legend under the
# plot (the same run names in the same colours), so their x axes line up epoch for epoch.
_RUNS_LAYOUT = dict(margin=dict(l=64, r=16, t=40, b=10), hovermode="x unified",
                    legend=LEGEND_BELOW, yaxis=dict(automargin=False))


def _epochs(history: dict, n: int) -> np.ndarray:
    """The epoch of each value: the history's own "epoch" list (a downsampled history skips
    epochs), else 1 to n."""
    epochs = history.get("epoch")
    return np.asarray(epochs) if epochs is not None and len(epochs) == n else np.arange(1, n + 1)


def _epoch_axis(runs: list[dict]) -> dict:
    """The x axis every runs chart shares: epochs 1 to the longest run's last."""
    longest = max((int(_epochs(run["history"], len(v))[-1]) for run in runs
                   for k, v in run["history"].items() if v and k != "epoch"), default=1)
    return dict(title="epoch", range=[1, max(longest, 2)])


def runs_overlay(runs: list[dict], metric: str = "loss", *, smoothing: float = 0.0,
                 log_y: bool = False, title: str | None = None) -> go.Figure:
    """Several runs on one chart: one colour per run, train solid, validation dashed, and a
    marker at each run's best epoch. `runs`: [{"name", "history", "best_epoch"}]. The legend
    lists each run once (its solid line); the title says which line is which."""
    fig = _figure(title or metric.replace("_", " "), height=420, uirevision=metric,
                  **{**_RUNS_LAYOUT, "xaxis": _epoch_axis(runs)})
    for i, run in enumerate(runs):
        color = PALETTE[i % len(PALETTE)]
        in_legend = True
        for prefix, dash in (("", "solid"), ("val_", "dash")):
            values = run["history"].get(prefix + metric)
            if not values:
                continue
            keep = _thin(len(values))
            fig.add_scatter(x=_epochs(run["history"], len(values))[keep],
                            y=smooth(values, smoothing)[keep],
                            mode="lines", line=dict(color=color, dash=dash, width=2),
                            name=f"{run['name']} · {'validation' if prefix else 'training'}",
                            legendgroup=run["name"], showlegend=in_legend)
            if in_legend:
                fig.data[-1].update(name=run["name"], hovertemplate="%{y:.4g} (training)")
            in_legend = False
        best = run.get("best_epoch") or 0
        val = run["history"].get("val_" + metric)
        at = np.nonzero(_epochs(run["history"], len(val or [])) == best)[0]
        if val and len(at):
            fig.add_scatter(x=[best], y=[smooth(val, smoothing)[at[0]]], mode="markers",
                            marker=dict(color=color, size=11, symbol="star"),
                            name=f"{run['name']} · best epoch {best}", legendgroup=run["name"],
                            showlegend=False)
    if log_y:
        fig.update_yaxes(type="log")
    return fig


def generalization_gap(runs: list[dict], *, smoothing: float = 0.0) -> go.Figure:
    """Validation loss minus training loss per epoch: growing means overfitting. Laid out
    like `runs_overlay` (same colours, margins and epoch axis), to sit under it."""
    fig = _figure("generalization gap (validation loss − training loss)", height=340,
                  **{**_RUNS_LAYOUT, "xaxis": _epoch_axis(runs)})
    for i, run in enumerate(runs):
        h = run["history"]
        if not h.get("val_loss") or not h.get("loss"):
            continue
        gap = np.asarray(h["val_loss"]) - np.asarray(h["loss"])
        keep = _thin(len(gap))
        fig.add_scatter(x=_epochs(h, len(gap))[keep], y=smooth(gap, smoothing)[keep], mode="lines",
                        name=run["name"], line=dict(color=PALETTE[i % len(PALETTE)], width=2),
                        hovertemplate="%{y:.4g}")
    fig.add_hline(y=0, line=dict(color="#999", width=1))
    return fig


# ---- ask the model ---------------------------------------------------------------------------

def class_probabilities_figure(probabilities, class_names, true_class: int | None = None,
                               title: str = "What the model says") -> go.Figure:
    """One bar per class, its probability; the predicted class in blue, the true class (when
    known) outlined in green and named below its bar."""
    probabilities = np.asarray(probabilities, dtype=float)
    names = [str(n) for n in class_names]
    predicted = int(probabilities.argmax())
    colors = [BLUE if i == predicted else "#9fb3c8" for i in range(len(names))]
    lines = ["#2ca02c" if i == true_class else "rgba(0,0,0,0)" for i in range(len(names))]
    labels = [f"<b>{n}</b><br>(true)" if i == true_class else n for i, n in enumerate(names)]
    fig = _figure(title, height=300, showlegend=False,
                  yaxis=dict(range=[0, 1.15], title="probability", tickformat=".0%"),
                  xaxis=dict(type="category"))
    fig.add_bar(x=labels, y=probabilities, marker=dict(color=colors, line=dict(color=lines, width=3)),
                text=[f"{p:.0%}" if p >= 0.005 else "" for p in probabilities], textposition="outside",
                hovertemplate="%{x}: %{y:.2%}<extra></extra>")
    return fig


def picture_figure(picture: np.ndarray, title: str = "", size_px: int = 160) -> go.Figure:
    """A small grey picture (h, w) in 0..1, shown pixel by pixel (bright = ink)."""
    fig = _figure(title, height=size_px + 50, width=size_px + 20,
                  xaxis=dict(visible=False), yaxis=dict(visible=False, autorange="reversed",
                                                        scaleanchor="x"),
                  margin=dict(l=10, r=10, t=40, b=10))
    fig.add_heatmap(z=picture, colorscale="gray", zmin=0, zmax=1, showscale=False,
                    hovertemplate="row %{y}, column %{x}: %{z:.2f}<extra></extra>")
    return fig

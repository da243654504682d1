"""Plotly figure builders: plain data in, go.Figure out. No Streamlit here.

Colours follow TensorFlow Playground: orange for class 0 / negative, blue for class 1 /
positive, a diverging orange-white-blue scale for the decision boundary.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

ORANGE, BLUE = "#f59322", "#0877bd"
BOUNDARY_SCALE = [[0.0, ORANGE], [0.5, "#e8eaeb"], [1.0, BLUE]]
PALETTE = ["#0877bd", "#f59322", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]
_LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), template="plotly_white",
               legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0))


def _figure(title: str, **layout) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=dict(text=title, x=0.0, font=dict(size=15)), **{**_LAYOUT, **layout})
    return fig


def main_metric(history: dict) -> str | None:
    """The metric worth a second chart next to the loss: accuracy, else mae, else None."""
    for name in ("accuracy", "mae", "mse", "auc"):
        if name in history:
            return name
    return None


def learning_curves(history: dict, metric: str = "loss", *, best_epoch: int = 0,
                    title: str | None = None, log_y: bool = False) -> go.Figure:
    """Train (solid) and validation (dashed) values of `metric` per epoch."""
    fig = _figure(title or metric.replace("_", " "), height=320, hovermode="x unified",
                  xaxis_title="epoch", uirevision=metric)
    for prefix, dash, label in (("", "solid", "train"), ("val_", "dash", "validation")):
        values = history.get(prefix + metric)
        if values:
            fig.add_scatter(x=np.arange(1, len(values) + 1), y=values, mode="lines", name=label,
                            line=dict(color=BLUE if not prefix else ORANGE, dash=dash, width=2))
    if best_epoch and history.get("val_" + metric):
        fig.add_vline(x=best_epoch, line=dict(color="#888", dash="dot", width=1),
                      annotation_text=f"best {best_epoch}", annotation_position="top left")
    if log_y:
        fig.update_yaxes(type="log")
    return fig


def _points(fig: go.Figure, raw: np.ndarray, y: np.ndarray, task: str, name: str, symbol: str):
    if raw is None or len(raw) == 0:
        return
    if task == "regression":
        color = dict(color=y, colorscale=BOUNDARY_SCALE, cmin=-1, cmax=1)
    elif task == "binary":
        color = dict(color=[BLUE if v == 1 else ORANGE for v in y])
    else:
        color = dict(color=[PALETTE[int(v) % len(PALETTE)] for v in y])
    fig.add_scatter(x=raw[:, 0], y=raw[:, 1], mode="markers", name=name,
                    marker=dict(size=7 if symbol == "circle" else 8, symbol=symbol,
                                line=dict(color="white" if symbol == "circle" else "black", width=1),
                                **color),
                    hovertemplate="x1 %{x:.2f}<br>x2 %{y:.2f}<extra>" + name + "</extra>")


def data_scatter(raw_train, y_train, raw_val, y_val, task: str, *, grid=None,
                 bounds=(-6.0, 6.0), title: str = "") -> go.Figure:
    """2-D points coloured by class (train: filled circles, validation: outlined diamonds),
    over the model's decision grid when one is given."""
    fig = _figure(title, height=420, xaxis=dict(range=list(bounds), title="x1", constrain="domain"),
                  yaxis=dict(range=list(bounds), title="x2", scaleanchor="x", scaleratio=1),
                  uirevision="boundary")
    if grid is not None:
        axis = np.linspace(bounds[0], bounds[1], grid.shape[0])
        if task == "multiclass":
            scale = [[i / 9, PALETTE[i]] for i in range(10)]
            zmin, zmax = 0, 9
        else:
            scale, (zmin, zmax) = BOUNDARY_SCALE, ((0, 1) if task == "binary" else (-1, 1))
        fig.add_heatmap(x=axis, y=axis, z=grid, colorscale=scale, zmin=zmin, zmax=zmax,
                        opacity=0.75 if task == "multiclass" else 1.0, showscale=False,
                        hoverinfo="skip")
    _points(fig, raw_train, y_train, task, "train", "circle")
    _points(fig, raw_val, y_val, task, "validation", "diamond")
    return fig


def series_plot(values: np.ndarray, title: str = "", split_at: list | None = None) -> go.Figure:
    """A line plot of a sequence, with vertical lines where validation and test begin."""
    fig = _figure(title, height=300, xaxis_title="step", showlegend=False)
    fig.add_scatter(y=values, mode="lines", line=dict(color=BLUE, width=1.5))
    for x, label in split_at or []:
        fig.add_vline(x=x, line=dict(color="#888", dash="dot"), annotation_text=label)
    return fig


def image_grid(images: np.ndarray, labels: list[str], columns: int = 8,
               title: str = "") -> go.Figure:
    """Small images in a grid, each with its label underneath."""
    from plotly.subplots import make_subplots
    n = len(images)
    rows = max(1, int(np.ceil(n / columns)))
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=labels[:n],
                        horizontal_spacing=0.01, vertical_spacing=0.08)
    for i, img in enumerate(images):
        img = np.asarray(img, dtype=np.float32)
        r, c = divmod(i, columns)
        if img.shape[-1] == 3:
            lo, hi = float(img.min()), float(img.max())
            rgb = ((img - lo) / (hi - lo + 1e-9) * 255).astype(np.uint8)
            fig.add_trace(go.Image(z=rgb), row=r + 1, col=c + 1)
        else:
            fig.add_trace(go.Heatmap(z=img[::-1, :, 0] if img.ndim == 3 else img[::-1],
                                     colorscale="gray_r", showscale=False, hoverinfo="skip"),
                          row=r + 1, col=c + 1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=1)
    fig.update_layout(**_LAYOUT, height=110 * rows + 40, title=title, showlegend=False)
    fig.update_annotations(font_size=11)
    return fig

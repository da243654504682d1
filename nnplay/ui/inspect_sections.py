"""Inspect's sections on what the model learned: weights (and how they moved), gradients,
filters and feature maps, and the network as TensorFlow Playground draws it."""
import numpy as np
import pandas as pd
import streamlit as st

from nnplay import inspection as nni
from nnplay import plots
from nnplay.ui.chart import chart
from nnplay.ui.inspect_view import (class_name, every_few_seconds, logits, model_of,
                                    model_outputs, valid_or)

KERNEL_MAX_ROWS = 400    # a bigger kernel is cut to its first rows for the heatmap
MAX_TILES = 32           # filters and feature maps drawn


# ---- weights ---------------------------------------------------------------------------------

def weights_section(job, snap):
    if not snap.weights:
        st.info("The weights appear here as soon as training starts.")
        return
    by_name = {entry["layer"]: entry for entry in snap.weights}
    valid_or("inspect_layer", list(by_name), next(iter(by_name)))
    layer = st.selectbox("Layer", list(by_name), key="inspect_layer",
                         format_func=lambda n: f"{n} ({by_name[n]['type']})" if n in by_name else n)
    entry = by_name[layer]
    over_time = not isinstance(job, nni.SavedRun)
    if over_time:
        st.caption(f"Epoch {snap.epoch}. Top: how the values are spread now. Below: how that "
                   f"spread moved during training, one ridge per snapshot "
                   f"({len(snap.weight_history)} so far), the newest at the bottom and darkest, "
                   "all on one value range.")
    else:
        st.caption(f"How the values are spread after epoch {snap.epoch}. A saved run keeps its "
                   "final weights only; to watch them move, train it again and look here while "
                   "it trains.")
    weights = entry["weights"]
    per_row = 2 if len(weights) in (1, 2, 4) else 3
    for start in range(0, len(weights), per_row):
        for col, w in zip(st.columns(per_row), weights[start:start + per_row]):
            with col:
                weight_charts(snap, entry, w, over_time)
    kernel_view(job, snap, entry)
    shapes_table(snap)


def weight_charts(snap, entry, w, over_time: bool):
    layer = entry["layer"]
    meaning = nni.weight_meaning(entry["type"], w["name"], w["shape"])
    chart(plots.weight_histogram(
        w["histogram"], f"{w['name']}: {meaning}",
        color=plots.BLUE if w["trainable"] else "#999",
        subtitle=f"shape {tuple(w['shape'])}, mean {w['mean']:.3g}, std {w['std']:.3g}"),
        key=f"hist_{w['path']}")
    if not over_time:
        return
    size = int(np.prod(w["shape"]))   # few weights: fewer, wider bins
    epochs, edges, counts = nni.distribution_over_time(
        snap.weight_history, layer, w["path"], bins=int(np.clip(2 * np.sqrt(size), 10, 40)))
    chart(plots.weight_distribution_over_time(epochs, edges, counts, f"{w['name']} over epochs"),
          key=f"ridges_{w['path']}")


def shapes_table(snap):
    st.subheader("Weight shapes")
    st.caption("Every array of numbers the model learns, in the order Keras's "
               "`model.get_weights()` lists them. The shape counts the numbers along each side: "
               "a Dense kernel of shape (2, 4) holds one weight for each of 2 inputs times 4 "
               "neurons; its bias (4,) one number per neuron. Trainable arrays are changed by "
               "training; the others (e.g. BatchNormalization's running averages) are not.")
    table = pd.DataFrame(nni.weight_table(snap.weights))
    st.dataframe(table, hide_index=True, width="content",
                 column_config={"shape": st.column_config.TextColumn("shape (get_weights)"),
                                "meaning": st.column_config.TextColumn("what the shape means"),
                                "params": st.column_config.NumberColumn("parameters")})
    st.caption(f"Total: {int(table['params'].sum()):,} parameters, "
               f"{int(table.loc[table['trainable'], 'params'].sum()):,} trainable.")


def kernel_view(job, snap, entry):
    kernel = next((w for w in entry["weights"] if w["name"] == "kernel"), None)
    if kernel is None or job.model() is None:
        return
    values = nni.weight_values(model_of(job), kernel["path"])
    st.subheader(f"The kernel of {entry['layer']}")
    if values.ndim == 4:  # Conv2D: (kh, kw, in, filters)
        filter_tiles(nni.filter_stack(values, MAX_TILES), key="kernel_filters")
        return
    matrix = values.reshape(-1, values.shape[-1])
    labels = input_labels(job.dataset.info, snap, entry, len(matrix))
    if len(matrix) > KERNEL_MAX_ROWS:
        st.caption(f"Showing the first {KERNEL_MAX_ROWS} of {len(matrix)} input rows.")
        matrix, labels = matrix[:KERNEL_MAX_ROWS], None
    chart(plots.kernel_heatmap(matrix, f"{entry['layer']}: inputs × neurons "
                                       f"(blue positive, orange negative)", row_labels=labels,
                               x_title="neuron"), key="kernel")


def input_labels(info, snap, entry, rows: int):
    """Feature names for the first layer on tables and toys, else None (plain numbers)."""
    names = list(info.feature_names)
    first = snap.weights[0]["layer"] == entry["layer"]
    return names if first and len(names) == rows else None


def filter_tiles(filters: np.ndarray, key: str):
    """(n, kh, kw, in) kernels as small pictures: colour for 3 input channels, else grey
    (averaged over the input channels)."""
    n, kh, kw, cin = filters.shape
    pictures = filters if cin == 3 else filters.mean(axis=-1)
    chart(plots.tile_maps(pictures, [f"filter {i + 1}" for i in range(n)], symmetric=True), key=key)
    how = ("one colour picture per filter" if cin == 3 else "one picture per filter" if cin == 1
           else f"each filter averaged over its {cin} input channels")
    st.caption(f"{n} filters of {kh}×{kw}, {how}: blue weights respond to bright input, orange "
               "to dark. Each tile is scaled to its own largest weight.")


# ---- gradients -------------------------------------------------------------------------------

def gradients_section(job, snap):
    names, norms = nni.gradient_table(snap.grad_names, snap.grad_norms)
    if not len(norms):
        st.info("Gradient norms appear after the first epoch.")
        return
    show_bias = st.toggle("Show biases too (dotted)", key="inspect_show_bias")
    keep = [j for j, n in enumerate(names) if show_bias or not n.endswith("bias")] or \
        list(range(len(names)))
    chart(plots.gradient_norms(norms[:, keep], [names[j] for j in keep],
                               "Gradient norm per epoch (mean over the epoch's batches)"),
          key="gradient_norms")
    ratio = nni.first_to_last_kernel(names, norms)
    if ratio is not None:
        value, first, last = ratio
        st.caption(f"At epoch {len(norms)} the first layer's kernel gradient is {value:.3g}× "
                   f"the last layer's ({first} vs {last}).")
    st.markdown(
        "**What to look for.** If the first layers' lines sink toward 0, orders of magnitude "
        "below the last layer's (typical of deep stacks of sigmoid or tanh), the gradients are "
        "*vanishing* and those layers hardly learn. If the lines climb steeply or the loss "
        "turns to NaN, they are *exploding*: lower the learning rate, use ReLU, or add "
        "BatchNormalization.")


# ---- images: what the first layers look for --------------------------------------------------

def images_section(job, snap):
    model = model_of(job)
    units = nni.dense_unit_images(model, 16)
    conv = nni.conv_filters(model, MAX_TILES)
    if units is not None:
        name, pictures = units
        st.subheader(f"What {name}'s neurons look for")
        chart(plots.tile_maps(pictures if pictures.shape[-1] == 3 else pictures[..., 0],
                              [f"unit {i + 1}" for i in range(len(pictures))], symmetric=True),
              key="unit_images")
        st.caption("Each neuron's incoming weights laid out as the input image: blue pixels "
                   "push the neuron up, orange ones push it down.")
    if conv is not None:
        name, filters = conv
        st.subheader(f"Filters of {name}")
        filter_tiles(filters, key="conv_filters")
    if units is None and conv is None:
        st.info("This model has no Conv2D layer and no Dense layer right after Flatten, so there "
                "are no filters to draw: add a Conv2D layer on the Model page.")
    if nni.feature_map_layers(model):
        feature_maps(job, snap, model)


def feature_maps(job, snap, model):
    st.subheader("Feature maps of one example")
    x, y, split = nni.evaluation_split(job.dataset)
    pick, layer_pick = st.columns([3, 2])
    valid_or("inspect_sample", range(len(x)), 0)
    index = pick.slider(f"Example from the {split} set", 0, len(x) - 1, key="inspect_sample")
    layers = nni.feature_map_layers(model)
    valid_or("inspect_map_layer", layers, layers[0])
    layer = layer_pick.selectbox("Layer", layers, key="inspect_map_layer")
    maps = nni.layer_outputs(model, x[index:index + 1], [layer])[layer][0]   # (h, w, channels)
    info = job.dataset.info
    probs = nni.class_probabilities(model_outputs(job, snap)[index:index + 1], logits(job))
    label = (f"true {class_name(info, int(y[index]))}<br>"
             f"→ predicted {class_name(info, int(probs.argmax()))}")
    left, right = st.columns([1, 4])
    with left:
        chart(plots.image_grid(x[index:index + 1], [label], columns=1, tile_px=180), key="map_input")
    with right:
        n = min(maps.shape[-1], MAX_TILES)
        chart(plots.tile_maps(np.moveaxis(maps[..., :n], -1, 0),
                              [f"channel {i + 1}" for i in range(n)], colorscale="gray"),
              key="feature_maps")
    st.caption(f"{layer}'s output for this example: {maps.shape[-1]} maps of "
               f"{maps.shape[0]}×{maps.shape[1]}, bright where the filter found its pattern"
               + (f" (the first {n} shown)" if n < maps.shape[-1] else "") + ".")


# ---- the network (2-D data) ------------------------------------------------------------------

def network_figure(model, dataset):
    view = nni.network_view(model, dataset, resolution=40, max_units=8)
    return None if view is None else plots.network_figure(view)


def network_section(job, snap):
    epoch, fig = every_few_seconds("network", job, snap,
                                   lambda: network_figure(model_of(job), job.dataset))
    if fig is None:
        st.info("The network view draws stacks of Dense layers on 2-D data; this model has other "
                "layers in it.")
        return
    chart(fig, key="network")
    st.caption(f"Epoch {epoch}. Each square is one neuron's output over the whole input "
               "square (x1 across, x2 up): blue where it is positive, orange where negative, "
               "each scaled to its own largest value (the sigmoid output: 0 orange … 1 blue). "
               "Lines are weights: blue positive, orange negative, thicker = larger within a "
               "layer. Hover for values. Up to 8 neurons per layer are drawn.")

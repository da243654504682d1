"""The Data page's previews: a summary of the loaded data, its points, table, images,
series or texts, and the offers that follow from it (a CNN for images, the model's fit)."""
import numpy as np
import pandas as pd
import streamlit as st

from nnplay import plots, presets, stack
from nnplay.data import DATASETS, load_csv_frame, series_axes
from nnplay.spec import auto_head, validate
from nnplay.ui import session
from nnplay.ui.chart import chart

PREVIEW_ROWS = 20
PREVIEW_IMAGES = 24


def summary(ds):
    info = ds.info
    cols = st.columns(3)
    predicts = f"{info.n_classes} classes" if info.n_classes else "a number"
    cols[0].metric("Predicts", predicts,
                   help=f"A {info.task} task" + (": " + ", ".join(map(str, info.class_names))
                                                 if info.class_names else "."))
    cols[1].metric("Input shape", " × ".join(map(str, info.input_shape)),
                   help="What one example looks like to the network.")
    cols[2].metric("Examples", f"{len(ds.y_train) + len(ds.y_val) + len(ds.y_test):,}",
                   help="Split into training, validation and test examples.")
    st.caption(f"{len(ds.y_train):,} for training · {len(ds.y_val):,} for validation · "
               f"{len(ds.y_test):,} for test")


def split_labels(ds) -> dict:
    return {"train": ds.y_train, "validation": ds.y_val, "test": ds.y_test}


def target_chart(ds, raw=None):
    """Class balance per split, or for a regression the distribution of the target."""
    if ds.info.task == "regression":
        source = raw or ds
        chart(plots.value_histogram(split_labels(source), "Target values",
                                    "target"), key="target_chart")
    else:
        chart(plots.class_balance(split_labels(ds), ds.info.class_names),
              key="balance_chart")


def toy_preview(ds):
    chart(plots.data_scatter(ds.raw_train, ds.y_train, ds.raw_val, ds.y_val,
                             ds.info.task, bounds=ds.grid_bounds,
                             title="Training points (circles) and validation (diamonds)"),
          key="toy_scatter")


def table_frame(ds, raw) -> pd.DataFrame:
    info = raw.info
    names = info.column_names(raw.x_train.shape[1])
    frame = pd.DataFrame(raw.x_train[:PREVIEW_ROWS], columns=names)
    y = raw.y_train[:PREVIEW_ROWS]
    frame.insert(0, "target", [info.class_names[v] for v in y] if info.n_classes else y)
    return frame


def table_preview(exp, ds):
    if exp.data.dataset == "csv":
        frame = load_csv_frame(exp.data.path).head(PREVIEW_ROWS)
        st.caption(f"The first rows of your file (line numbers on the left); predicting "
                   f"**{exp.data.target}**.")
        st.dataframe(frame, height=280)
        target_chart(ds)
        return
    raw_exp = exp.copy()
    raw_exp.data.normalize = "none"
    raw = session.dataset(raw_exp)
    st.caption(f"The first {PREVIEW_ROWS} training rows, before normalization.")
    st.dataframe(table_frame(ds, raw), height=280, hide_index=True)
    target_chart(ds, raw)


def image_preview(ds):
    n = min(PREVIEW_IMAGES, len(ds.x_train))
    labels = [ds.info.class_names[v] for v in ds.y_train[:n]]
    chart(plots.image_grid(ds.x_train[:n], labels, columns=8,
                           title=f"The first {n} training images and their labels"),
          key="image_grid")
    target_chart(ds)


def series_preview(exp, ds):
    window = exp.data.window
    scaled = np.concatenate([ds.x_train[0, :, 0], ds.y_train, ds.y_val, ds.y_test])
    values = ds.target_offset + scaled * ds.target_scale  # back in the series' own unit
    times, x_title, y_title = series_axes(exp.data)
    times = times[:len(values)]
    starts = [(window + len(ds.y_train), "validation"),
              (window + len(ds.y_train) + len(ds.y_val), "test")]
    splits = [(times[x], label) for (x, label), n in zip(starts, (len(ds.y_val), len(ds.y_test)))
              if n and x < len(times)]
    chart(plots.series_plot(values, DATASETS[exp.data.dataset].title, splits,
                            x=times, x_title=x_title, y_title=y_title),
          key="series_plot")
    if splits:
        st.caption("Dotted lines: where the validation and test parts begin.")


def text_preview(ds):
    lengths = {split: (x != 0).sum(axis=1) for split, x in
               (("train", ds.x_train), ("validation", ds.x_val), ("test", ds.x_test))}
    chart(plots.value_histogram(lengths, "Words per review (after cutting)", "words"),
          key="length_chart")
    rows = [{"label": ds.info.class_names[y], "words": int((x != 0).sum()),
             "word ids": " ".join(map(str, x[x != 0][:40]))}
            for x, y in zip(ds.x_train[:5], ds.y_train[:5])]
    st.caption("Reviews are word ids: 1 starts a review, 2 stands for a rare word, and 4 and up "
               "are words, the most common first.")
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    target_chart(ds)


def use_cnn(exp):
    """Put the small CNN preset on these images (the data stays) and open the Model page."""
    new, changes = presets.apply_preset(exp, "cnn", keep_data=True)
    session.set_experiment(new)
    st.session_state["model_notice"] = (presets.PRESETS["cnn"]["title"], changes)
    st.session_state["preset_choice"] = "cnn"  # the Model page's picker shows what was applied
    st.switch_page("views/model.py")


def wants_cnn(exp, ds) -> bool:
    """Images, and no convolution in the model yet."""
    return ds.info.kind == "image" and not any(
        isinstance(layer, dict) and layer.get("type") == "Conv2D" for layer in exp.model.layers)


def cnn_offer(exp, ds):
    """Images without a convolution: say why a CNN fits them and offer one in one click."""
    if not wants_cnn(exp, ds):
        return
    with st.container(border=True):
        st.markdown("**Images learn best with a CNN.** Convolution layers look at small patches "
                    "of the picture, so a stroke or an edge is recognized wherever it is; "
                    "Dense layers see only a flat list of pixels.")
        if st.button("Use the small CNN and open the Model page", type="primary",
                     icon=":material/grid_view:", key="use_cnn",
                     help="Applies the preset “" + presets.PRESETS["cnn"]["title"] + "” to "
                          "these images: two convolution blocks, Flatten and Dense 64, "
                          "trained with Adam. The data stays as it is."):
            use_cnn(exp)


def model_fit_note(exp, ds):
    """The model's layers are kept across datasets: say whether they still fit."""
    problems = [p for p in validate(exp, ds.info) if p.where.startswith(("model", "layer"))]
    if problems:
        st.warning(f"The model's layers were kept, but they do not fit this data yet: "
                   f"**{problems[0].where}**: {problems[0].message}")
        if not wants_cnn(exp, ds):  # else the CNN offer below is the way forward
            st.page_link("views/model.py", label="Fix the model", icon=":material/stacks:")
    elif exp.model.output == "auto":
        head = stack.layer_title(auto_head(ds.info))
        st.caption(f"The model's output adapts to this data: it ends with {head}.")
    cnn_offer(exp, ds)


# ---- the page ---------------------------------------------------------------------------------

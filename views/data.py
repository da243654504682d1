"""Data: choose what the network learns from, shape it, and look at it."""
import numpy as np
import pandas as pd
import streamlit as st

from nnplay import config, plots, presets, stack, uploads
from nnplay.data import (DATASETS, DataError, bring_keras_files, choose_dataset, default_samples,
                         expected_files, is_available_offline, is_series, list_datasets,
                         load_csv_frame, series_axes, stand_in_note, where_to_get, worth_bringing)
from nnplay.spec import NORMALIZE, TOY_FEATURES, auto_head, validate
from nnplay.ui import session, widgets

KINDS = {"toy": "2-D toys", "table": "Tables", "image": "Images", "sequence": "Sequences",
         "text": "Text", "csv": "Your CSV"}
FEATURE_LABELS = {"x1": "x₁", "x2": "x₂", "x1^2": "x₁²", "x2^2": "x₂²", "x1*x2": "x₁·x₂",
                  "sin(x1)": "sin x₁", "sin(x2)": "sin x₂"}
NORMALIZE_LABELS = {"standard": "standardize", "minmax": "min-max", "none": "none"}
PREVIEW_ROWS = 20
PREVIEW_IMAGES = 24


def datasets_of(kind: str) -> list[str]:
    return [e.name for e in list_datasets() if e.kind == kind]


def dataset_label(name: str) -> str:
    entry = DATASETS[name]
    return entry.title + ("  ⬇" if entry.needs_download and not is_available_offline(name) else "")


def kind_changed():
    """A new kind of data: keep the dataset when it is of that kind, else take the kind's first."""
    exp = session.experiment()
    kind = st.session_state[session.WIDGET_PREFIX + "data.kind"]
    entry = DATASETS.get(exp.data.dataset)
    if entry is None or entry.kind != kind:
        choose(exp, datasets_of(kind)[0])
    st.session_state.pop(session.WIDGET_PREFIX + "data.dataset", None)


def choose(exp, name):
    """Switch dataset (and, for the big sets, how many examples: all they have)."""
    if name != exp.data.dataset:
        choose_dataset(exp.data, name)
        st.session_state.pop(session.WIDGET_PREFIX + "data.samples", None)


def new_data_seed():
    session.experiment().data.seed += 1


# ---- settings, one block per kind of data ---------------------------------------------------

def toy_settings():
    widgets.spec_slider("Noise", "data.noise", 0.0, 0.5, 0.05,
                        help="How far points stray from their class's region (0.5 is the "
                             "Playground's 50).")
    widgets.spec_slider("Points", "data.samples", 50, 2000, 50,
                        help="How many points are drawn, before the split.")
    session.bound(st.pills, "Input features", "data.features", options=list(TOY_FEATURES),
                  selection_mode="multi", format_func=FEATURE_LABELS.get, wrap=True,
                  help="What the network sees of each point. Extra features like x₁² or "
                       "sin x₁ let a small network draw curved boundaries.")


def series_settings(entry):
    if entry.name == "sine":  # the synthetic series: its length and noise
        widgets.spec_slider("Steps", "data.samples", 100, 5000, 100, help="Length of the series.")
        widgets.spec_slider("Noise", "data.noise", 0.0, 0.5, 0.05,
                            help="Standard deviation of the noise added to the waves.")
    widgets.spec_slider("Window", "data.window", 2, 100, 1,
                        help="How many past values the network sees to predict the next one.")


def subset_setting(entry):
    """Keras's big image and text sets: how many training examples to use."""
    what = "reviews" if entry.kind == "text" else "images"
    widgets.spec_slider(f"Training {what} used", "data.samples", 500,
                        default_samples(entry.name, 500), 500,
                        help=f"A random subset keeps training quick; more {what} learn better.")


def text_settings():
    widgets.spec_slider("Vocabulary", "data.num_words", 1000, 20000, 1000,
                        help="Only the most frequent words keep their own id; the rest become 2. "
                             "An Embedding's input_dim must be at least this.")
    widgets.spec_slider("Words per review", "data.maxlen", 20, 500, 10,
                        help="Reviews are cut to their last words or padded with 0 in front.")


@st.cache_data(max_entries=8, show_spinner=False)
def csv_columns(path: str, modified: float) -> list[str]:
    return list(load_csv_frame(path).columns)   # read through nnplay's sandbox (uploads.read)


def csv_settings(exp):
    """The upload and the target column; DataError when the file cannot be read."""
    upload = st.file_uploader("Upload a CSV file", type=["csv", "txt"], key="csv_upload",
                              help="One row per example, a header line with column names; "
                                   "commas, semicolons or tabs between values.")
    if upload is not None:
        try:
            path = uploads.save(upload.getvalue(), upload.name)
        except uploads.FileRefused as e:
            raise DataError(str(e)) from None
        if path != exp.data.path:
            exp.data.path, exp.data.target = path, None
            st.session_state.pop(session.WIDGET_PREFIX + "data.target", None)
    if not exp.data.path:
        return
    path = exp.data.path
    columns = csv_columns(path, uploads.modified(path))
    current = exp.data.target if exp.data.target in columns else columns[-1]
    exp.data.target = session.seeded(st.selectbox, "Column to predict", "data.target", current,
                                     options=columns,
                                     help="Its values decide the task: text or a few whole "
                                          "numbers make a classification, other numbers a "
                                          "regression.")


def split_settings(exp, entry):
    st.markdown("**Splits**")
    widgets.spec_slider("Validation", "data.validation_split", 0.0, 0.8, 0.05, format="percent",
                        help="Held out while training, to see whether the network generalizes.")
    widgets.spec_slider("Test", "data.test_split", 0.0, 0.5, 0.05, format="percent",
                        help="Held out until the end, for a final honest score.")
    if entry.kind != "text":
        session.bound(st.segmented_control, "Normalization", "data.normalize",
                      options=list(NORMALIZE), format_func=NORMALIZE_LABELS.get, required=True,
                      help="Rescale inputs with statistics of the training split only.")
    if entry.name not in ("sunspots", "co2"):  # fixed series, split in time order: no seed
        label = "Regenerate" if entry.kind == "toy" or entry.name == "sine" else "New random split"
        st.button(label, icon=":material/refresh:", on_click=new_data_seed,
                  help=f"A new data seed (now {exp.data.seed}): new random points and a new split.")


def bring_offer(entry):
    """A Keras set not on this computer (or MNIST's sample in its place): where to get its
    file, said where the set is chosen, and an upload that puts it where Keras looks."""
    brought = st.session_state.pop("bring_done", None)
    if brought:
        st.success(brought)
    if not worth_bringing(entry.name):
        return
    if not is_available_offline(entry.name):
        st.warning(f"{entry.title} is not on this computer yet.", icon=":material/cloud_off:")
    st.caption(where_to_get(entry.name))
    if config.hosted() and not session.teacher():
        st.caption("On this server your teacher brings it, once, for the class.")
        return
    names = list(expected_files(entry.name))
    rounds = st.session_state.setdefault("bring_round", 0)   # a new key empties the uploader
    given = st.file_uploader(f"Bring {', '.join(names)}", key=f"bring_{entry.name}_{rounds}",
                             accept_multiple_files=len(names) > 1)
    given = given if isinstance(given, list) else [given] if given else []
    if not given:
        return
    try:
        message = bring_keras_files(entry.name, {u.name: u.getvalue() for u in given})
    except DataError as e:
        st.error(str(e))
        return
    session.forget_datasets()
    st.session_state["bring_done"], st.session_state["bring_round"] = message, rounds + 1
    st.rerun()


# ---- previews ---------------------------------------------------------------------------------

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
        st.plotly_chart(plots.value_histogram(split_labels(source), "Target values",
                                              "target"), key="target_chart")
    else:
        st.plotly_chart(plots.class_balance(split_labels(ds), ds.info.class_names),
                        key="balance_chart")


def toy_preview(ds):
    st.plotly_chart(plots.data_scatter(ds.raw_train, ds.y_train, ds.raw_val, ds.y_val,
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
    st.plotly_chart(plots.image_grid(ds.x_train[:n], labels, columns=8,
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
    st.plotly_chart(plots.series_plot(values, DATASETS[exp.data.dataset].title, splits,
                                      x=times, x_title=x_title, y_title=y_title),
                    key="series_plot")
    if splits:
        st.caption("Dotted lines: where the validation and test parts begin.")


def text_preview(ds):
    lengths = {split: (x != 0).sum(axis=1) for split, x in
               (("train", ds.x_train), ("validation", ds.x_val), ("test", ds.x_test))}
    st.plotly_chart(plots.value_histogram(lengths, "Words per review (after cutting)", "words"),
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

exp = session.experiment()
st.title("Data")

entry = DATASETS.get(exp.data.dataset)
if exp.data.dataset is None:
    st.info("This spec describes a model only (it names no data): choose the data to train it on.")
elif entry is None:
    st.error(f"Unknown dataset {exp.data.dataset!r}: choose one below.")
kind = session.seeded(st.segmented_control, "Kind of data", "data.kind",
                      entry.kind if entry else "toy", options=list(KINDS),
                      format_func=KINDS.get, required=True, on_change=kind_changed)
choices = datasets_of(kind)
chosen = session.seeded(st.pills, "Dataset", "data.dataset",
                        exp.data.dataset if exp.data.dataset in choices else None,
                        options=choices, format_func=dataset_label, required=True,
                        help="⬇ marks Keras sets that need one download.")
if chosen is None:
    st.stop()
choose(exp, chosen)
entry = DATASETS[chosen]
st.caption(entry.description)
stand_in = stand_in_note(chosen)
if stand_in:
    st.info(stand_in, icon=":material/offline_pin:")
bring_offer(entry)

settings, preview = st.columns([1, 2], gap="large")
with settings:
    csv_problem = None
    if kind == "csv":
        try:
            csv_settings(exp)
        except DataError as e:
            csv_problem = f"This file cannot be used: {e}"
    if kind == "toy":
        toy_settings()
    if is_series(chosen):
        series_settings(entry)
    if entry.needs_download and kind in ("image", "text"):
        subset_setting(entry)
    if kind == "text":
        text_settings()
    split_settings(exp, entry)

with preview:
    if kind == "csv" and not exp.data.path:
        st.info("Upload a table: every column but one becomes an input, and you choose the "
                "column to predict.")
        st.stop()
    if csv_problem:
        st.error(csv_problem)
        st.stop()
    problems = [p for p in validate(exp) if p.where.startswith("data.")]
    for p in problems:
        st.error(f"**{p.where}**: {p.message}")
    if problems:
        st.stop()
    try:
        ds = session.dataset(exp)
        summary(ds)
        if ds.raw_train is not None:      # points on a plane: toys and two-column CSVs
            toy_preview(ds)
        if kind == "toy":
            pass
        elif is_series(chosen):
            series_preview(exp, ds)
        elif kind in ("table", "csv"):
            table_preview(exp, ds)
        elif kind == "image":
            image_preview(ds)
        else:
            text_preview(ds)
    except DataError as e:
        if not worth_bringing(chosen) or is_available_offline(chosen):   # else said above
            st.error(str(e))
        if entry.needs_download:
            st.info("Every dataset without ⬇ works offline.")
        st.stop()
    if ds.notes:
        st.markdown("**How the data was prepared**\n" + "\n".join(f"- {n}" for n in ds.notes
                                                               if n != stand_in))
    model_fit_note(exp, ds)

"""Inspect: look inside the model being trained (or just trained): weights and how they moved,
gradients, filters and feature maps, the network as TensorFlow Playground draws it, and the
model's mistakes on the validation set."""
import numpy as np
import pandas as pd
import streamlit as st

from nnplay import inspect as nni
from nnplay import plots
from nnplay.ui import session
from nnplay.ui.model_upload import uploaded_model_section

LIVE = ("queued", "building", "running")
EVAL_MAX = 5000          # validation examples predicted on the page (keeps a rerun light)
GALLERY_MAX = 32         # misclassified examples shown
KERNEL_MAX_ROWS = 400    # a bigger kernel is cut to its first rows for the heatmap
CACHE_KEY = "inspect_cache"

# ---- helpers ----------------------------------------------------------------------------------


def chart(fig):
    st.plotly_chart(fig, width="stretch", config={"displaylogo": False})


def cached(name: str, job, snap, compute):
    """`compute()` once per job, epoch and status (the Refresh button clears the cache)."""
    return session.remembered(CACHE_KEY, name, (job.id, snap.epoch, snap.status), compute)


def live_fragment(name: str, job, was_live: bool, body):
    """Draw `body(job, snap)` in a fragment that redraws every second while the job trains;
    when training ends, rerun the whole page once so every section shows the final model."""
    @st.fragment(run_every=1.0 if was_live else None, key=f"inspect_{name}")
    def part():
        snap = job.snapshot()
        body(job, snap)
        if was_live and snap.status not in LIVE:
            st.rerun()
    part()


def valid_or(key: str, options, default):
    """Set a widget's value to `default` when it is not one of `options` (another run was
    picked): set from here, the browser is told too, so it cannot show the old run's layer."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default


def class_name(info, index: int) -> str:
    names = info.class_names
    return str(names[index]) if index < len(names) else str(index)


def evaluation_split(ds):
    """The validation split, or the training split when there is none (capped at EVAL_MAX)."""
    if len(ds.x_val):
        return ds.x_val[:EVAL_MAX], ds.y_val[:EVAL_MAX], "validation"
    return ds.x_train[:EVAL_MAX], ds.y_train[:EVAL_MAX], "training"


def model_of(job):
    """The job's model. A live job lets its model go once its run is saved: then the page is
    drawn again, from the saved run."""
    model = job.model()
    if model is None:
        st.rerun()
    return model


def model_outputs(job, snap):
    x, _, _ = evaluation_split(job.dataset)

    def predict():
        try:
            return job.predict(x)
        except LookupError:     # the model was let go (its run is saved): redraw from the store
            st.rerun()
    return cached("outputs", job, snap, predict)


def from_logits(model) -> bool:
    from nnplay.build import output_kind
    return output_kind(model)[1] == "linear"


# ---- 1. weights -------------------------------------------------------------------------------


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
                meaning = nni.weight_meaning(entry["type"], w["name"], w["shape"])
                chart(plots.weight_histogram(
                    w["histogram"], f"{w['name']}: {meaning}",
                    color=plots.BLUE if w["trainable"] else "#999",
                    subtitle=f"shape {tuple(w['shape'])}, mean {w['mean']:.3g}, "
                             f"std {w['std']:.3g}"))
                if not over_time:
                    continue
                size = int(np.prod(w["shape"]))   # few weights: fewer, wider bins
                epochs, edges, counts = nni.distribution_over_time(
                    snap.weight_history, layer, w["path"], bins=int(np.clip(2 * np.sqrt(size), 10, 40)))
                chart(plots.weight_distribution_over_time(epochs, edges, counts,
                                                          f"{w['name']} over epochs"))
    kernel_view(job, snap, entry)
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
        filters = np.transpose(values, (3, 0, 1, 2))[:32]
        filter_tiles(filters)
        return
    matrix = values.reshape(-1, values.shape[-1])
    labels = input_labels(job.dataset.info, snap, entry, len(matrix))
    if len(matrix) > KERNEL_MAX_ROWS:
        st.caption(f"Showing the first {KERNEL_MAX_ROWS} of {len(matrix)} input rows.")
        matrix, labels = matrix[:KERNEL_MAX_ROWS], None
    chart(plots.kernel_heatmap(matrix, f"{entry['layer']}: inputs × neurons "
                                       f"(blue positive, orange negative)", row_labels=labels,
                                       x_title="neuron"))


def input_labels(info, snap, entry, rows: int):
    """Feature names for the first layer on tables and toys, else None (plain numbers)."""
    names = list(info.feature_names)
    first = snap.weights[0]["layer"] == entry["layer"]
    return names if first and len(names) == rows else None


def filter_tiles(filters: np.ndarray):
    """(n, kh, kw, in) kernels as small pictures: colour for 3 input channels, else grey
    (averaged over the input channels)."""
    n, kh, kw, cin = filters.shape
    pictures = filters if cin == 3 else filters.mean(axis=-1)
    chart(plots.tile_maps(pictures, [f"filter {i + 1}" for i in range(n)], symmetric=True))
    how = ("one colour picture per filter" if cin == 3 else "one picture per filter" if cin == 1
           else f"each filter averaged over its {cin} input channels")
    st.caption(f"{n} filters of {kh}×{kw}, {how}: blue weights respond to bright input, orange "
               "to dark. Each tile is scaled to its own largest weight.")


# ---- 2. gradients -----------------------------------------------------------------------------


def gradients_section(job, snap):
    names, norms = nni.gradient_table(snap.grad_names, snap.grad_norms)
    if not len(norms):
        st.info("Gradient norms appear after the first epoch.")
        return
    show_bias = st.toggle("Show biases too (dotted)", key="inspect_show_bias")
    keep = [j for j, n in enumerate(names) if show_bias or not n.endswith("bias")] or \
        list(range(len(names)))
    chart(plots.gradient_norms(norms[:, keep], [names[j] for j in keep],
                               "Gradient norm per epoch (mean over the epoch's batches)"))
    kernels = [j for j, n in enumerate(names) if n.endswith("kernel")]
    if len(kernels) >= 2 and norms[-1, kernels[-1]] > 0:
        ratio = norms[-1, kernels[0]] / norms[-1, kernels[-1]]
        st.caption(f"At epoch {len(norms)} the first layer's kernel gradient is {ratio:.3g}× "
                   f"the last layer's ({names[kernels[0]]} vs {names[kernels[-1]]}).")
    st.markdown(
        "**What to look for.** If the first layers' lines sink toward 0, orders of magnitude "
        "below the last layer's (typical of deep stacks of sigmoid or tanh), the gradients are "
        "*vanishing* and those layers hardly learn. If the lines climb steeply or the loss "
        "turns to NaN, they are *exploding*: lower the learning rate, use ReLU, or add "
        "BatchNormalization.")


# ---- 3. images: what the first layers look for ------------------------------------------------


def images_section(job, snap):
    model = model_of(job)
    units = nni.dense_unit_images(model, 16)
    conv = nni.conv_filters(model, 32)
    if units is not None:
        name, pictures = units
        st.subheader(f"What {name}'s neurons look for")
        chart(plots.tile_maps(pictures if pictures.shape[-1] == 3 else pictures[..., 0],
                              [f"unit {i + 1}" for i in range(len(pictures))], symmetric=True))
        st.caption("Each neuron's incoming weights laid out as the input image: blue pixels "
                   "push the neuron up, orange ones push it down.")
    if conv is not None:
        name, filters = conv
        st.subheader(f"Filters of {name}")
        filter_tiles(filters)
    if units is None and conv is None:
        st.info("This model has no Conv2D layer and no Dense layer right after Flatten, so there "
                "are no filters to draw: add a Conv2D layer on the Model page.")
    if nni.feature_map_layers(model):
        feature_maps(job, snap, model)


def feature_maps(job, snap, model):
    st.subheader("Feature maps of one example")
    x, y, split = evaluation_split(job.dataset)
    pick, layer_pick = st.columns([3, 2])
    valid_or("inspect_sample", range(len(x)), 0)
    index = pick.slider(f"Example from the {split} set", 0, len(x) - 1, key="inspect_sample")
    layers = nni.feature_map_layers(model)
    valid_or("inspect_map_layer", layers, layers[0])
    layer = layer_pick.selectbox("Layer", layers, key="inspect_map_layer")
    maps = nni.layer_outputs(model, x[index:index + 1], [layer])[layer][0]   # (h, w, channels)
    info = job.dataset.info
    probs = nni.class_probabilities(model_outputs(job, snap)[index:index + 1], from_logits(model))
    label = (f"true {class_name(info, int(y[index]))}<br>"
             f"→ predicted {class_name(info, int(probs.argmax()))}")
    left, right = st.columns([1, 4])
    with left:
        chart(plots.image_grid(x[index:index + 1], [label], columns=1, tile_px=180))
    with right:
        n = min(maps.shape[-1], 32)
        chart(plots.tile_maps(np.moveaxis(maps[..., :n], -1, 0),
                              [f"channel {i + 1}" for i in range(n)], colorscale="gray"))
    st.caption(f"{layer}'s output for this example: {maps.shape[-1]} maps of "
               f"{maps.shape[0]}×{maps.shape[1]}, bright where the filter found its pattern"
               + (f" (the first {n} shown)" if n < maps.shape[-1] else "") + ".")


# ---- 4. the network (2-D toys) ----------------------------------------------------------------


def network_section(job, snap):
    view = cached("network", job, snap,
                  lambda: nni.network_view(model_of(job), job.dataset, resolution=40, max_units=8))
    if view is None:
        st.info("The network view draws stacks of Dense layers on 2-D data; this model has other "
                "layers in it.")
        return
    chart(plots.network_figure(view))
    st.caption(f"Epoch {snap.epoch}. Each square is one neuron's output over the whole input "
               "square (x1 across, x2 up): blue where it is positive, orange where negative, "
               "each scaled to its own largest value (the sigmoid output: 0 orange … 1 blue). "
               "Lines are weights: blue positive, orange negative, thicker = larger within a "
               "layer. Hover for values. Up to 8 neurons per layer are drawn.")


# ---- 5. evaluation ----------------------------------------------------------------------------


def evaluation_section(job, snap):
    ds = job.dataset
    x, y, split = evaluation_split(ds)
    if not len(x):
        st.info("There are no examples to evaluate on.")
        return
    outputs = model_outputs(job, snap)
    note = f"On {len(x)} {split} examples, epoch {snap.epoch}"
    if split == "training":
        note += " (there is no validation split, so these are examples the model trained on)"
    st.caption(note + ".")
    if ds.info.kind == "sequence":
        chart(cached("forecast", job, snap, lambda: plots.forecast_figure(**nni.series_forecast(job))))
    if ds.info.task == "regression":
        regression_view(ds, outputs, y)
    else:
        classes_view(job, snap, outputs, x, y)


def classes_view(job, snap, outputs, x, y):
    info = job.dataset.info
    result = nni.evaluate_classes(outputs, y, info.n_classes, from_logits(model_of(job)))
    names = [class_name(info, i) for i in range(len(result["matrix"]))]
    st.metric("Accuracy", f"{result['accuracy']:.1%}",
              help="The share of examples whose predicted class is the true class.")
    left, right = st.columns(2)
    with left:
        chart(plots.confusion_figure(result["matrix"], names))
    with right:
        chart(plots.per_class_accuracy_figure(result["per_class"], names, result["matrix"].sum(axis=1)))
        st.caption("Read a row of the matrix: where the examples of that true class went; each "
                   "cell says how many. Blue cells on the diagonal are right; red cells are "
                   "mistakes, darker for a bigger share of the row. A red bar marks the class "
                   "the model gets right least often.")
    misclassified(job, snap, result, x, y, names)


def misclassified(job, snap, result, x, y, names):
    ds, info = job.dataset, job.dataset.info
    wrong = result["wrong"]
    st.subheader(f"Misclassified: {len(wrong)} of {len(y)}")
    if not len(wrong):
        st.success("Every example is classified correctly.")
        return
    if info.kind == "toy" and ds.raw_val is not None and len(ds.raw_val) == len(y):
        chart(plots.misclassified_scatter(ds.raw_val, y, wrong, info.task, grid=snap.grid,
                                          bounds=ds.grid_bounds))
        return
    shown = wrong[:GALLERY_MAX]
    if info.kind == "image":
        labels = [f"true {names[y[i]]}<br>→ predicted {names[result['predicted'][i]]}"
                  for i in shown]
        chart(plots.image_grid(x[shown], labels, columns=8))
        st.caption("Each picture: its true class, and the class the model predicted"
                   + (f"; the first {len(shown)} shown." if len(shown) < len(wrong) else "."))
        return
    rows = pd.DataFrame({"example": shown, "true": [names[y[i]] for i in shown],
                         "predicted": [names[result["predicted"][i]] for i in shown],
                         "confidence": result["confidence"][shown]})
    if x.ndim == 2 and x.shape[1] <= 64 and info.kind in ("table", "csv"):
        columns = info.column_names(x.shape[1])
        rows = pd.concat([rows, pd.DataFrame(x[shown], columns=columns)], axis=1)
        st.caption("Inputs as the model sees them (normalized).")
    st.dataframe(rows, hide_index=True,
                 column_config={"confidence": st.column_config.ProgressColumn(
                     "confidence", min_value=0.0, max_value=1.0, format="percent")})


def regression_view(ds, outputs, y):
    values = nni.regression_values(outputs, y, ds.target_offset, ds.target_scale)
    a, b = st.columns(2)
    a.metric("Mean absolute error", f"{values['mae']:.4g}",
             help="The average size of the error, in the target's own unit.")
    b.metric("R²", f"{values['r2']:.3f}",
             help="1 is perfect; 0 is no better than always predicting the mean.")
    left, right = st.columns(2)
    with left:
        chart(plots.predicted_vs_actual(values["actual"], values["predicted"]))
    with right:
        chart(plots.residuals_figure(values["predicted"], values["residual"]))
    if ds.target_scale != 1.0 or ds.target_offset != 0.0:
        st.caption("Values in the target's own unit (the normalization used for training is undone).")


# ---- which run -------------------------------------------------------------------------------

PICK_KEY = "inspect_run"
CHOICE_KEY = "inspect_run_choice"     # (picked key, followed job id then): outlives the widget
WIDGET_KEYS = ("inspect_layer", "inspect_sample", "inspect_map_layer")
STATUS_WORDS = {"early_stopping": "stopped early", "stopped": "stopped by hand",
                "interrupted": "cut off", "building": "being built"}


class Choice:
    """One entry of the run picker: the followed job, a job of this app, or a saved run."""

    def __init__(self, key, name, run=None, job=None):
        self.key, self.name, self.run, self.job = key, name, run, job
        self.label = self._label()     # once: the widget formats its options more than once

    def _label(self) -> str:
        if self.job is not None:
            status, epochs = self.job.progress()
        else:
            status, epochs = self.run.status, self.run.epochs
        word = STATUS_WORDS.get(status, status)
        if status in LIVE or status == "paused":
            word = "training now" if status == "running" else word
            return f"{self.name} — {word}"     # no epoch: the label would change every second
        return f"{self.name} — {word}, {epochs} epoch{'s' if epochs != 1 else ''}"


def run_choices() -> tuple[list[Choice], str | None]:
    """Every run Inspect can show, newest first, and the key of the one to show by default:
    the followed job, else the newest saved run with a model, else the newest run."""
    from nnplay.jobapi import manager
    from nnplay.store import run_name
    followed = session.current_job()
    store = session.store()
    try:
        runs = session.my_runs()
    except Exception as e:   # an unreadable store must not hide the live job
        st.warning(f"The saved runs cannot be read ({e}); only the current training is shown.")
        runs = []
    choices, default = [], None
    if followed is not None and not any(r.job_id == followed.id for r in runs):
        choices.append(Choice(f"job:{followed.id}", run_name(followed.exp), job=followed))
        default = choices[0].key
    for run in runs:
        job = manager().get(run.job_id)
        if job is not None and not job.alive and job.model() is None:
            job = None      # finished and let go: its run is read from the store
        choices.append(Choice(f"run:{run.id}", run.name, run=run, job=job))
        if followed is not None and run.job_id == followed.id:
            default = choices[-1].key
    if default is None:  # the newest run with a model: stop at the first (a file check each)
        first = next((c for c in choices if c.run is not None and
                      (c.job is not None or store.model_path(c.run.id) is not None)),
                     choices[0] if choices else None)
        default = first.key if first is not None else None
    return choices, default


def picked():
    """The student chose a run. A new run has other layers and examples: its widgets start
    afresh."""
    st.session_state[CHOICE_KEY] = (st.session_state[PICK_KEY], followed_id())
    for key in WIDGET_KEYS + (CACHE_KEY,):
        st.session_state.pop(key, None)


def followed_id():
    return st.session_state.get(session.JOB_KEY)


def current_pick(by_key: dict, default: str) -> str:
    """The run chosen before (while the followed job is the same one), else the default."""
    key, followed = st.session_state.get(CHOICE_KEY) or (None, None)
    return key if key in by_key and followed == followed_id() else default


@st.cache_resource(max_entries=4, show_spinner="Opening the saved model…")
def open_saved_run(run_id: str, path: str, mtime: float, updated: float):
    """The saved run with its model and data (kept per file and modification time)."""
    import keras
    store = session.store()
    run = store.get_run(run_id)
    model = keras.models.load_model(path, compile=False)
    return nni.SavedRun(run, model, session.dataset(run.spec), store.history(run_id),
                        store.grad_norms(run_id))


def saved_run(run):
    """The SavedRun to draw, or None after saying (st.warning/st.info) why there is none."""
    from nnplay.data import DataError
    if run.spec is None:
        st.warning(f"“{run.name}” was saved by a newer version of nnplay; this one cannot "
                   "read its settings.")
        return None
    path = session.store().model_path(run.id)
    if path is None:
        if run.active:
            st.info(f"“{run.name}” is still training in another window of the app (or was "
                    "cut off). Its model is saved when it finishes; come back then.")
        elif run.status == "failed":
            st.warning(f"“{run.name}” failed ({run.message or 'no reason recorded'}), so no "
                       "model was saved. Pick another run, or train it again on the Train page.")
        else:
            st.warning(f"The model file of “{run.name}” is missing (it may have been deleted "
                       "or never finished saving), so there is nothing to look inside. Pick "
                       "another run, or train it again on the Train page.")
        return None
    try:
        return open_saved_run(run.id, str(path), path.stat().st_mtime, run.updated)
    except DataError as e:
        st.warning(f"The data of “{run.name}” cannot be loaded here: {e}")
    except Exception as e:   # a damaged or foreign file: say so, never a stack trace
        first = str(e).splitlines()[0][:300] if str(e) else type(e).__name__
        st.warning(f"The model file of “{run.name}” cannot be opened ({first}). Pick another "
                   "run, or train it again on the Train page.")
    return None


def status_line(job, snap):
    # a failure's message is in an error box below
    why = f" — {snap.message}" if snap.message and snap.status != "failed" else ""
    kept = " Saved run: the model as it was when training ended." \
        if isinstance(job, nni.SavedRun) else ""
    st.caption(f"On **{job.exp.data.dataset}**: {STATUS_WORDS.get(snap.status, snap.status)}, "
               f"epoch {snap.epoch} of {snap.epochs}{why}.{kept}")


# ---- the page ---------------------------------------------------------------------------------

st.title("Inspect")
with st.expander("Open a model file from elsewhere (.keras)", icon=":material/upload_file:"):
    uploaded_model_section()

choices, default = run_choices()
if not choices:
    st.info("There is no model to look inside yet: train one first on the Train page, then "
            "come back here.")
    st.page_link("views/train.py", label="Go to Train", icon=":material/play_circle:")
    st.stop()

by_key = {c.key: c for c in choices}
# A label says the run's status, which changes when training ends, and the browser sends
# back the label it shows: the pick is kept in our own key and handed to the widget each run.
pick = current_pick(by_key, default)
st.session_state[CHOICE_KEY] = (pick, followed_id())
st.session_state[PICK_KEY] = pick
shown = st.selectbox("Run to inspect", list(by_key), key=PICK_KEY,
                     format_func=lambda k: by_key[k].label if k in by_key else str(k),
                     on_change=picked,
                     help="The model you are training now, or any run kept on the Train, "
                          "Race or Lessons pages.")
choice = by_key.get(shown) or by_key[pick]
st.header(choice.name, divider="gray")
followed = session.current_job()
job = choice.job if choice.job is not None else saved_run(choice.run)
if job is None:
    st.stop()
saved = isinstance(job, nni.SavedRun)

snap = job.snapshot()
was_live = snap.status in LIVE
status, refresh = st.columns([5, 1], vertical_alignment="center")
with status:
    live_fragment("status", job, was_live, status_line)
refresh.button("Refresh", icon=":material/refresh:", width="stretch",
               on_click=lambda: st.session_state.pop(CACHE_KEY, None),
               help="Redraw everything with the model's current weights.")
if followed is not None and job is followed and \
        job.exp.to_dict() != session.experiment().to_dict():
    st.caption("Your settings changed since this model was trained; this page shows the model "
               "as it was trained. Train again to inspect the new one.")
if snap.status == "failed":
    st.error(f"Training failed: {snap.message}")
if job.model() is None or job.dataset is None:
    if was_live:
        doing = "waiting for a training slot" if snap.status == "queued" else "being built"
        st.info(f"The model is {doing}; this page fills in as soon as training starts.")

        @st.fragment(run_every=1.0)
        def wait_for_model():
            if job.model() is not None or not job.alive:
                st.rerun()
        wait_for_model()
    st.stop()

kind = job.dataset.info.kind
sections = {"Weights": lambda: live_fragment("weights", job, was_live, weights_section),
            "Gradients": lambda: live_fragment("gradients", job, was_live, gradients_section)}
if kind == "image":
    sections["Filters & feature maps"] = lambda: images_section(job, snap)
if kind == "toy":
    sections["Network"] = lambda: network_section(job, snap)
sections["Evaluation"] = lambda: evaluation_section(job, snap)
# Only the open tab runs (on_change="rerun"): the others cost nothing until chosen.
for draw, tab in zip(sections.values(), st.tabs(list(sections), key="inspect_tab",
                                               on_change="rerun")):
    with tab:
        if tab.open is not False:
            draw()

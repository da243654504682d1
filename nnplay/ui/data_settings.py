"""The Data page's settings: the kind and dataset pickers, toy features, series windows,
subsets, text, your CSV, splits, and bringing a Keras file."""
import streamlit as st

from nnplay import config, uploads
from nnplay.data import (DATASETS, DataError, bring_keras_files, choose_dataset, default_samples,
                         expected_files, is_available_offline, list_datasets, load_csv_frame,
                         where_to_get, worth_bringing)
from nnplay.spec import NORMALIZE, TOY_FEATURES
from nnplay.ui import session, widgets

KINDS = {"toy": "2-D toys", "table": "Tables", "image": "Images", "sequence": "Sequences",
         "text": "Text", "csv": "Your CSV"}
FEATURE_LABELS = {"x1": "x₁", "x2": "x₂", "x1^2": "x₁²", "x2^2": "x₂²", "x1*x2": "x₁·x₂",
                  "sin(x1)": "sin x₁", "sin(x2)": "sin x₂"}
NORMALIZE_LABELS = {"standard": "standardize", "minmax": "min-max", "none": "none"}


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

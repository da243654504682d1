"""Inspect page glue: which run is shown (the picker), opening a saved run, the status line,
and the helpers every Inspect section draws with (live fragments, per-epoch caches)."""
import streamlit as st

from nnplay import catalogue
from nnplay import inspection as nni
from nnplay.ui import session

CACHE_KEY = "inspect_cache"
PICK_KEY = "inspect_run"
CHOICE_KEY = "inspect_run_choice"     # (picked key, followed job id then): outlives the widget
WIDGET_KEYS = ("inspect_layer", "inspect_sample", "inspect_map_layer", "ask_number", "ask_text")
LIVE_EVERY_S = 1.0   # a live section redraws this often while its job trains


# ---- drawing helpers ---------------------------------------------------------------------------

def cached(name: str, job, snap, compute):
    """`compute()` once per job, epoch and status (the Refresh button clears the cache)."""
    return session.remembered(CACHE_KEY, name, (job.id, snap.epoch, snap.status), compute)


def every_few_seconds(name: str, job, snap, compute, every_s: float = 2.0):
    """(epoch, `compute()`) recomputed when the job moved on, at most every `every_s` seconds:
    a figure that takes a second to build on a busy server must not take the whole live
    fragment's second (its redraw would be cut short by the next one, and never show). The
    epoch is the one the figure was drawn at, for its caption."""
    import time
    kept = st.session_state.setdefault(CACHE_KEY, {})
    now = time.monotonic()
    old = kept.get(name)
    same_run = old is not None and old[0] == (job.id, snap.status)
    if not same_run or (old[1] != snap.epoch and now - old[2] >= every_s):
        kept[name] = old = ((job.id, snap.status), snap.epoch, now, compute())
    return old[1], old[3]


def is_live(snap) -> bool:
    return snap.status in catalogue.LIVE


def live_fragment(name: str, job, was_live: bool, body, status_slot=None):
    """Draw `body(job, snap)` (if any) and the status line into `status_slot` in a fragment
    that redraws every second while the job trains; when training ends, rerun the whole page
    once so every section shows the final model. One such fragment per page: the browser
    skips a timed rerun while another one runs, so a second timer would hardly ever fire."""
    def part():
        snap = job.snapshot()
        if status_slot is not None:
            status_line(status_slot, job, snap)
        if body is not None:
            body(job, snap)
        if was_live and not is_live(snap):
            st.rerun()
    session.live_fragment(part, run_every=LIVE_EVERY_S if was_live else None,
                          key=f"inspect_{name}")()


def valid_or(key: str, options, default):
    """Set a widget's value to `default` when it is not one of `options` (another run was
    picked): set from here, the browser is told too, so it cannot show the old run's layer."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default


def class_name(info, index: int) -> str:
    names = info.class_names
    return str(names[index]) if index < len(names) else str(index)


def model_of(job):
    """The job's model. A live job lets its model go once its run is saved: then the page is
    drawn again, from the saved run."""
    model = job.model()
    if model is None:
        st.rerun()
    return model


def predict(job, x):
    """`job.predict(x)`; a job whose model was let go (its run is saved) redraws the page from
    the store."""
    try:
        return job.predict(x)
    except LookupError:
        st.rerun()


def model_outputs(job, snap):
    """The model's outputs on the evaluation split, once per epoch."""
    x, _, _ = nni.evaluation_split(job.dataset)
    return cached("outputs", job, snap, lambda: predict(job, x))


def logits(job) -> bool:
    return nni.outputs_are_logits(model_of(job), job.dataset.info.task, job.exp.train)


# ---- which run -------------------------------------------------------------------------------

def _picked():
    """The student chose a run. A new run has other layers and examples: its widgets start
    afresh."""
    st.session_state[CHOICE_KEY] = (st.session_state[PICK_KEY], _followed_id())
    for key in WIDGET_KEYS + (CACHE_KEY,):
        st.session_state.pop(key, None)


def _followed_id():
    return st.session_state.get(session.JOB_KEY)


def _current_pick(by_key: dict, default: str) -> str:
    """The run chosen before (while the followed job is the same one), else the default."""
    key, followed = st.session_state.get(CHOICE_KEY) or (None, None)
    return key if key in by_key and followed == _followed_id() else default


def _run_choices():
    from nnplay.jobapi import manager
    store = session.store()
    try:
        runs = session.my_runs()
    except Exception as e:   # an unreadable store must not hide the live job
        st.warning(f"The saved runs cannot be read ({e}); only the current training is shown.")
        runs = []
    return catalogue.choices(session.current_job(), runs, manager().get,
                             lambda run_id: store.model_path(run_id) is not None)


def pick_run():
    """The run picker; returns the chosen Choice, or None when there is no run at all."""
    choices, default = _run_choices()
    if not choices:
        return None
    by_key = {c.key: c for c in choices}
    # A label says the run's status, which changes when training ends, and the browser sends
    # back the label it shows: the pick is kept in our own key and handed to the widget each run.
    pick = _current_pick(by_key, default)
    st.session_state[CHOICE_KEY] = (pick, _followed_id())
    st.session_state[PICK_KEY] = pick
    shown = st.selectbox("Run to inspect", list(by_key), key=PICK_KEY,
                         format_func=lambda k: by_key[k].label if k in by_key else str(k),
                         on_change=_picked,
                         help="The model you are training now, or any run kept on the Train, "
                              "Race or Lessons pages.")
    return by_key.get(shown) or by_key[pick]


@st.cache_resource(max_entries=4, show_spinner="Opening the saved model…")
def _open_saved_run(run_id: str, path: str, mtime: float, updated: float):
    """The saved run with its model and data (kept per file and modification time)."""
    store = session.store()
    run = store.get_run(run_id)
    return nni.load_saved_run(store, run, session.dataset(run.spec))


def saved_run(run):
    """The SavedRun to draw, or None after saying (st.warning/st.info) why there is none."""
    from nnplay.data import DataError
    path = session.store().model_path(run.id) if run.spec is not None else None
    problem = catalogue.why_no_model(run, path is not None)
    if problem is not None:
        level, message = problem
        (st.info if level == "info" else st.warning)(message)
        return None
    try:
        return _open_saved_run(run.id, str(path), path.stat().st_mtime, run.updated)
    except DataError as e:
        st.warning(f"The data of “{run.name}” cannot be loaded here: {e}")
    except Exception as e:   # a damaged or foreign file: say so, never a stack trace
        st.warning(catalogue.unreadable_model(run, e))
    return None


def status_line(slot, job, snap):
    # a failure's message is in an error box below
    why = f" — {snap.message}" if snap.message and snap.status != "failed" else ""
    kept = " Saved run: the model as it was when training ended." \
        if isinstance(job, nni.SavedRun) else ""
    slot.caption(f"On **{job.exp.data.dataset}**: {catalogue.status_word(snap.status)}, "
               f"epoch {snap.epoch} of {snap.epochs}{why}.{kept}")


def wait_for_model(job, snap):
    """A job still queued or being built: say so, and redraw the page once its model exists."""
    doing = "waiting for a training slot" if snap.status == "queued" else "being built"
    st.info(f"The model is {doing}; this page fills in as soon as training starts.")

    @st.fragment(run_every=LIVE_EVERY_S)
    def poll():
        if job.model() is not None or not job.alive:
            st.rerun()
    poll()


def forget_figures():
    st.session_state.pop(CACHE_KEY, None)

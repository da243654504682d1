"""Session glue: the one Experiment in st.session_state, the URL, widgets bound to the spec,
datasets cached per spec, and the training job this browser session follows.

Pages call these instead of touching st.session_state themselves, so no page keeps a second
copy of a setting.
"""
from __future__ import annotations

import functools
import hmac
import re
import secrets
import sys
import threading
import time
import uuid
from typing import Any, Callable

import streamlit as st

from nnplay import config
from nnplay.spec import SETTING_TITLES, Experiment, SpecError

EXP_KEY = "nnplay_experiment"
JOB_KEY = "nnplay_job_id"
WIDGET_PREFIX = "w:"
WS_KEY = "nnplay_workspace"          # this browser's workspace token (hosted mode)
TEACHER_KEY = "nnplay_teacher"       # True once ?teacher= carried the host's key
FOREIGN_KEY = "nnplay_foreign_run"   # a ?run= of another workspace, shown read-only
PRESET_KEY = "preset_choice"         # the Model page's preset picker
PRESET_NOTICE_KEY = "model_notice"   # a preset just applied (by Data or Model), said on Model
TOKEN_FORM = re.compile(r"[A-Za-z0-9_-]{32}")   # what secrets.token_urlsafe(24) makes


# ---- keeping Streamlit from clearing Keras's session ----------------------------------

def install_streamlit_guards():
    """Streamlit calls keras.backend.clear_session() after every script and fragment run
    (`_clean_problem_modules`). That holds the GIL ~0.16 s with TensorFlow loaded and resets
    Keras's global state under training threads, so replace it with a version that leaves
    Keras alone and still does the rest. Streamlit is pinned; tests/test_streamlit_guard.py
    fails loudly if the private function moves."""
    from streamlit.runtime.scriptrunner import script_runner
    if getattr(script_runner._clean_problem_modules, "_nnplay_guard", False):
        return

    def clean_problem_modules_except_keras():
        # What Streamlit's version does, minus keras.backend.clear_session().
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            try:
                plt.close("all")
            except Exception:  # as Streamlit: never crash the app over matplotlib
                pass

    clean_problem_modules_except_keras._nnplay_guard = True
    script_runner._clean_problem_modules = clean_problem_modules_except_keras


# ---- each timed fragment's frame out before its next run ------------------------------

SENT_WAIT_S = 2.0   # at most, per frame: a frame held longer is let go (the next one follows)


def live_fragment(body: Callable, run_every: float | None, **options) -> Callable:
    """`st.fragment(body, run_every=...)` whose every run ends once its frame has left the
    server (wait_until_sent): the Train, Inspect, Compare and Race pages' live parts. The
    wrapper carries `body`'s name, so Streamlit's fragment id stays the one `body` had."""
    @functools.wraps(body)
    def framed(*args, **kwargs):
        body(*args, **kwargs)
        wait_until_sent()
    return st.fragment(framed, run_every=run_every, **options)


def wait_until_sent(limit: float = SENT_WAIT_S) -> bool:
    """Until this page's frame has left the server, at most `limit` s; whether it has. Called
    at the end of every run of a live_fragment. Streamlit drops a fragment's messages still
    waiting to go out when the fragment's next run starts, and the browser's timer keeps a
    next run waiting on a busy server, whose event loop sends late: in the soak one page got
    no frame for 38 s, 17 runs in a row dropped whole, and its first point late with them.
    Waiting here (asleep, the GIL free for the event loop) lets each frame go out before the
    next run starts. Streamlit has no public call for it; the pinned version's internals,
    checked by tests/test_streamlit_guard.py."""
    queue = browser_queue()
    end = time.monotonic() + limit
    while queue is not None and len(queue) and time.monotonic() < end:
        time.sleep(0.005)
    return queue is None or not len(queue)


def browser_queue():
    """This session's queue of messages on their way to its browser (Streamlit's AppSession);
    None outside a server (AppTest's runtime is a mock without sessions)."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.forward_msg_queue import ForwardMsgQueue
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx
    ctx = get_script_run_ctx()
    if ctx is None or not Runtime.exists():
        return None
    sessions = getattr(Runtime.instance(), "_session_mgr", None)
    info = sessions.get_active_session_info(ctx.session_id) if sessions is not None else None
    queue = getattr(getattr(info, "session", None), "_browser_queue", None)
    return queue if isinstance(queue, ForwardMsgQueue) else None


# ---- the experiment ---------------------------------------------------------------------

def read_link():
    """Read all the opening link holds (workspace, teacher key, experiment, job, race) into
    the session before the page list is drawn: a page switch clears the address bar's query,
    so a student who clicks a page the moment the sidebar appears keeps what the link said."""
    workspace()
    teacher()
    experiment()
    current_job()
    race()


def experiment() -> Experiment:
    """The session's experiment: from session state, else the link's ?x=, else the default."""
    exp = st.session_state.get(EXP_KEY)
    if exp is None:
        exp = _experiment_from_link()
        st.session_state[EXP_KEY] = exp
        hide = st.query_params.get("hide", "")
        hidden = {h for h in hide.split(",") if h}
        st.session_state["nnplay_hidden"] = hidden
        unknown = sorted(h for h in hidden if not hideable(h))
        if unknown:
            shown = ", ".join(s[:40] for s in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
            link_notice(f"This link hides controls nnplay does not have ({shown}); they are "
                        "ignored, and the others are hidden as the link says.")
    return exp


def hideable(key: str) -> bool:
    """Whether ?hide= can name `key`: a setting ("train.optimizer"), a part of one
    ("train.augmentation.flip"), or the Data page's kind of data."""
    return key == "data.kind" or ".".join(key.split(".")[:2]) in SETTING_TITLES


def link_notice(message: str):
    st.session_state.setdefault("nnplay_link_notices", []).append(message)


def link_notices() -> list[str]:
    """What a link asked for that could not be done, said once."""
    return st.session_state.pop("nnplay_link_notices", [])


def _experiment_from_link() -> Experiment:
    """?run=<id> opens a saved run, ?x=<spec> a shared experiment; else the default."""
    run_id = st.query_params.get("run")
    if run_id:
        try:
            run = store().get_run(run_id)
            # another workspace's run opens read-only, with an offer to copy it
            own = run.belongs_to(workspace())
            st.session_state["nnplay_run_id" if own else FOREIGN_KEY] = run_id
            if run.spec is not None:
                return run.spec
        except KeyError:
            st.session_state["nnplay_link_error"] = f"no saved run {run_id!r} on this server"
    link = st.query_params.get("x")
    if link:
        try:
            return Experiment.from_url(link)
        except SpecError as e:
            st.session_state["nnplay_link_error"] = str(e)
    return Experiment()


def is_hidden(key: str) -> bool:
    """Whether a classroom link hid this control (?hide=train.optimizer,...)."""
    return key in st.session_state.get("nnplay_hidden", set())


def set_experiment(exp: Experiment):
    """Replace the whole experiment (preset, lesson, uploaded spec); widgets re-read it."""
    st.session_state[EXP_KEY] = exp
    forget_widgets("")
    sync_url()


def forget_widgets(prefix: str):
    """Drop the bound widgets of settings under `prefix` ("layer.", "data.target"; "" for
    all), so they are seeded again from the experiment on the next run."""
    for key in [k for k in st.session_state if str(k).startswith(WIDGET_PREFIX + prefix)]:
        del st.session_state[key]


def set_layers(layers: list):
    """Replace the model's layer list (added, moved, copied, removed); the layer widgets
    re-read it."""
    experiment().model.layers = layers
    forget_widgets("layer.")


def widget_value(key: str, default: Any = None) -> Any:
    """The current value of a page's own widget (in a callback, before it is drawn again)."""
    return st.session_state.get(key, default)


def announce_preset(name: str, changes: list[str]):
    """A preset was applied (on Data or Model): the Model page's picker shows it, and the
    page says once what it changed (`preset_notice`)."""
    from nnplay.presets import PRESETS
    st.session_state[PRESET_NOTICE_KEY] = (PRESETS[name]["title"], changes)
    st.session_state[PRESET_KEY] = name


def preset_notice() -> tuple[str, list[str]] | None:
    """(title, changes) of the preset just applied, once; else None."""
    return st.session_state.pop(PRESET_NOTICE_KEY, None)


def sync_url():
    """Keep the address bar a link to the current experiment (and job, and workspace)."""
    workspace()
    exp = st.session_state.get(EXP_KEY)
    if exp is not None:
        link = exp.to_url()
        if st.query_params.get("x") != link:
            st.query_params["x"] = link
    job_id = st.session_state.get(JOB_KEY)
    if job_id and st.query_params.get("job") != job_id:
        st.query_params["job"] = job_id
    if RACE_KEY not in st.session_state and "race" in st.query_params:
        race()       # a reloaded race: attached now, kept past the next page switch
    link = _race_link()
    if link is not None and st.query_params.get("race") != link:
        st.query_params["race"] = link
    elif RACE_KEY in st.session_state and link is None and "race" in st.query_params:
        del st.query_params["race"]


PAGE_END_KEY = "nnplay_page_end"


def at_page_end(draw: Callable):
    """Run `draw` once the page has run (end_page): for parts drawn above the page that show
    what the page may still change (the share link)."""
    st.session_state.setdefault(PAGE_END_KEY, []).append(draw)


def end_page():
    """What main.py does after the page (and `stop` before stopping): the deferred drawings,
    then the address bar."""
    for draw in st.session_state.pop(PAGE_END_KEY, []):
        draw()
    sync_url()


def stop():
    """st.stop() for a page that has changed the experiment: the share link and the address
    bar still get the change."""
    end_page()
    st.stop()


def link_error() -> str | None:
    return st.session_state.pop("nnplay_link_error", None)


def seeded(widget: Callable, label: str, key: str, current: Any, **kwargs) -> Any:
    """A widget keyed `w:<key>` whose first value is `current` (from the experiment).
    set_experiment() drops these keys, so a new experiment re-seeds every widget."""
    if is_hidden(key):
        return current
    key = WIDGET_PREFIX + key
    if key not in st.session_state:
        st.session_state[key] = current
    return widget(label, key=key, **kwargs)


def bound(widget: Callable, label: str, path: str, **kwargs) -> Any:
    """A widget whose value lives in the experiment at `path` ("data.noise").

    The widget's state is seeded from the experiment, and its value written back on every
    run, so the experiment stays the only copy of the setting.
    """
    section, name = path.split(".", 1)
    part = getattr(experiment(), section)
    value = seeded(widget, label, path, getattr(part, name), **kwargs)
    setattr(part, name, value)
    return value


def remembered(bucket: str, name: str, version: tuple, compute: Callable) -> Any:
    """`compute()`'s result kept in session state under `bucket`, recomputed only when
    `version` changes (figures of a job that has not moved, polled again). Popping `bucket`
    forgets them all."""
    kept = st.session_state.setdefault(bucket, {})
    if name not in kept or kept[name][0] != version:
        kept[name] = (version, compute())
    return kept[name][1]


# ---- data -------------------------------------------------------------------------------

@st.cache_resource(max_entries=16, show_spinner="Loading data…")
def _load_cached(data_json: str):
    from nnplay.data import load
    from nnplay.spec import DataSpec
    import json
    return load(DataSpec(**json.loads(data_json)))


def dataset(exp: Experiment | None = None):
    """The loaded Dataset for the experiment's data part (cached per data spec).
    Raises nnplay.data.DataError with a message for the page to show."""
    import json
    from dataclasses import asdict
    exp = exp or experiment()
    return _load_cached(json.dumps(asdict(exp.data), sort_keys=True))


def problems(exp: Experiment, info) -> list:
    """What stops this experiment from training, from the core's validation."""
    from nnplay.spec import validate
    return validate(exp, info)


def forget_datasets():
    """Drop every loaded dataset: a Keras file was just brought, so a stand-in is stale."""
    _load_cached.clear()


def dataset_info(exp: Experiment | None = None):
    from nnplay.data import describe
    return describe((exp or experiment()).data)


# ---- the training job -------------------------------------------------------------------

def _release_owner(owner: str):
    from nnplay.jobapi import manager
    manager().release_owner(owner)


@st.cache_resource(scope="session", on_release=_release_owner)
def owner_id() -> str:
    """An id for this browser session; when the session ends, its jobs are released."""
    return uuid.uuid4().hex


def current_job():
    """The job this session follows: from session state, else the link's ?job=."""
    from nnplay.jobapi import manager
    job_id = st.session_state.get(JOB_KEY) or st.query_params.get("job")
    if not job_id:
        return None
    job = manager().attach(job_id, owner_id(), workspace())
    if job is None:
        if JOB_KEY not in st.session_state:   # a link's ?job=, not this session's own job
            link_notice("The training run this link followed is not on this server any more "
                        "(it ended and was saved, or the server restarted): its settings are "
                        "open here, and a saved run of yours is under History on Train.")
        st.session_state.pop(JOB_KEY, None)
        if "job" in st.query_params:
            del st.query_params["job"]
        return None
    st.session_state[JOB_KEY] = job_id
    return job


def queue_job(exp: Experiment, name: str | None = None, paused: bool = False,
              initial_weights: str | None = None, pace: float | None = None):
    """The one way a page trains: submit a copy of `exp` for this browser session (its owner
    and workspace) and keep its run as it trains (spec, epochs, final metrics, the .keras
    model) under `name`. Returns (job, run id). The session does not follow it (Lessons'
    variants); `start_job` does."""
    from nnplay.jobapi import manager
    from nnplay.store import attach
    exp = exp.copy()
    job = manager().submit(exp, dataset=dataset(exp), owner=owner_id(), paused=paused,
                           initial_weights=initial_weights, pace=pace, workspace=workspace())
    return job, attach(job, store(), name=name)


PRESSED_KEY = "nnplay_pressed"   # (job id, time.time() of the Train press) until its first point


def note_press(job, pressed: float):
    """The Train button's press for `job`, until the Train page draws its first point."""
    st.session_state[PRESSED_KEY] = (job.id, pressed)


def take_press(job) -> float | None:
    """When Train was pressed for `job`, once (None if not noted, or already taken)."""
    noted = st.session_state.get(PRESSED_KEY)
    if noted and noted[0] == job.id:
        del st.session_state[PRESSED_KEY]
        return noted[1]
    return None


def forget_press():
    """Off the Train page: a first point drawn after the student comes back says nothing
    about how long the server took."""
    st.session_state.pop(PRESSED_KEY, None)


def start_job(exp: Experiment | None = None, paused: bool = False,
              initial_weights: str | None = None, name: str | None = None,
              pace: float | None = None):
    """Train the experiment in the background; the session now follows this job (and stops
    the one it followed). `initial_weights`: a saved .keras model to continue from; `pace`:
    slow motion."""
    old = current_job()
    if old is not None and old.alive:
        old.stop()
    job, st.session_state["nnplay_run_id"] = queue_job(
        exp or experiment(), name, paused=paused, initial_weights=initial_weights, pace=pace)
    st.session_state[JOB_KEY] = job.id
    sync_url()
    return job


# ---- a race: several jobs followed together ---------------------------------------------

RACE_KEY = "nnplay_race"   # [(label, job id)] of this session's race, also in ?race=


def start_race(racers: list) -> list:
    """Start a race's variants, [(label, Experiment)], each kept as "race · label"; the
    session's previous race stops. Returns [(label, job)]; the race is in the address bar,
    so a reload finds it again."""
    for _, job in race():
        if job.alive:
            job.stop()
    started = [(lab, queue_job(exp, name=f"race · {lab}")[0]) for lab, exp in racers]
    st.session_state[RACE_KEY] = [(lab, job.id) for lab, job in started]
    sync_url()
    return started


def race() -> list:
    """The session's race as [(label, job)]: from session state, else the link's ?race=.
    Its jobs are attached as ?job= is (only this workspace's: another's race link shows
    nothing); the variants no longer on the server are left out."""
    from nnplay.jobapi import manager
    if RACE_KEY not in st.session_state:
        st.session_state[RACE_KEY] = _race_from_link(st.query_params.get("race", ""))
    racers = [(lab, manager().attach(job_id, owner_id(), workspace()))
              for lab, job_id in st.session_state[RACE_KEY]]
    racers = [(lab, job) for lab, job in racers if job is not None]
    if len(racers) < len(st.session_state[RACE_KEY]):
        if not racers and "race" in st.query_params:
            link_notice("The race this link followed is not on this server any more (it "
                        "ended and was saved, or the server restarted): its runs are on "
                        "Compare.")
        st.session_state[RACE_KEY] = [(lab, job.id) for lab, job in racers]
        sync_url()
    return racers


RACE_ITEM = re.compile(r"([0-9a-f]{6,64}):([^,\x00-\x1f]{1,60})")


def _race_from_link(link: str) -> list:
    """?race=<job id>:<label>,... as [(label, job id)]; what is not in that form is ignored."""
    from nnplay.race import MAX_VARIANTS
    items = [RACE_ITEM.fullmatch(item) for item in link.split(",")[:MAX_VARIANTS]]
    return [(m.group(2), m.group(1)) for m in items if m]


def _race_link() -> str | None:
    racers = st.session_state.get(RACE_KEY)
    return ",".join(f"{job_id}:{lab}" for lab, job_id in racers) if racers else None


def follow_job(job_id: str):
    """Make the session follow an existing job (a reopened run that is still training)."""
    st.session_state[JOB_KEY] = job_id
    sync_url()


@st.cache_resource
def store():
    from nnplay.store import RunStore
    return RunStore()


# ---- workspaces (hosted mode) -----------------------------------------------------------

def workspace() -> str:
    """This browser's workspace: in hosted mode an unguessable token kept in the address bar
    (?ws=), so a reload or a bookmark brings it back; on the laptop '' (every run)."""
    if not config.hosted():
        return ""
    token = st.session_state.get(WS_KEY)
    if token is None:
        token = st.session_state[WS_KEY] = _workspace_from_link()
        store().touch_workspace(token)
    if store().expiry_due():         # the first session after a start, then hourly
        threading.Thread(target=store().expire_idle, name="nnplay-expire", daemon=True).start()
    # a page switch clears the address bar's query: put the token back at once (a page
    # that stops early never reaches sync_url)
    if st.query_params.get("ws") != token:
        st.query_params["ws"] = token
    return token


def _workspace_from_link() -> str:
    link = st.query_params.get("ws")
    if link and TOKEN_FORM.fullmatch(link):
        return link
    if link:
        st.session_state["nnplay_ws_error"] = (
            "The workspace in this address (?ws=) is not valid, so you have a fresh, empty "
            "workspace. Bookmark this page to come back to it.")
    return secrets.token_urlsafe(24)


def my_runs() -> list:
    """The runs this session may list: its workspace's (every run on the laptop)."""
    return store().list_runs(workspace())


def teacher() -> bool:
    """Whether this session is the teacher's view: hosted, opened with ?teacher=<the key the
    host set>. A wrong key leaves a message (teacher_error) and shows nothing of others."""
    if not config.hosted():
        return False
    if TEACHER_KEY not in st.session_state:
        given, key = st.query_params.get("teacher"), config.teacher_key()
        st.session_state[TEACHER_KEY] = bool(given and key and
                                             hmac.compare_digest(given.encode(), key.encode()))
        if given and not key:
            st.session_state["nnplay_teacher_error"] = (
                "This server has no teacher view: the host turns it on by setting "
                "NNPLAY_TEACHER_KEY. Showing your own workspace.")
        elif given and not st.session_state[TEACHER_KEY]:
            st.session_state["nnplay_teacher_error"] = (
                "This teacher link's key is not the one the host set (NNPLAY_TEACHER_KEY): "
                "check the link. Showing your own workspace only.")
    return st.session_state[TEACHER_KEY]


def workspace_messages() -> list[str]:
    """Messages about the workspace and the teacher link, each shown once."""
    workspace(), teacher()
    return [m for m in (st.session_state.pop("nnplay_ws_error", None),
                        st.session_state.pop("nnplay_teacher_error", None)) if m]


# ---- what a page keeps between its own reruns ------------------------------------------------

def choose_widget_value(key: str, value) -> None:
    """Set the widget `key` to `value` (from a callback, before the widget is drawn): a
    button that fills a picker, as Compare's "every student's latest run"."""
    st.session_state[key] = value


def just_ended(name: str, going: bool) -> bool:
    """Whether something the page watches (`name`: a race) was going at the last rerun and
    is not now; remembers `going` for the next. A page redraws in full once then."""
    key = f"nnplay_going_{name}"
    ended = bool(st.session_state.get(key)) and not going
    st.session_state[key] = going
    return ended

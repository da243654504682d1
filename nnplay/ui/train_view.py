"""The Train page's pieces: training settings bound to the experiment, the job controls and
the live panel (progress, curves, decision boundary) polled from the job's snapshot."""
from __future__ import annotations

import logging
import time

import streamlit as st

from nnplay import config, plots, slots
from nnplay.keras_names import options_kept
from nnplay.spec import (AUGMENTATION_DEFAULTS, IMAGE_AUGMENTATIONS, auto_loss,
                         EARLY_STOPPING_DEFAULTS, FLIPS, OPTIMIZER_NAMES, OPTIMIZERS,
                         SCHEDULE_DEFAULTS, SCHEDULES, TASK_LOSSES, Experiment, describe_value,
                         metric_options_kept, notes, output_units, task_metrics)
from nnplay.ui import session
from nnplay.ui.chart import chart

log = logging.getLogger(__name__)

REFRESH_KEY = "nnplay_live_refresh"   # the live panel's refresh, as its browser's timer has it
RETIME_S = 0.25   # a change of refresh smaller than this is not worth resetting the timer

RATES = [0.00001, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
REG_RATES = [0.0, 0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
LOSS_LABELS = {"sparse_categorical_crossentropy": "sparse categorical cross-entropy",
               "categorical_crossentropy": "categorical cross-entropy (one-hot labels)",
               "binary_crossentropy": "binary cross-entropy", "mean_squared_error": "mean squared error",
               "mean_absolute_error": "mean absolute error", "huber": "Huber"}


def _rate_options(value, rates=RATES) -> list:
    """The usual rates plus `value` when it is not one of them: a link's 0.05 shows as 0.05,
    never snapped to a neighbour the student did not choose."""
    return sorted({*rates, value}) if isinstance(value, (int, float)) else list(rates)


def _kept(current: dict, defaults: dict, **chosen) -> dict:
    """`current` with the widgets' values written in, only where they differ from what
    `current` already means: what the student did not touch stays exactly as the link gave
    it; a value set back to its default is left out, as a new setting would be."""
    out, meant = dict(current), {**defaults, **current}
    for key, value in chosen.items():
        if value == meant.get(key):
            continue
        if key in defaults and value == defaults[key]:
            out.pop(key, None)
        else:
            out[key] = value
    return out


# ---- settings ---------------------------------------------------------------------------

def optimizer_settings(exp: Experiment):
    c1, c2, c3, c4, c5 = st.columns(5)
    with c1:
        session.bound(st.selectbox, "Optimizer", "train.optimizer", options=OPTIMIZERS,
                      format_func=OPTIMIZER_NAMES.get,
                      help="How the weights are moved along the gradient.")
        exp.train.optimizer_options = options_kept(exp.train.optimizer, exp.train.optimizer_options)
    with c2:
        session.bound(st.select_slider, "Learning rate", "train.learning_rate",
                      options=_rate_options(exp.train.learning_rate),
                      help="Size of each step. Too small: slow. Too large: the loss jumps or explodes.")
    with c3:
        session.bound(st.number_input, "Batch size", "train.batch_size", min_value=1,
                      max_value=65536, step=1, help="Samples per weight update.")
    with c4:
        session.bound(st.number_input, "Epochs", "train.epochs", min_value=1,
                      max_value=100_000, step=10, help="Passes over the training data.")
    with c5:
        session.bound(st.number_input, "Seed", "train.seed", min_value=0, step=1,
                      help="Same seed, same initial weights and shuffles: the run repeats exactly.")
    c1, c2, c3 = st.columns([1, 2, 2])
    if exp.train.optimizer in ("sgd", "rmsprop"):
        with c1:
            session.bound(st.number_input, "Momentum", "train.momentum", min_value=0.0,
                          max_value=max(0.99, exp.train.momentum), step=0.1, format="%.2f")
    with c2:
        _schedule(exp)
    _keras_arguments_line(exp, "train.optimizer_options",
                          f"{OPTIMIZER_NAMES[exp.train.optimizer]} also gets")


def _keras_arguments_line(exp: Experiment, path: str, what: str):
    """Keras arguments set in a spec or link (no widget of their own): one line saying them,
    and a button back to Keras's defaults."""
    name = path.split(".", 1)[1]
    value = getattr(exp.train, name)
    if not value:
        return
    c1, c2 = st.columns([4, 1])
    c1.caption(f"{what} {describe_value(path, value)} (from the spec).")
    if c2.button("Keras's defaults", key=f"clear.{path}", help="Forget these arguments."):
        setattr(exp.train, name, None)
        st.rerun()


def _schedule(exp: Experiment):
    current = exp.train.lr_schedule or {}
    kind = session.seeded(st.selectbox, "Learning-rate schedule", "train.lr_schedule.type",
                          current.get("type", "none"), options=("none",) + SCHEDULES,
                          help="Lower the learning rate as training goes on.")
    if kind == "none":
        exp.train.lr_schedule = None
        return
    if current.get("type") != kind:   # a schedule chosen here starts from its defaults
        current = {"type": kind, **SCHEDULE_DEFAULTS[kind]}
    defaults = {**SCHEDULE_DEFAULTS[kind], **current}
    steps = session.seeded(st.number_input, "Decay steps (batches)", f"train.lr_schedule.{kind}.steps",
                           defaults["decay_steps"], min_value=1, step=100)
    chosen = {"decay_steps": int(steps)}
    if "decay_rate" in SCHEDULE_DEFAULTS[kind]:
        chosen["decay_rate"] = session.seeded(
            st.number_input, "Decay rate", f"train.lr_schedule.{kind}.rate",
            float(defaults["decay_rate"]), min_value=0.0, max_value=100.0, step=0.05)
    exp.train.lr_schedule = _kept(current, SCHEDULE_DEFAULTS[kind], **chosen)


def loss_and_metrics(exp: Experiment, info):
    said = notes(exp, info)   # before the widgets keep only the metrics that fit: none goes unsaid
    c1, c2 = st.columns(2)
    fits = list(TASK_LOSSES[info.task])
    head_units = output_units(exp.model, info) or 1
    auto = f"auto ({LOSS_LABELS[auto_loss(info.task, head_units)]})"
    # a loss that does not fit the task stays, and the page says why it cannot train
    options = ["auto"] + fits + [l for l in [exp.train.loss] if l not in fits and l != "auto"]
    with c1:
        session.bound(st.selectbox, "Loss", "train.loss", options=options,
                      format_func=lambda v: auto if v == "auto" else LOSS_LABELS.get(v, v))
    usable = list(task_metrics(info.task, head_units))
    with c2:
        chosen = session.seeded(st.multiselect, "Metrics", "train.metrics",
                                [m for m in exp.train.metrics if m in usable] or usable[:1],
                                options=usable)
        exp.train.metrics = list(chosen) or usable[:1]
    exp.train.metric_options = metric_options_kept(exp.train.metric_options, exp.train.metrics,
                                                   head_units)
    _keras_arguments_line(exp, "train.metric_options", "Metrics set with")
    for note in said:
        st.caption(f"Note: {note}")


REG_KINDS = {"none": "none", "l1": "L1", "l2": "L2", "l1_l2": "L1 and L2"}


def regularization_and_stopping(exp: Experiment):
    c1, c2, c3, c4 = st.columns(4)
    reg = exp.train.regularization or {}
    with c1:
        kind = session.seeded(st.selectbox, "Regularization", "train.regularization.kind",
                              "_".join(k for k in ("l1", "l2") if k in reg) or "none",
                              options=list(REG_KINDS), format_func=REG_KINDS.get,
                              help="A penalty on large weights for every layer that has none "
                                   "of its own: fights overfitting.")
    with c2:
        rates = _penalty_rates(kind, reg)
    exp.train.regularization = rates if kind != "none" and any(rates.values()) else None
    es = exp.train.early_stopping
    with c3:
        on = session.seeded(st.toggle, "Early stopping", "train.early_stopping.on", es is not None,
                            help="Stop when the monitored value has not improved for a while, "
                                 "and go back to the best weights. nnplay's defaults are "
                                 "patience 10 and the best weights restored; Keras's "
                                 "EarlyStopping defaults are patience=0 and "
                                 "restore_best_weights=False, so the exported script writes "
                                 "nnplay's values out.")
    with c4:
        patience = session.seeded(st.number_input, "Patience (epochs)", "train.early_stopping.patience",
                                  {**EARLY_STOPPING_DEFAULTS, **(es or {})}["patience"],
                                  min_value=0, step=5, disabled=not on)
    exp.train.early_stopping = _kept(EARLY_STOPPING_DEFAULTS if es is None else es,
                                     EARLY_STOPPING_DEFAULTS, patience=int(patience)) if on else None


def _penalty_rates(kind: str, reg: dict) -> dict:
    """The rate of each penalty `kind` names ({"l1": a, "l2": b}); one slider per penalty,
    so a link's L1 and L2 keep their own rates."""
    names = ["l1", "l2"] if kind == "l1_l2" else [kind]
    same = max(reg.values(), default=0.0)   # the one rate shown when the kind changes
    cols = st.columns(len(names)) if len(names) > 1 else [st.container()]
    rates = {}
    for col, name in zip(cols, names):
        with col:
            start = reg.get(name, same)
            label = "Regularization rate" if len(names) == 1 else f"{REG_KINDS[name]} rate"
            rates[name] = session.seeded(
                st.select_slider, label, f"train.regularization.{'rate' if len(names) == 1 else name}",
                start, options=_rate_options(start, REG_RATES), disabled=kind == "none")
    return rates


def augmentation_settings(exp: Experiment, info):
    """Image augmentation (flip, rotation, zoom, translation, contrast) and input noise."""
    aug = {**AUGMENTATION_DEFAULTS, **(exp.train.augmentation or {})}
    image = len(info.input_shape) == 3
    st.markdown("**Data augmentation**" + ("" if image else " — input noise (image augmentations "
                                                           "apply to image data)"))
    cols = st.columns(6 if image else 1)
    # image augmentations kept from an image dataset would make the spec invalid on this data
    values = dict(aug) if image else {**aug, **{k: AUGMENTATION_DEFAULTS[k] for k in IMAGE_AUGMENTATIONS}}
    if image:
        with cols[0]:
            values["flip"] = session.seeded(st.selectbox, "Flip", "train.augmentation.flip",
                                            aug["flip"], options=FLIPS)
        for col, (name, hi) in zip(cols[1:5], (("rotation", 0.5), ("zoom", 0.9),
                                               ("translation", 0.5), ("contrast", 1.0))):
            with col:
                values[name] = session.seeded(st.slider, name.capitalize(),
                                              f"train.augmentation.{name}", float(aug[name]),
                                              min_value=0.0, max_value=hi, step=0.05)
    with cols[-1]:
        values["noise"] = session.seeded(st.slider, "Gaussian noise", "train.augmentation.noise",
                                         float(aug["noise"]), min_value=0.0,
                                         max_value=max(1.0, float(aug["noise"])), step=0.05,
                                         help="Noise added to the inputs while training.")
    active = _kept(exp.train.augmentation or {}, AUGMENTATION_DEFAULTS, **values)
    exp.train.augmentation = active or None
    if image and active:
        _augmentation_preview(exp)


def _augmentation_preview(exp: Experiment):
    from nnplay.build import augment_samples
    if not st.toggle("Preview augmented samples", key="augment_preview"):
        return
    data = session.dataset(exp)
    images = augment_samples(exp, data.x_train[:8], copies=3)
    labels = [data.info.class_names[int(y)] if data.info.class_names else str(y)
              for y in data.y_train[:8]] * 3
    chart(plots.image_grid(images, labels, columns=8,
                           title="The same 8 training images, augmented 3 times"), key="augment_grid")


# ---- controls and the live panel ----------------------------------------------------------

def _phase(snap) -> str:
    """What the controls depend on: none, active (queued, building, running, taking turns),
    paused, ended. A queued job has the same controls as a running one, so a class's jobs
    leaving the queue cost no page rerun (the server's one Python process runs them all)."""
    if snap is None:
        return "none"
    if snap.finished:
        return "ended"
    return "paused" if snap.status == "paused" else "active"


def _controls(job, snap, exp: Experiment):
    """Train, Pause/Resume, Step, Stop, Reset and the live learning rate. Drawn in the run
    panel's fragment, outside the polling one: they change only with the job's phase, and the
    polling fragment reruns the page when that changes."""
    phase = _phase(snap)
    active, paused = phase in ("active", "paused"), phase == "paused"
    # one row whose buttons are as wide as their labels (equal columns cut "Step", "Stop"
    # and "Reset" to "S..." at 1280 px); it wraps on a narrow window instead of truncating
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        _buttons(job, exp, active, paused, fresh=paused and snap.epoch == 0)
        _speed(job if active else None, snap)
        if active and not exp.train.lr_schedule:
            _live_learning_rate(job, snap)


def _buttons(job, exp: Experiment, active: bool, paused: bool, fresh: bool):
    """`fresh`: paused at epoch 0 after Reset, so Train starts this job. Callbacks, not
    `if button: ...; st.rerun()`: they act before the page is drawn, so a press costs one
    page run, not two (a class pressing Train together shares one Python process). Train
    reruns the run panel alone; the others redraw the page (its History, its settings)."""
    st.button("Train", icon=":material/play_arrow:", type="primary", disabled=active and not paused,
              on_click=_train, args=(job if fresh else None, exp),
              help="Start training" if fresh or not active else
              "Start again from epoch 0 (Resume continues this run)")
    st.button("Pause" if not paused else "Resume", disabled=not active,
              icon=":material/pause:" if not paused else ":material/play_arrow:",
              on_click=_redrawing(job.resume if paused else getattr(job, "pause", None)))
    st.button("Step", icon=":material/skip_next:", disabled=active and not paused,
              on_click=_redrawing(_step), args=(job if active else None, exp),
              help="Train exactly one more epoch (a new run starts if none is paused)")
    st.button("Stop", icon=":material/stop:", disabled=not active,
              on_click=_redrawing(getattr(job, "stop", None)))
    st.button("Reset", icon=":material/restart_alt:",
              on_click=_redrawing(lambda: session.start_job(exp, paused=True, pace=_pace())),
              help="Back to epoch 0 with the same seed: the same initial weights")


REDRAW_KEY = "nnplay_train_redraw"   # a control other than Train was used: redraw the page


def _redrawing(action):
    """`action` as a button's callback that has the whole page redrawn after it (the run
    panel's fragment reruns alone otherwise)."""
    def act(*args):
        if action is not None:
            action(*args)
        st.session_state[REDRAW_KEY] = True
    return act


# Slow motion: full speed finishes the Playground's 500 epochs in well under a second.
SPEEDS = {"full speed": None, "100 epochs/s": 100, "30 epochs/s": 30, "10 epochs/s": 10,
          "3 epochs/s": 3, "1 epoch/s": 1}


def _pace() -> float | None:
    return SPEEDS[st.session_state.get("train_speed") or _default_speed()]


def _default_speed() -> str:
    """A 2-D toy is watched forming (slots.default_pace); anything else: full speed."""
    pace = slots.default_pace(session.experiment())
    return next((k for k, v in SPEEDS.items() if v == pace), "full speed")


def _train(paused_job, exp: Experiment):
    """Train: a job made by Reset (paused at epoch 0) starts; otherwise a new run."""
    pressed = time.time()
    if paused_job is not None:
        paused_job.resume()
        job = paused_job
    else:
        job = session.start_job(exp, pace=_pace())
    session.note_press(job, pressed)


def _step(paused_job, exp: Experiment):
    """One more epoch of the paused job, or of a new run started paused."""
    job = paused_job or session.start_job(exp, paused=True, pace=_pace())
    before = job.progress()[1]
    job.step()
    _wait_briefly(lambda: job.progress()[1] > before)  # show the new epoch at once


def _wait_briefly(done, seconds: float = 0.5):
    """Give the job a moment (a Step's one epoch) so the rerun shows its result."""
    end = time.perf_counter() + seconds
    while not done() and time.perf_counter() < end:
        time.sleep(0.02)


def _speed(job, snap):
    """How fast training goes; changes a running job at once, and the next ones."""
    if "train_speed" not in st.session_state:
        # Streamlit forgets a widget's value when its page is left: show the job's pace
        st.session_state["train_speed"] = _default_speed() if job is None else next(
            (k for k, v in SPEEDS.items() if v == snap.pace), "full speed")
    st.selectbox("Speed", list(SPEEDS), key="train_speed", label_visibility="collapsed", width=150,
                 help="Slow motion, to watch the decision boundary form epoch by epoch. The "
                      "results are the same at any speed.",
                 on_change=lambda: job is not None and job.set_pace(_pace()))


def _live_learning_rate(job, snap):
    """A learning-rate slider that acts on the running job. It changes the job only when the
    student moves it (on_change), never because a rerun found a different value."""
    if st.session_state.get("live_lr_job") != job.id or "live_lr" not in st.session_state:
        # a new job, or back from another page (Streamlit forgets the slider's value)
        st.session_state["live_lr_job"] = job.id
        st.session_state["live_lr"] = snap.learning_rate or job.exp.train.learning_rate
    st.select_slider("Learning rate (while training)", key="live_lr",
                     options=_rate_options(st.session_state["live_lr"]),
                     label_visibility="collapsed", format_func=lambda r: f"learning rate {r:g}",
                     on_change=lambda: job.set_learning_rate(st.session_state["live_lr"]))


def _format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _about(seconds: float | None) -> str:
    """A wait in round figures: "about 40 s", "about 3 min"; "" when unknown."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"about {max(5, int(round(seconds / 5)) * 5)} s"
    if seconds < 3600:
        return f"about {int(round(seconds / 60))} min"
    return "more than an hour"


def queue_text(snap) -> str:
    """What a queued or building job is waiting for, in words."""
    if snap.warming_up:
        return "Starting TensorFlow…"
    if snap.status == "building":
        return "Building the model…"
    wait = _about(snap.queue_wait)
    place = f"{_ordinal(max(snap.queue_position, 1))} in line" + (f", {wait}" if wait else "")
    if snap.epoch:   # it gave its slot for a turn: other students' runs are starting
        return (f"Epoch {snap.epoch:,} / {snap.epochs:,} · taking turns while other students' "
                f"runs start; yours goes on when its turn comes ({place})")
    return f"Waiting for a training slot: {place}"


def _progress(snap, every: float | None = None, held: bool = False):
    """The progress bar and its line; `every`: the live panel's refresh, said when a busy
    class server slows it, and `held`: the charts wait while other students' runs start
    (in the line, not an element of its own, so that the fragment's elements keep their
    places whatever a frame in flight meant to draw)."""
    text = queue_text(snap) if snap.status in ("queued", "building") else None
    if text is None and snap.status == "running" and snap.epoch == 0:
        text = "Training the first epoch…"
    if text is None and snap.compiling:
        text = (f"Epoch {snap.epoch:,} / {snap.epochs:,} · compiling the training step with XLA "
                f"(a long run's first second or two; it then runs faster)")
    if text is None:
        measured = snap.status == "running" and snap.samples_per_sec > 0
        left = f"{_format_seconds(snap.eta)} left · " if measured else ""
        speed = f"{snap.samples_per_sec:,.0f} samples/s · " if measured else ""
        text = f"Epoch {snap.epoch:,} / {snap.epochs:,} · {speed}{left}{snap.status.replace('_', ' ')}"
        if held:
            text += (" · other students' runs are starting: this one crawls and the charts "
                     "catch up once theirs show their first points")
        elif every and every > slots.frame_seconds(config.hosted(), live=0):   # an idle server's
            text += f" · many runs share this server: the charts refresh every {every:.1f} s"
    st.progress(min(snap.epoch / max(snap.epochs, 1), 1.0), text=text)


def _figure(name: str, version: tuple, compute, held: bool = False):
    """The live figure `name` for `version` (its job's id first), made once per version; while
    `held`, the one this page drew last for the same job, whatever epoch the job is at."""
    kept = st.session_state.get("live_figures", {})
    if held and name in kept and kept[name][0][0] == version[0]:
        return kept[name][1]
    return session.remembered("live_figures", name, version, compute)


def _curves(job, snap, held: bool = False, report: str | None = None):
    metrics = ["loss"] + [m for m in [plots.main_metric(snap.history)] if m]
    # Redrawn only when the job moved: a paused job polled once a second (a class of them on
    # one server) costs a lookup; a moving one updates its figure's points in place.
    layout = plots.curves_layout(snap.history, metrics, snap.best_epoch)
    base = session.remembered("live_figures", "curves_layout", (job.id, layout), lambda: (
        plots.learning_curves(snap.history, metrics, best_epoch=snap.best_epoch)))
    fig = _figure("curves", (job.id, snap.epoch, snap.best_epoch), lambda: (
        plots.refresh_curves(base, snap.history, metrics, snap.best_epoch)), held)
    chart(fig, key="curves", report_drawn=report)


FIRST_POINT_ROUTE = "first-point"


def _first_point_report(job) -> str:
    """Where the browser says it drew the run's first point: the curves carry it on a hosted
    server (the class's other runs wait for it: JobManager.first_points_pending) until it
    has said so."""
    return f"_nnplay/{FIRST_POINT_ROUTE}/{job.id}"


def first_point_routes() -> list:
    """The app's route the Train page's curves report their first point drawn to
    (`_first_point_report`). An unknown id is ignored: knowing another student's job id
    would let a page say that student's point drawn, which only ends the class's wait
    for it sooner, as FIRST_POINT_SEEN_MAX_S does."""
    from nnplay.jobapi import manager
    from nnplay.ui.chart import drawn_route

    def drawn(job_id: str):
        job = manager().get(job_id)
        if job is not None and not job.first_point_seen:
            job.first_point_drawn()
            log.info("first point of job %s drawn by its browser %.2f s after the job was made",
                     job.id, time.time() - job.created)
    return drawn_route(FIRST_POINT_ROUTE, drawn)


def _data(job):
    """The job's data: its own while it trains, else the session's cached load of its data
    (a finished job lets its data go once its run is saved); None if it cannot be loaded."""
    if job.dataset is not None:
        return job.dataset
    from nnplay.data import DataError
    try:
        return session.dataset(job.exp)
    except DataError:   # a removed upload: the curves still draw, without the boundary
        return None


def _boundary(job, snap, held: bool = False):
    data = _data(job)
    if data is None or data.raw_train is None or snap.grid is None:
        return
    title = f"Decision boundary after epoch {snap.grid_epoch:,}"
    # The points are drawn once per job; each new grid only repaints the picture under them.
    base = session.remembered("live_figures", "boundary_points", (job.id,), lambda: (
        plots.data_scatter(data.raw_train, data.y_train, data.raw_val, data.y_val,
                           data.info.task, grid=snap.grid, bounds=data.grid_bounds, title=title,
                           picture=True)))
    fig = _figure("boundary", (job.id, snap.grid_version), lambda: (
        plots.redraw_grid(base, snap.grid, data.info.task, title)), held)
    chart(fig, key="boundary")


def _outcome(snap):
    if snap.status == "failed":
        st.error(f"Training failed: {snap.message}")
        return
    st.success(f"**{snap.status.replace('_', ' ').capitalize()}** — {snap.message}. "
               f"Best epoch: {snap.best_epoch}.")
    shown = [(k, v) for k, v in snap.final.items()]
    cols = st.columns(min(len(shown), 6) or 1)
    for i, (name, value) in enumerate(shown):
        cols[i % len(cols)].metric(name.replace("_", " "), f"{value:.4g}")


def _log_first_point(job, snap):
    """The server's log says, once per run, how long its student waited from pressing Train
    to the frame with the first point: a host's figure for a class (the soak reads it, apart
    from how long its own browsers, on the server's cores, took to draw it). Said as the
    curves with the point go out, just before them: Streamlit sends each element as it is
    drawn, and a quick browser drew the point before a line logged after the charts."""
    pressed = session.take_press(job) if snap.epoch else None
    if pressed is not None:
        log.info("first point of job %s sent %.2f s after Train was pressed",
                 job.id, time.time() - pressed)


def _live(job, drawn_phase: str):
    """The polled part: progress, curves, decision boundary, and the outcome at the end."""
    snap = job.snapshot()
    if _phase(snap) != drawn_phase:
        st.rerun()  # paused, resumed or ended (here or in another tab): redraw the controls
    active = drawn_phase == "active"
    job.shown(snap.epoch)   # a class's burst: the server waits for it (first_points_pending)
    # While other students wait for their first points, a page that has sent its own keeps
    # its charts as they are (its frames cost the class's browsers ~0.2 s of CPU each, a
    # frame with the progress line alone a third of that) and draws one frame in
    # STARTING_FRAME_S; a hosted page keeps the first point's charts until its browser says
    # it drew them too (a busy browser sent new charts every frame fell further behind: 34 s
    # in the soak).
    sent = snap.epoch > 0
    unsaid = config.hosted() and not job.first_point_seen   # its browser has yet to say
    starting = active and _others_starting(job, sent)
    held = starting or (active and unsaid)
    _progress(snap, _refresh(drawn_phase, job, sent) if active else None, starting)
    if active and not sent:
        # nothing to draw yet: a class waiting in the queue polls cheaply (and the charts a
        # page keeps for a class's burst always have the first point)
        return
    _log_first_point(job, snap)   # the curves with it are the next thing sent
    report = _first_point_report(job) if sent and unsaid else None
    data = _data(job)
    if data is not None and data.raw_train is not None:
        left, right = st.columns([3, 2])
        with left:
            _curves(job, snap, held, report)
        with right:
            _boundary(job, snap, held)
    else:
        _curves(job, snap, held, report)
    if snap.finished:
        _outcome(snap)


def _poll_seconds(phase: str, job, sent: bool) -> float | None:
    """Seconds between refreshes of the live panel: a frame while active (four a second on a
    laptop, two hosted, fewer when many runs share the server, fewer still once `sent` (the
    page has had its run's first point) while other students are still waiting for theirs:
    slots.frame_seconds; a queued job's poll draws only its place in line); once a second
    while paused (only to notice a Resume from another tab); not at all once ended."""
    if phase == "active":
        from nnplay.jobapi import manager
        return slots.frame_seconds(config.hosted(), len(manager().active()),
                                   _others_starting(job, sent))
    return None if phase == "ended" else 1.0


def _others_starting(job, sent: bool) -> bool:
    """Whether this page has had its run's first point (`sent`) while other students' runs
    are still on their way to theirs (JobManager.first_points_pending; never on a laptop):
    the page then keeps its charts and draws one frame in STARTING_FRAME_S, whether or not
    its own browser has drawn the point yet (a page still waiting for its point polls at
    the class's frame rate, not to delay it)."""
    from nnplay.jobapi import manager
    return sent and config.hosted() and manager().first_points_pending(job)


def _refresh(phase: str, job, sent: bool) -> float | None:
    """The live panel's refresh, kept to the server's load as runs start and end: a fragment's
    `run_every` is fixed when the page draws, so a class's first pressers would otherwise keep
    an idle server's two frames a second through the burst of presses that follows (the
    server, and the class's browsers, drawing more frames than FRAMES_PER_S allows)."""
    current, wanted = st.session_state.get(REFRESH_KEY), _poll_seconds(phase, job, sent)
    if current and wanted and abs(wanted - current) >= RETIME_S and _retime_fragment(wanted):
        st.session_state[REFRESH_KEY] = current = wanted
    return current


def _retime_fragment(seconds: float) -> str | None:
    """Have the browser rerun the running fragment every `seconds` from now on: the message
    `st.fragment(run_every=...)` sends when drawn (Streamlit's frontend replaces a fragment's
    timer when its interval changes). Streamlit has no public call for it; the pinned version's
    internals, checked by tests/test_live_refresh.py. The fragment's id, or None outside one."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.runtime.scriptrunner_utils.script_run_context import (ThreadState,
                                                                          get_script_run_ctx)
    ctx, fragment_id = get_script_run_ctx(), ThreadState.get().fragment_id
    if ctx is None or not fragment_id:
        return None
    msg = ForwardMsg()
    msg.auto_rerun.interval, msg.auto_rerun.fragment_id = seconds, fragment_id
    ctx.enqueue(msg)
    return fragment_id


# The live progress bar jumps to each frame's width: Streamlit eases it there, an animation
# that ran until the next frame and cost a student's browser ~45 ms of CPU a frame (measured
# in headless Chromium: a third of a frame of this page without its charts; a class's
# browsers drawing their first points on one machine, as in the soak, wait for it).
STILL_PROGRESS_CSS = '<style>[data-testid="stProgress"] * { transition: none !important; }</style>'


def live_panel(exp: Experiment, info):
    """The run panel: the controls and the live part. Drawn as a fragment (views/train.py),
    so that pressing Train redraws only it: a whole Train page drawn again cost a student's
    browser ~0.4 s of CPU, a class pressing Train together on one machine (the soak) 16 of
    them. Any other control redraws the page (_redrawing)."""
    if st.session_state.pop(REDRAW_KEY, False):
        st.rerun()
    job = session.current_job()
    snap = job.snapshot() if job is not None else None
    _controls(job, snap, exp)
    st.html(STILL_PROGRESS_CSS)   # style only: no room taken in the page
    if job is None:
        # In a container: the live panel's place is then a block before Train as after it
        # (the fragment), never an element turned into a block. Under a class's load a
        # fragment's late frame could otherwise land on the element and break the page in
        # Streamlit's frontend ("'setIn' cannot be called on an ElementNode", seen in 2 of 6
        # bursts of 16 students).
        st.container().info("Press **Train** to start. The curves and the decision boundary "
                            "appear as the model learns; you can switch pages while it trains.")
        return
    phase = _phase(snap)
    every = st.session_state[REFRESH_KEY] = _poll_seconds(phase, job, snap.epoch > 0)
    session.live_fragment(_live, run_every=every)(job, phase)


# ---- history of runs ------------------------------------------------------------------------

def history_panel():
    """Every run kept in the store (in hosted mode, this workspace's): reopen (the
    experiment becomes the current one), continue from its saved weights, rename, delete."""
    from nnplay.jobapi import manager
    store = session.store()
    runs = session.my_runs()
    with st.expander(f"History — {len(runs)} run{'s' if len(runs) != 1 else ''} kept", expanded=False):
        if not runs:
            st.caption("Runs appear here as soon as they start, and stay after a restart.")
            return
        for run in runs[:30]:
            _history_row(store, run, manager().get(run.job_id))
        st.page_link("views/compare.py", label="Compare runs", icon=":material/stacked_line_chart:")


def _history_row(store, run, live_job):
    final = ", ".join(f"{k} {v:.3f}" for k, v in list(run.final.items())[:2])
    c = st.columns([4, 2, 1, 1, 1, 1])
    c[0].markdown(f"**{run.name}**  \n{run.status.replace('_', ' ')} · {run.epochs} epochs"
                  + (f" · {final}" if final else ""))
    new_name = c[1].text_input("Name", run.name, key=f"rename_{run.id}", label_visibility="collapsed")
    if new_name.strip() and new_name != run.name:
        _change(store.rename, run.id, new_name.strip())
    if c[2].button("Open", key=f"open_{run.id}", disabled=run.spec is None,
                   help="Make this run's experiment the current one"):
        session.set_experiment(run.spec.copy())
        if live_job is not None and live_job.alive:
            session.follow_job(live_job.id)
        st.rerun()
    path = store.model_path(run.id)
    if c[3].button("Continue", key=f"continue_{run.id}", disabled=path is None or run.spec is None,
                   help="Train again starting from this run's saved weights"):
        session.set_experiment(run.spec.copy())
        session.start_job(run.spec, initial_weights=str(path), name=f"{run.name} (continued)")
        st.rerun()
    if path is not None:
        c[4].download_button("Model", path.read_bytes, file_name=f"{run.id}.keras",
                             key=f"dl_{run.id}", help="Download the trained model (.keras)")
    if c[5].button("Delete", key=f"delete_{run.id}", disabled=run.active):
        _change(store.delete, run.id)


def _change(action, run_id, *args):
    """Rename or delete, as this workspace: another workspace's run is refused."""
    from nnplay.store import RunAccessError
    try:
        action(run_id, *args, workspace=session.workspace())
    except (RunAccessError, KeyError) as e:
        st.error(f"That run cannot be changed: {e.args[0]}")
        return
    st.rerun()

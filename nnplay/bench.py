"""`python -m nnplay bench`: the engine against plain `model.fit(verbose=0)`, as ratios.

Both sides run in the same process, on the same model and the same data, one after the
other, so the ratio holds on whatever machine runs it.
"""
from __future__ import annotations

import time

import numpy as np

from .spec import Experiment

TOY_EPOCHS = 1500
FIT_TOY_EPOCHS = 30


def _toy_experiment(epochs: int) -> Experiment:
    exp = Experiment()  # TensorFlow Playground's default: circle, 2 -> 4 -> 2 -> 1, tanh, SGD 0.03
    exp.data.samples, exp.data.validation_split = 500, 0.5
    exp.train.epochs = epochs
    return exp


def _fit_rate(exp: Experiment, dataset, epochs: int, per_sample: bool = False) -> float:
    """Epochs (or samples) per second of model.fit on a fresh model, after a warm-up epoch."""
    from .build import build
    built = build(exp, dataset.info)
    model = built.model
    model.compile(optimizer=built.optimizer, loss=built.loss, metrics=built.metrics)
    val = (dataset.x_val, dataset.y_val) if len(dataset.x_val) else None
    fit = dict(batch_size=exp.train.batch_size, verbose=0, validation_data=val, shuffle=True)
    model.fit(dataset.x_train, dataset.y_train, epochs=1, **fit)
    t0 = time.perf_counter()
    model.fit(dataset.x_train, dataset.y_train, epochs=epochs, **fit)
    rate = epochs / (time.perf_counter() - t0)
    return rate * len(dataset.x_train) if per_sample else rate


def _job_rate(exp: Experiment, dataset, start=None) -> tuple[float, float, float]:
    """Steady epochs/s of a TrainingJob (grid and weight stats on), the decision grid's
    refresh rate, and the seconds from start to the first epoch's metrics. `start()`: how
    the job starts (default: a TrainingJob thread here)."""
    from .job import TrainingJob
    t0 = time.perf_counter()
    job = start() if start else TrainingJob(exp, dataset).start()
    first = None
    marks = []
    grids = set()
    while job.alive:
        s = job.snapshot()
        now = time.perf_counter()
        if first is None and s.epoch >= 1:
            first = now - t0
        if s.epoch >= 100:  # past tracing and compilation
            marks.append((now, s.epoch))
            grids.add(s.grid_epoch)
        time.sleep(0.01)
    (ta, ea), (tb, eb) = marks[0], marks[-1]
    return (eb - ea) / (tb - ta), len(grids) / (tb - ta), first


def _browser_rates() -> dict:
    """Epochs/s with the Train page open in Chromium against a real server and without, on
    one job: with Chromium on the training's cores, and on a core of its own. {} without
    Chromium."""
    try:
        from .tools.page_bench import browser_polled_rate
    except ImportError:
        return {}
    exp = _toy_experiment(100_000)  # the most epochs a spec allows; twice the samples, so
    exp.data.samples = 1000         # it outlasts the windows
    rates = {"same_cores": browser_polled_rate(exp), "own_core": browser_polled_rate(exp, own_core=True)}
    return {k: v for k, v in rates.items() if v}


def _mlp_dataset(n: int = 60_000, seed: int = 0):
    from .data import Dataset, DatasetInfo
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 784)).astype(np.float32)
    y = (x[:, :10] @ rng.normal(size=(10, 10))).argmax(1).astype(np.int32)
    info = DatasetInfo("synthetic-mnist", "table", "multiclass", (784,), 10)
    empty = x[:0], y[:0]
    return Dataset(info, x, y, *empty, *empty)


def _mlp_experiment() -> Experiment:
    return Experiment.from_dict({
        "model": {"layers": [{"type": "Dense", "units": 128, "activation": "relu"},
                             {"type": "Dropout", "rate": 0.2}]},
        "train": {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 128, "epochs": 3}})


def _engine_samples_rate(exp: Experiment, dataset, epochs: int = 2) -> float:
    from .build import build
    from .engine import Engine
    engine = Engine(build(exp, dataset.info), dataset, exp.train)
    engine.run_epoch()  # eager first steps, tracing and compilation
    engine.run_epoch()
    t0 = time.perf_counter()
    for _ in range(epochs - 1):
        engine.run_epoch()
    return (epochs - 1) * len(dataset.x_train) / (time.perf_counter() - t0)


def run_bench(verbose: bool = True) -> dict:
    from .data import load
    say = print if verbose else (lambda *a, **k: None)
    toy_data = load(_toy_experiment(1).data)
    say("toy: TensorFlow Playground default (circle 250/250, 2-4-2-1 tanh, SGD 0.03, batch 10)")
    fit_eps = _fit_rate(_toy_experiment(FIT_TOY_EPOCHS), toy_data, FIT_TOY_EPOCHS)
    job_eps, grids_per_s, first = _job_rate(_toy_experiment(TOY_EPOCHS), toy_data)
    say(f"  model.fit      {fit_eps:8.1f} epochs/s")
    say(f"  nnplay job     {job_eps:8.1f} epochs/s  (decision grid {grids_per_s:.1f}/s)   "
        f"ratio {job_eps / fit_eps:.1f}x")
    say(f"  first epoch's metrics after {first:.2f} s")
    on_ray = _ray_figures(_toy_experiment(TOY_EPOCHS), toy_data)
    if on_ray:
        say(f"  on Ray         {on_ray['nnplay']:8.1f} epochs/s  (decision grid "
            f"{on_ray['grid_per_s']:.1f}/s)   {on_ray['nnplay'] / job_eps:.2f}x the thread's; "
            f"first epoch after {on_ray['first_point_s']:.2f} s, poll round trip "
            f"{on_ray['poll_ms']:.1f} ms (median)")
    say("  one job, the Train page polling 4x/s against nobody watching, in alternating windows:")
    in_browser = _browser_rates()
    for key, label in (("own_core", "real server, Chromium on its own core"),
                       ("same_cores", "real server, Chromium on the same cores")):
        if key in in_browser:
            watched, unwatched = in_browser[key]
            say(f"  {label:40s} {watched:8.1f} against {unwatched:8.1f} epochs/s   "
                f"{watched / unwatched:.2f}x")
    say("mlp: 60,000 x 784 -> 128 relu -> dropout 0.2 -> 10 softmax, Adam, batch 128")
    mlp_data, mlp_exp = _mlp_dataset(), _mlp_experiment()
    fit_sps = _fit_rate(mlp_exp, mlp_data, 2, per_sample=True)
    eng_sps = _engine_samples_rate(mlp_exp, mlp_data, 3)
    say(f"  model.fit      {fit_sps:10.0f} samples/s")
    say(f"  nnplay engine  {eng_sps:10.0f} samples/s   ratio {eng_sps / fit_sps:.2f}x")
    return {"toy": {"nnplay": round(job_eps, 1), "fit": round(fit_eps, 2),
                    "ratio": round(job_eps / fit_eps, 1), "grid_per_s": round(grids_per_s, 1)},
            "mlp": {"nnplay": round(eng_sps), "fit": round(fit_sps),
                    "ratio": round(eng_sps / fit_sps, 2)},
            "first_point_s": round(first, 3),
            **({"ray": on_ray} if on_ray else {}),
            **({"browser_polling": {k: _pair(v) for k, v in in_browser.items()}} if in_browser else {})}


def _pair(rates: tuple[float, float]) -> dict:
    watched, unwatched = rates
    return {"watched": round(watched, 1), "unwatched": round(unwatched, 1),
            "ratio": round(watched / unwatched, 2)}


def _ray_figures(exp: Experiment, dataset) -> dict | None:
    """The same toy job on the Ray backend (a local Ray unless NNPLAY_RAY_ADDRESS names a
    cluster), its host actor warm: epochs/s, grid refreshes/s, first epoch's metrics, and
    the median round trip of one poll (a pull and its merge) while a watched job trains.
    None where Ray is not installed."""
    import importlib.util
    if importlib.util.find_spec("ray") is None:
        return None
    import statistics
    from .ray_backend import ray_manager
    manager = ray_manager()
    manager.cluster.wait_ready(120)
    eps, grids_per_s, first = _job_rate(exp, dataset, start=lambda: manager.submit(exp, dataset))
    paced = exp.copy()
    paced.train.epochs = 100_000
    job = manager.submit(paced, dataset, pace=20)
    while job.snapshot().epoch < 1 and job.alive:
        time.sleep(0.05)
    trips = []
    for _ in range(40):
        job.snapshot()                  # a page is looking: the grid travels too
        t0 = time.perf_counter()
        manager.cluster.poll()
        trips.append(time.perf_counter() - t0)
        time.sleep(0.05)
    job.stop()
    job.wait(60)
    from .ray_backend import reset_manager
    reset_manager()                     # the rest of the bench runs without Ray's processes
    import ray
    ray.shutdown()
    return {"nnplay": round(eps, 1), "grid_per_s": round(grids_per_s, 1),
            "first_point_s": round(first, 3), "poll_ms": round(statistics.median(trips) * 1e3, 1)}

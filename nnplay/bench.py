"""`python -m nnplay bench`: the engine against plain `model.fit(verbose=0)`, as ratios.

Both sides run in the same process, on the same model and the same data. For the MLP and
the CNN they take turns (engine, fit, engine, fit, ...), each turn timing the same number
of epochs on a model already past tracing, and the figure is the median of the per-pair
ratios with their spread: the machine's speed drifts by half within a minute (other load,
the CPU's clock), and a pair measured back to back shares the drift, so the ratio holds
where one measurement of each side does not.
"""
from __future__ import annotations

import statistics
import time
from typing import Callable

import numpy as np

from .spec import Experiment

TOY_EPOCHS = 1500
FIT_TOY_EPOCHS = 30


def _toy_experiment(epochs: int) -> Experiment:
    exp = Experiment()  # TensorFlow Playground's default: circle, 2 -> 4 -> 2 -> 1, tanh, SGD 0.03
    exp.data.samples, exp.data.validation_split = 500, 0.5
    exp.train.epochs = epochs
    return exp


def _fit_rate(exp: Experiment, dataset, epochs: int) -> float:
    """Epochs per second of model.fit on a fresh model, after a warm-up epoch."""
    return epochs / _fit_turn(exp, dataset)(epochs)


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


PAIRS = 7             # engine/fit pairs per case
MLP_SAMPLES = 60_000
CNN_EPOCHS_PER_TURN = 10   # digits' 898 training images make a short epoch


def _engine_turn(exp: Experiment, dataset, warmup: int = 2) -> Callable[[int], float]:
    """A TrainingJob's engine, past its eager first epoch and compilation: the returned
    function trains n more epochs and gives the seconds they took."""
    from .build import build
    from .engine import Engine
    engine = Engine(build(exp, dataset.info), dataset, exp.train)
    for _ in range(warmup):
        engine.run_epoch()

    def turn(n: int) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            engine.run_epoch()
        return time.perf_counter() - t0
    return turn


def _fit_turn(exp: Experiment, dataset) -> Callable[[int], float]:
    """Plain Keras on the same model and data: compiled, one warm-up epoch; the returned
    function runs model.fit for n epochs and gives the seconds."""
    from .build import build
    built = build(exp, dataset.info)
    model = built.model
    model.compile(optimizer=built.optimizer, loss=built.loss, metrics=built.metrics)
    val = (dataset.x_val, dataset.y_val) if len(dataset.x_val) else None
    fit = dict(batch_size=exp.train.batch_size, verbose=0, validation_data=val, shuffle=True)
    model.fit(dataset.x_train, dataset.y_train, epochs=1, **fit)

    def turn(n: int) -> float:
        t0 = time.perf_counter()
        model.fit(dataset.x_train, dataset.y_train, epochs=n, **fit)
        return time.perf_counter() - t0
    return turn


def interleaved(engine: Callable[[int], float], fit: Callable[[int], float], pairs: int,
                epochs: int, per_epoch: int) -> dict:
    """`pairs` turns of each side, alternating (engine, fit, engine, fit, ...), `epochs`
    epochs a turn. Rates are `per_epoch` units (samples) per second; the ratio is the
    median of the per-pair ratios, with their min, max and quartiles."""
    ratios, engine_rates, fit_rates = [], [], []
    for _ in range(pairs):
        e = epochs * per_epoch / engine(epochs)
        f = epochs * per_epoch / fit(epochs)
        engine_rates.append(e)
        fit_rates.append(f)
        ratios.append(e / f)
    q1, _, q3 = statistics.quantiles(ratios, n=4, method="inclusive") if pairs > 1 else ratios * 3
    return {"nnplay": round(statistics.median(engine_rates)), "fit": round(statistics.median(fit_rates)),
            "ratio": round(statistics.median(ratios), 2), "ratio_min": round(min(ratios), 2),
            "ratio_max": round(max(ratios), 2), "ratio_iqr": [round(q1, 2), round(q3, 2)],
            "pairs": pairs}


def _mlp_case(samples: int, pairs: int) -> dict:
    data, exp = _mlp_dataset(samples), _mlp_experiment()
    exp.train.epochs = 2 + pairs + 1
    return interleaved(_engine_turn(exp, data), _fit_turn(exp, data), pairs, 1, len(data.x_train))


def _cnn_experiment() -> Experiment:
    from .presets import apply_preset
    exp, _ = apply_preset(Experiment(), "cnn")
    return exp


def _cnn_case(pairs: int, epochs_per_turn: int = CNN_EPOCHS_PER_TURN) -> dict:
    from .data import load
    exp = _cnn_experiment()
    exp.train.epochs = 2 + pairs * epochs_per_turn + 1
    data = load(exp.data)
    return interleaved(_engine_turn(exp, data), _fit_turn(exp, data), pairs, epochs_per_turn,
                       len(data.x_train))


def _say_case(say, case: dict):
    say(f"  model.fit      {case['fit']:10,} samples/s   (median of {case['pairs']} turns)")
    say(f"  nnplay engine  {case['nnplay']:10,} samples/s   ratio {case['ratio']:.2f}x median "
        f"of {case['pairs']} interleaved pairs (IQR {case['ratio_iqr'][0]:.2f}–"
        f"{case['ratio_iqr'][1]:.2f}, min–max {case['ratio_min']:.2f}–{case['ratio_max']:.2f})")


def run_bench(verbose: bool = True, pairs: int = PAIRS, mlp_samples: int = MLP_SAMPLES,
              cnn_epochs: int = CNN_EPOCHS_PER_TURN, toy: bool = True, browser: bool = True,
              cold_start: bool = False) -> dict:
    """Every figure; `toy` (with Ray, when installed) and `browser` (the page-polling lines)
    can be left out, and the sizes made small, for a quick check; `cold_start` adds a fresh
    server's first point in Chromium."""
    say = print if verbose else (lambda *a, **k: None)
    out = {}
    if toy:
        out.update(_toy_figures(say))
    if browser:
        in_browser = _browser_rates()
        say("  one job, the Train page polling 4x/s against nobody watching, in alternating windows:")
        for key, label in (("own_core", "real server, Chromium on its own core"),
                           ("same_cores", "real server, Chromium on the same cores")):
            if key in in_browser:
                watched, unwatched = in_browser[key]
                say(f"  {label:40s} {watched:8.1f} against {unwatched:8.1f} epochs/s   "
                    f"{watched / unwatched:.2f}x")
        if in_browser:
            out["browser_polling"] = {k: _pair(v) for k, v in in_browser.items()}
    say(f"mlp: {mlp_samples:,} x 784 -> 128 relu -> dropout 0.2 -> 10 softmax, Adam, batch 128")
    out["mlp"] = _mlp_case(mlp_samples, pairs)
    _say_case(say, out["mlp"])
    say(f"cnn: digits 8x8, the 'Small CNN' preset (898 training images; Conv 16 -> pool -> "
        f"Conv 32 -> pool -> Dense 64, Adam, batch 32), {cnn_epochs} epochs a turn")
    out["cnn"] = _cnn_case(pairs, cnn_epochs)
    _say_case(say, out["cnn"])
    if cold_start:
        from .tools.page_bench import cold_start as measure
        cold = measure()
        if cold:
            say(f"cold start: server up {cold['server_up_s']:.1f} s, Train page drawn "
                f"{cold['page_drawn_s']:.1f} s, Train -> first point {cold['train_to_first_point_s']:.1f} s "
                f"(server start -> first point {cold['total_s']:.1f} s)")
            out["cold_start"] = cold
    return out


def _toy_figures(say) -> dict:
    from .data import load
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
    return {"toy": {"nnplay": round(job_eps, 1), "fit": round(fit_eps, 2),
                    "ratio": round(job_eps / fit_eps, 1), "grid_per_s": round(grids_per_s, 1)},
            "first_point_s": round(first, 3), **({"ray": on_ray} if on_ray else {})}


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

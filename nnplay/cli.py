"""python -m nnplay summary | check | train | export | bench | datasets | bring

`--json` prints one JSON object as the last line. Bad input exits non-zero with a one-line
reason on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter off stdout

from . import uploads  # noqa: E402
from .spec import Experiment, SpecError, parse_json, reading_notes, require_uploaded_files  # noqa: E402


MAX_SPEC_BYTES = 1024 * 1024


class CliError(Exception):
    """A one-line reason for a non-zero exit."""


def read_spec(path: str) -> tuple[Experiment, list[str]]:
    """The spec in the file at `path`, and the notes on how it was read (said once the spec
    is known to be sound: a refusal stays one line)."""
    p = Path(path)
    if not p.is_file():
        raise CliError(f"no spec file at {path}")
    try:
        with open(p, "rb") as f:
            data = f.read(MAX_SPEC_BYTES + 1)   # a spec is a few KB; never read a huge file whole
        if len(data) > MAX_SPEC_BYTES:
            raise CliError(f"{path} is larger than {MAX_SPEC_BYTES // 1024} KB: it is not an "
                           "nnplay spec (those are a few KB of JSON)")
        raw = parse_json(data)
        exp = Experiment.from_dict(raw)
    except OSError as e:
        raise CliError(f"cannot read {path}: {e.strerror or e}") from None
    except SpecError as e:
        raise CliError(f"{path}: {e}") from None
    # On a laptop the person typing the command owns the files a spec names.
    exp = exp if uploads.local_paths_allowed() else require_uploaded_files(exp)
    return exp, reading_notes(raw)


def say_notes(notes: list[str]) -> None:
    """Unusual but legal choices, one line each on stderr: the command goes ahead."""
    for note in notes:
        print(f"nnplay: note: {note}", file=sys.stderr)


def _dataset_info(exp: Experiment, read_notes: list[str]):
    """The data's shape and task, once the spec alone is known to be sound: describe() and
    info_from_shape() trust the fields they read. Notes on the spec are said here."""
    from .build import info_from_shape
    from .data import describe, stand_in_note
    from .spec import check, notes
    check(exp)
    if exp.data.dataset is None:   # a model only: its input_shape stands for the data
        info = info_from_shape(exp)
    else:
        note = stand_in_note(exp.data.dataset)
        if note:   # stderr: --json's last line stays the JSON
            print(note, file=sys.stderr)
        info = describe(exp.data)   # a model's own input_shape is checked against it
    say_notes(read_notes + notes(check(exp, info), info))   # notes read a spec known to be sound
    return info


def cmd_summary(args) -> dict:
    from .build import build, summary, summary_text
    exp, read_notes = read_spec(args.spec)
    built = build(exp, _dataset_info(exp, read_notes))
    if not args.json:
        print(summary_text(built.model))
    return summary(built.model)


def _progress(job, total: int, quiet: bool):
    """Follow a job with a tqdm bar on stderr until it ends."""
    from tqdm import tqdm
    bar = tqdm(total=total, unit="epoch", disable=quiet, file=sys.stderr, dynamic_ncols=True)
    while True:
        s = job.snapshot()
        bar.update(s.epoch - bar.n)
        shown = {k: f"{v[-1]:.4g}" for k, v in s.history.items() if v}
        if shown:
            bar.set_postfix(shown, refresh=False)
        if s.finished:
            break
        time.sleep(0.1)
    bar.close()
    return s


def _save_run(job, snap, directory: str):
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    (out / "spec.json").write_text(job.exp.to_json())
    (out / "history.json").write_text(json.dumps(snap.history))
    model = job.model()
    if model is not None:
        model.save(out / "model.keras")


def cmd_train(args) -> dict:
    from .data import load
    from .job import TrainingJob
    exp, read_notes = read_spec(args.spec)
    if args.epochs is not None:
        exp.train.epochs = args.epochs
    from .spec import check
    check(exp, _dataset_info(exp, read_notes))
    if exp.data.dataset is None:
        from .data import model_only_error
        raise model_only_error(exp)
    dataset = load(exp.data)
    from .jobapi import backend, manager
    # On a laptop the CLI trains in a thread of its own, queueing for nothing; on Ray the
    # job goes through the Ray backend's queue like a page's.
    job = manager().submit(exp, dataset) if backend() == "ray" else TrainingJob(exp, dataset).start()
    snap = _progress(job, exp.train.epochs, quiet=args.json and not sys.stderr.isatty())
    if snap.status == "failed":
        raise CliError(f"training failed: {snap.message}")
    if args.save:
        _save_run(job, snap, args.save)
    result = {"epochs": snap.epoch, "seconds": round(snap.elapsed, 3), "stopped": snap.status,
              "final": snap.final, "history": snap.history, "backend": backend()}
    if not args.json:
        finals = ", ".join(f"{k} {v:.4f}" for k, v in snap.final.items())
        print(f"{snap.message} in {snap.elapsed:.1f} s: {finals}")
    return result


def cmd_export(args):
    from .codegen import export_script
    exp, read_notes = read_spec(args.spec)
    from .spec import check
    check(exp, _dataset_info(exp, read_notes))
    sys.stdout.write(export_script(exp))


def cmd_check(args) -> dict:
    """The spec against its data (shapes, task, limits) without building or training."""
    exp, read_notes = read_spec(args.spec)
    info = _dataset_info(exp, read_notes)
    from .spec import check
    check(exp, info)
    model_only = exp.data.dataset is None
    result = {"ok": True, "dataset": exp.data.dataset, "input_shape": list(info.input_shape),
              "task": info.task, "model_only": model_only}
    if not args.json:
        what = exp.data.dataset or "a model only (no data)"
        print(f"ok: {what}, input shape {list(info.input_shape)}, {info.task}")
        if model_only:
            from .data import data_for_shape
            text = bool(exp.model.layers) and exp.model.layers[0].get("type") == "Embedding"
            print("summary and export work; train needs data, e.g. "
                  + data_for_shape(info.input_shape, text))
    return result


def _positive(text: str) -> int:
    """A whole number of at least 1, for argparse: a clear message otherwise."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def cmd_bench(args) -> dict:
    from .bench import run_bench
    return run_bench(verbose=not args.json, pairs=args.pairs, mlp_samples=args.mlp_samples,
                     cnn_epochs=args.cnn_epochs, toy=not args.no_toy,
                     browser=not args.no_browser, cold_start=args.cold_start)


def cmd_soak(args) -> dict:
    from .tools.soak import report_dict, run_soak
    try:
        report = run_soak(sessions=args.sessions, minutes=args.minutes)
    except RuntimeError as e:
        raise CliError(str(e)) from None
    if not args.json:
        print("\n".join(report.lines()))
    return report_dict(report)


def cmd_datasets(args) -> dict:
    from .data import datasets_table
    rows = datasets_table()
    if not args.json:
        width = max(len(r["name"]) for r in rows) + 2
        for r in rows:
            where = "offline" if r["offline"] else "needs a download (not in the Keras cache)"
            print(f"{r['name'].ljust(width)}{r['kind']:<10}{r['task']:<12}{where}")
    return {"datasets": rows}


def cmd_bring(args) -> dict:
    from .data import bring_keras_files, dataset_for_files, read_local_files
    files = read_local_files(args.files)
    message = bring_keras_files(dataset_for_files(list(files)), files)
    if not args.json:
        print(message)
    return {"message": message}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m nnplay", description="nnplay from the terminal")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("summary", help="the model's layer table; last line 'Total params: N'")
    s.add_argument("spec")
    s.add_argument("--json", action="store_true")
    s.set_defaults(run=cmd_summary)
    c = sub.add_parser("check", help="the spec against its data, before anything trains")
    c.add_argument("spec")
    c.add_argument("--json", action="store_true")
    c.set_defaults(run=cmd_check)
    t = sub.add_parser("train", help="train headless with a progress bar")
    t.add_argument("spec")
    t.add_argument("--epochs", type=int)
    t.add_argument("--json", action="store_true")
    t.add_argument("--save", metavar="DIR", help="write spec.json, history.json and model.keras")
    t.set_defaults(run=cmd_train)
    e = sub.add_parser("export", help="a runnable Keras script on stdout")
    e.add_argument("spec")
    e.set_defaults(run=cmd_export, json=False)
    b = sub.add_parser("bench", help="speed against plain model.fit, as ratios")
    b.add_argument("--json", action="store_true")
    b.add_argument("--pairs", type=_positive, default=7,
                   help="interleaved engine/fit pairs for the MLP and the CNN (default 7)")
    b.add_argument("--mlp-samples", type=_positive, default=60_000,
                   help="the MLP's training samples (default 60,000, MNIST's size)")
    b.add_argument("--cnn-epochs", type=_positive, default=10,
                   help="CNN epochs per turn (default 10)")
    b.add_argument("--no-toy", action="store_true", help="leave out the toy and Ray lines")
    b.add_argument("--no-browser", action="store_true",
                   help="leave out the Train-page polling lines (Chromium)")
    b.add_argument("--cold-start", action="store_true",
                   help="add a fresh server's first point after Train, in headless Chromium")
    b.set_defaults(run=cmd_bench)
    k = sub.add_parser("soak", help="a hosted server driven by N students in headless Chromium")
    k.add_argument("--sessions", type=int, default=16, help="students at once (default 16)")
    k.add_argument("--minutes", type=float, default=10.0, help="how long (default 10)")
    k.add_argument("--json", action="store_true")
    k.set_defaults(run=cmd_soak)
    g = sub.add_parser("bring", help="put a Keras dataset file you downloaded where Keras "
                                     "looks (e.g. cifar-10-python.tar.gz), checked")
    g.add_argument("files", nargs="+")
    g.add_argument("--json", action="store_true")
    g.set_defaults(run=cmd_bring)
    d = sub.add_parser("datasets", help="what is available offline")
    d.add_argument("--json", action="store_true")
    d.set_defaults(run=cmd_datasets)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from .data import DataError
    from .limits import LimitError, current
    try:
        current()  # a host's bad NNPLAY_MAX_... value is said before anything runs
        result = args.run(args)
    except (CliError, SpecError, DataError, LimitError) as e:
        print(f"nnplay {args.command}: {e}".splitlines()[0], file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"nnplay {args.command}: interrupted", file=sys.stderr)
        return 130
    if args.json and result is not None:
        print(json.dumps(result))
    return 0

"""Every hostile input in tests/hostile/ gets its expected outcome: accepted, or refused with
the project's own error and a message naming the problem. Never another exception, a
traceback on the command line, or a hang.

One case is one line of a manifest (JSON Lines); the manifest's name is the entry point:

  specs.jsonl   Experiment.from_json, then check() without and with the data's info
  links.jsonl   Experiment.from_url (the input is compressed and encoded as to_url does)
  cli.jsonl     nnplay.cli.main([command, spec file, *args]) in-process: exit 2, one line
  csv.jsonl     nnplay.data.load_csv(bytes, DataSpec(dataset="csv", target=...))
  builds.jsonl  nnplay.build.build(exp, describe(exp.data)), a forward pass and the loss
  modelfiles.jsonl  nnplay.modelfile.load_model_file(bytes of a .keras file from elsewhere)

Fields of a case:
  id                     unique within its manifest
  spec | text | hex      the input: a JSON value, raw text, or raw bytes in hex
  fill                   {"@A@": [piece, count]}: each token in `text` becomes piece * count
                         (nesting 100,000 deep or 5,000 digits stay one short line)
  ok                     accepted; {dotted attribute: expected value} to check on the result
                         (cli: {"stdout": substring})
  refused                a substring of the refusal's message
  args (cli)             ["export"], ["train", "--epochs", "1"]; default ["summary"]
  file (cli)             "missing" or "directory" instead of a written spec file
  target (csv)           the column to predict
  link, cut_bytes, cut_chars, pad (links)   a raw link; drop the compressed stream's last
                         bytes; drop the link's last characters; keep base64 padding
  no_info (builds)       build(exp) without the data's info
  config, zip (modelfiles)  a .keras zip holding config.json = `config`, or the files
                         {name: text} of `zip` (text filled as above)
"""
from __future__ import annotations

import base64
import contextlib
import io
import json
import threading
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from nnplay import cli, data
from nnplay.build import build  # imports TensorFlow once, outside every case's time bound
from nnplay.data import DataError
from nnplay.modelfile import ModelFileError, load_model_file
from nnplay.spec import DataSpec, Experiment, SpecError, check

HOSTILE = Path(__file__).parent / "hostile"
SECONDS_PER_CASE = 20
OWN_ERRORS = (SpecError, DataError, ModelFileError, cli.CliError)
MAX_MESSAGE = 1200   # one line a student can read, even for a spec with a thousand problems


def load_cases():
    cases = []
    for manifest in sorted(HOSTILE.glob("*.jsonl")):
        for n, line in enumerate(manifest.read_text().splitlines(), 1):
            if line.strip():
                case = json.loads(line)
                cases.append(pytest.param(manifest.stem, case, id=f"{manifest.stem}:{case['id']}"))
    return cases


CASES = load_cases()


def raw_input(case) -> bytes:
    if "hex" in case:
        return bytes.fromhex(case["hex"])
    text = case["text"] if "text" in case else json.dumps(case["spec"])
    for token, (piece, count) in case.get("fill", {}).items():
        text = text.replace(token, piece * count)
    return text.encode()


def filled(case, key):
    value = case.get(key)
    for token, (piece, count) in case.get("fill", {}).items():
        value = value.replace(token, piece * count) if isinstance(value, str) else value
    return value


def dotted(obj, path: str):
    for name in path.split("."):
        obj = obj[name] if isinstance(obj, dict) else getattr(obj, name)
    return obj() if callable(obj) else obj


def plain(value):
    return list(value) if isinstance(value, tuple) else value


# ---- entry points: each returns the accepted result or raises ----------------------------

def checked(exp: Experiment) -> Experiment:
    check(exp)
    return check(exp, data.describe(exp.data))


def run_spec(case, tmp_path):
    return checked(Experiment.from_json(raw_input(case)))


def make_link(case) -> str:
    if "link" in case:
        return case["link"]
    packed = zlib.compress(raw_input(case), 9)
    packed = packed[:len(packed) - case.get("cut_bytes", 0)]
    link = base64.urlsafe_b64encode(packed).decode()
    link = link if case.get("pad") else link.rstrip("=")
    return link[:len(link) - case.get("cut_chars", 0)]


def run_link(case, tmp_path):
    return checked(Experiment.from_url(make_link(case)))


def run_cli(case, tmp_path):
    path = tmp_path / "spec.json"
    if case.get("file") == "directory":
        path = tmp_path
    elif case.get("file") != "missing":
        path.write_bytes(raw_input(case))
    command, *rest = case.get("args", ["summary"])
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([command, str(path), *rest])
    return {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}


def run_csv(case, tmp_path):
    spec = DataSpec(dataset="csv", target=filled(case, "target"), validation_split=0.25)
    return data.load_csv(raw_input(case), spec)


def run_build(case, tmp_path):
    exp = Experiment.from_json(raw_input(case))
    model_only = exp.data.dataset is None   # its input_shape stands for the data, as in the CLI
    built = build(exp, None if case.get("no_info") or model_only else data.describe(exp.data))
    # a forward pass and the loss on a tiny batch: what breaks only when Keras runs the stack
    shape = [16 if s is None else s for s in built.model.input_shape[1:]]
    x = np.zeros([4] + shape, built.model.inputs[0].dtype)
    y = np.zeros(4, np.float32 if built.task == "regression" else np.int32)
    built.loss(y, built.model(x, training=True))
    return built


def keras_file(case) -> bytes:
    if "config" not in case and "zip" not in case:
        return raw_input(case)
    files = {"config.json": json.dumps(case["config"])} if "config" in case else {
        name: filled({**case, "text": text}, "text") for name, text in case["zip"].items()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


def run_modelfile(case, tmp_path):
    return load_model_file(keras_file(case))


ENTRY_POINTS = {"specs": run_spec, "links": run_link, "cli": run_cli, "csv": run_csv,
                "builds": run_build, "modelfiles": run_modelfile}


def run_bounded(fn, *args):
    """(result, exception) of fn(*args) in a thread; a case that hangs fails, CI goes on."""
    outcome = {}

    def target():
        try:
            outcome["result"] = fn(*args)
        except BaseException as e:  # noqa: BLE001 - judged below
            outcome["error"] = e
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(SECONDS_PER_CASE)
    if thread.is_alive():
        pytest.fail(f"no answer within {SECONDS_PER_CASE} s: the input hangs nnplay")
    return outcome.get("result"), outcome.get("error")


# ---- the test ------------------------------------------------------------------------------

def test_the_corpus_is_large_and_well_formed():
    assert len(CASES) >= 120
    for param in CASES:
        manifest, case = param.values
        assert manifest in ENTRY_POINTS, manifest
        assert ("ok" in case) != ("refused" in case), case["id"]
    ids = [p.id for p in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("manifest, case", CASES)
def test_hostile_input(manifest, case, tmp_path):
    result, error = run_bounded(ENTRY_POINTS[manifest], case, tmp_path)
    if error is not None and not isinstance(error, OWN_ERRORS):
        raise AssertionError(f"{type(error).__name__} escaped instead of a clear refusal") from error
    if manifest == "cli":
        check_cli(case, result)
    elif "refused" in case:
        assert error is not None, f"accepted, but should be refused with {case['refused']!r}"
        message = str(error)
        assert case["refused"] in message, message[:500]
        assert "\n" not in message and len(message) <= MAX_MESSAGE, message[:300]
    else:
        assert error is None, f"refused: {error}"
        for path, expected in case["ok"].items():
            assert plain(dotted(result, path)) == expected, path


def check_cli(case, result):
    stderr = result["stderr"]
    assert "Traceback" not in stderr, stderr[-2000:]
    if "refused" in case:
        assert result["code"] == 2, (result["code"], stderr[-500:])
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and len(lines[0]) <= MAX_MESSAGE, stderr[:500]
        assert case["refused"] in lines[0], lines[0][:500]
    else:
        assert result["code"] == 0, stderr[-500:]
        assert case["ok"]["stdout"] in result["stdout"]

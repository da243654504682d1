"""The docstring examples (`>>>`) of the core run, so they cannot drift from the code.

Every core module (nnplay/ minus ui/ and tools/) whose docstrings hold a `>>>` example is
found and its examples run here. Examples in modules that load TensorFlow or train when used
(build, engine, codegen, job, store, lessons) are written as plain code instead, without
prompts: reading them costs nothing, and their behaviour is tested in their own test files.
"""
import doctest
import importlib

import pytest

from conftest import ROOT

PACKAGE = ROOT / "nnplay"


def modules_with_examples() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if {"ui", "tools"} & set(parts) or ">>>" not in path.read_text():
            continue
        found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def test_the_core_has_examples_to_run():
    assert {"nnplay.spec", "nnplay.layers", "nnplay.race"} <= set(modules_with_examples())


@pytest.mark.parametrize("name", modules_with_examples())
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), verbose=False, report=True)
    assert result.attempted > 0 and result.failed == 0, f"{name}: {result}"

"""Streamlit's websocket messages, one a line: what the soak's record of a broken page's last
messages (nnplay/tools/frames.py) is read with, in a process of its own (the core never
imports Streamlit): `python -m nnplay.ui.wire RECORD OUT`. Streamlit's frontend errors
("Cannot set a node at a delta path") are races between the server's runs and the
browser's tree of elements: the messages, in order, with their paths, fragments and runs,
say which race."""
from __future__ import annotations

import base64
import json
import sys


def describe(direction: str, payload: bytes) -> str:
    """One message in a line: what it is, its delta path, fragment and run."""
    try:
        return _back(payload) if direction == "out" else _forward(payload)
    except Exception as e:   # not Streamlit's protobuf: said, not fatal to the soak
        return f"{len(payload)} bytes not read ({type(e).__name__})"


def _back(payload: bytes) -> str:
    from streamlit.proto.BackMsg_pb2 import BackMsg
    msg = BackMsg.FromString(payload)
    kind = msg.WhichOneof("type")
    if kind == "rerun_script":
        rerun = msg.rerun_script
        return (f"rerun fragment={rerun.fragment_id[:8]!r} auto={rerun.is_auto_rerun} "
                f"page={rerun.page_name!r}")
    return kind or "empty"


def _forward(payload: bytes) -> str:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    msg = ForwardMsg.FromString(payload)
    kind = msg.WhichOneof("type")
    run = msg.metadata.run
    ran = f" run={run.script_run_id[:8]} fragments={[f[:8] for f in run.fragment_ids]}" \
        if msg.metadata.HasField("run") else ""
    path = f" path={list(msg.metadata.delta_path)}" if msg.metadata.delta_path else ""
    if kind == "delta":
        delta = msg.delta
        part = delta.WhichOneof("type")
        what = (delta.new_element.WhichOneof("type") if part == "new_element"
                else delta.add_block.WhichOneof("type") if part == "add_block" else None)
        return f"delta {part}:{what}{path} fragment={delta.fragment_id[:8]!r}{ran}"
    if kind == "script_finished":
        status = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
        return f"script_finished {status}{ran}"
    if kind == "auto_rerun":
        timer = msg.auto_rerun
        return f"auto_rerun every {timer.interval:.2f} s fragment={timer.fragment_id[:8]!r}"
    if kind == "ref_hash":
        return f"ref_hash {msg.ref_hash[:8]}{path}"
    return f"{kind}{ran}"


def read(record: str, out: str, heading: str = ""):
    """The record (a JSON line per message: time, direction, base64 payload) as text in `out`."""
    with open(record) as lines, open(out, "w") as text:
        text.write(heading + "\n\n" if heading else "")
        for line in lines:
            at, direction, payload = json.loads(line)
            said = describe(direction, base64.b64decode(payload))
            text.write(f"{at:.3f} {direction:3s} {said}\n")


if __name__ == "__main__":
    read(*sys.argv[1:])

"""A tab's last websocket messages, kept so that a browser error in the soak comes with what
the page was sent before it, read into a line each by nnplay.ui.wire in a process of its
own (Streamlit's messages are Streamlit's protobuf; the core never imports Streamlit)."""
from __future__ import annotations

import base64
import collections
import json
import os
import subprocess
import sys
import time

FRAMES_KEPT = 600   # about the last minute of a live Train page in a class's burst


class FrameLog:
    """The last FRAMES_KEPT messages to and from a Playwright page's websockets."""

    def __init__(self, page):
        self.frames: collections.deque = collections.deque(maxlen=FRAMES_KEPT)
        page.on("websocket", self._watch)

    def _watch(self, ws):
        ws.on("framereceived", lambda payload: self.frames.append((time.time(), "in", payload)))
        ws.on("framesent", lambda payload: self.frames.append((time.time(), "out", payload)))

    def write(self, folder: str, name: str, heading: str) -> str:
        """The messages in folder/name.frames (a JSON line each) and, read, in folder/name.txt
        under `heading`; the path of the text (of the record, if it could not be read)."""
        record, text = os.path.join(folder, f"{name}.frames"), os.path.join(folder, f"{name}.txt")
        with open(record, "w") as out:
            for at, direction, payload in list(self.frames):
                raw = payload.encode() if isinstance(payload, str) else payload
                out.write(json.dumps([at, direction, base64.b64encode(raw).decode()]) + "\n")
        read = subprocess.run([sys.executable, "-m", "nnplay.ui.wire", record, text, heading],
                              capture_output=True, timeout=120)
        return text if read.returncode == 0 else record

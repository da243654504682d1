"""Starting `streamlit run app.py` on a free local port and the headless Chromium that looks at
it: shared by the browser tests and `python -m nnplay bench`."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

APP = Path(__file__).resolve().parent.parent.parent / "app.py"
# Without the background-networking flags Chromium keeps calling out of this closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict | None = None, timeout: float = 60.0,
                 cpus: set[int] | None = None, log=None) -> tuple[subprocess.Popen, str]:
    """A running app server and its URL; raises RuntimeError when it does not come up.
    `cpus`: the cores the server may run on (Linux), e.g. to keep a browser off them.
    `log`: a file for the server's output (else it is dropped)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=APP.parent, env={**os.environ, **(env or {})},
        stdout=log or subprocess.DEVNULL, stderr=log or subprocess.DEVNULL,
        preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("streamlit did not start")

"""nnplay: `streamlit run app.py`. The server, and what it does as it starts; the pages are
in main.py.

Streamlit runs a script only when a browser connects, so a plain script could start warming
TensorFlow no earlier than the first student's first page. As an `st.App`, the server begins
the warm start (nnplay.warmup: import TensorFlow, train a tiny model once) the moment it
starts, while the teacher hands out the link.
"""
import logging
from contextlib import asynccontextmanager

import streamlit as st

from nnplay.ui import chart


# nnplay's own log lines on the server's output: a host reads there, among others, how long
# each student waited for a first point (nnplay.ui.train_view).
_log = logging.StreamHandler()
_log.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
logging.getLogger("nnplay").addHandler(_log)
logging.getLogger("nnplay").setLevel(logging.INFO)


@asynccontextmanager
async def warm_start(_app):
    from nnplay import warmup
    warmup.start()
    yield


# The pages' charts load plotly.js from here (nnplay.ui.chart).
app = st.App("main.py", lifespan=warm_start, routes=chart.routes())

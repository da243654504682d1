"""nnplay: `streamlit run app.py`. The server, and what it does as it starts; the pages are
in main.py.

Streamlit runs a script only when a browser connects, so a plain script could start warming
TensorFlow no earlier than the first student's first page. As an `st.App`, the server begins
the warm start (nnplay.warmup: import TensorFlow, train a tiny model once) the moment it
starts, while the teacher hands out the link.
"""
import asyncio
from contextlib import asynccontextmanager

import streamlit as st

from nnplay import config
from nnplay.ui import chart, train_view

config.log_to_output()


@asynccontextmanager
async def warm_start(_app):
    from nnplay import warmup
    warmup.start()
    await asyncio.to_thread(chart.plotly_js_gzipped)   # once, before any browser asks
    yield


# The pages' charts load plotly.js from here (nnplay.ui.chart), and the Train page's curves
# say here when they have drawn a run's first point.
app = st.App("main.py", lifespan=warm_start,
             routes=chart.routes() + train_view.first_point_routes())

"""nnplay's pages: page config and navigation, nothing else (app.py serves it)."""
import streamlit as st

from nnplay import limits, warmup
from nnplay.ui import chart, session, share, workspace_view

st.set_page_config(page_title="nnplay — neural network playground", page_icon="🧠", layout="wide")
session.install_streamlit_guards()
try:
    limits.current()  # a host's bad NNPLAY_MAX_... or [limits] value stops here, said plainly
except ValueError as e:
    st.error(f"nnplay cannot start: {e}")
    st.stop()

session.read_link()   # before the sidebar's page links can be clicked
pages = [
    st.Page("views/data.py", title="Data", icon=":material/scatter_plot:", default=True),
    st.Page("views/model.py", title="Model", icon=":material/stacks:"),
    st.Page("views/train.py", title="Train", icon=":material/play_circle:"),
    st.Page("views/inspect.py", title="Inspect", icon=":material/biotech:"),
    st.Page("views/compare.py", title="Compare", icon=":material/stacked_line_chart:"),
    st.Page("views/race.py", title="Race", icon=":material/flag:"),
    st.Page("views/lessons.py", title="Lessons", icon=":material/school:"),
]
page = st.navigation(pages)
st.session_state.pop(session.PAGE_END_KEY, None)   # a stopped run's leftovers
share.sidebar()
with st.sidebar:
    chart.preload()
workspace_view.header()
if page.title != "Train":
    session.forget_press()   # the wait for a first point is measured on the Train page only
page.run()
share.notices()   # what the page found a link asked for and could not do
workspace_view.notices()
session.end_page()  # the share link again, with what the page changed; the address bar
warmup.start()  # done already when app.py started the server; else after the page is drawn

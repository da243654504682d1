"""nnplay: `streamlit run app.py`. Page config and navigation, nothing else."""
import streamlit as st

from nnplay.ui import session, share

st.set_page_config(page_title="nnplay — neural network playground", page_icon="🧠", layout="wide")
session.install_streamlit_guards()

pages = [
    st.Page("pages/data.py", title="Data", icon="📊", default=True),
    st.Page("pages/model.py", title="Model", icon="🧱"),
    st.Page("pages/train.py", title="Train", icon="▶️"),
    st.Page("pages/inspect_page.py", title="Inspect", icon="🔬", url_path="inspect"),
    st.Page("pages/compare.py", title="Compare", icon="📈"),
    st.Page("pages/race.py", title="Race", icon="🏁"),
]
page = st.navigation(pages)
share.sidebar()
page.run()
session.sync_url()

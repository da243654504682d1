"""Lessons: short guided experiments for a class, each set up in one click."""
import streamlit as st

from nnplay.data import DataError
from nnplay.lessons import LESSONS
from nnplay.spec import SpecError
from nnplay.ui import session

PAGE_FILES = {"data": ("views/data.py", "Data", ":material/scatter_plot:"),
              "model": ("views/model.py", "Model", ":material/stacks:"),
              "train": ("views/train.py", "Train", ":material/play_circle:"),
              "inspect": ("views/inspect.py", "Inspect", ":material/biotech:"),
              "compare": ("views/compare.py", "Compare", ":material/stacked_line_chart:")}

st.title("Lessons")
st.caption("Each lesson sets up an experiment in one click. Train its variants, then look at "
           "the pages it names. Every run is kept, so Compare lays the variants over each other.")


def train_all_variants(lesson):
    """Queue every variant; each run is kept under the lesson's name (the data loaded once
    per distinct data, by the session's cache)."""
    for label, exp in lesson.variants:
        session.start_job(exp, name=f"{lesson.title} · {label}", follow=False)
    return len(lesson.variants)


for number, lesson in enumerate(LESSONS, start=1):
    with st.container(border=True):
        st.subheader(f"{number}. {lesson.title}")
        st.markdown(lesson.text)
        st.markdown(f"**What you should see:** {lesson.claim}")
        st.markdown("**Variants:** " + " · ".join(lesson.labels()))
        with st.container(horizontal=True, gap="small", vertical_alignment="center"):
            setup = st.button("Set up the first variant", key=f"setup_{lesson.id}",
                              icon=":material/play_lesson:", type="primary",
                              help=f"Make “{lesson.labels()[0]}” the current experiment")
            train_all = st.button("Train all variants", key=f"all_{lesson.id}",
                                  icon=":material/queue_play_next:",
                                  help="Queue every variant; follow them on Compare")
        if setup:
            session.set_experiment(lesson.experiment())
            st.success(f"The experiment is now “{lesson.labels()[0]}”. Open Train to run it.")
        if train_all:
            try:
                count = train_all_variants(lesson)
                session.set_experiment(lesson.experiment())
                st.success(f"{count} runs queued. Open Compare to watch them side by side.")
            except (SpecError, DataError) as e:
                st.error(f"This lesson cannot run here: {e}")
        with st.container(horizontal=True, gap="small", vertical_alignment="center"):
            st.markdown("**Then look at:**", width="content")
            for page in lesson.pages:
                path, title, icon = PAGE_FILES[page]
                if st.button(f"{title} page", icon=icon, key=f"go_{lesson.id}_{page}",
                             help=f"Open the {title} page"):
                    st.switch_page(path)

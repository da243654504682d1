"""Lessons: short guided experiments for a class, each set up in one click."""
import json

import streamlit as st

from nnplay.data import DataError, load
from nnplay.job import MANAGER
from nnplay.lessons import LESSONS
from nnplay.spec import SpecError
from nnplay.store import attach
from nnplay.ui import session

PAGE_FILES = {"data": ("views/data.py", "Data"), "model": ("views/model.py", "Model"),
              "train": ("views/train.py", "Train"), "inspect": ("views/inspect.py", "Inspect"),
              "compare": ("views/compare.py", "Compare")}

st.title("Lessons")
st.caption("Each lesson sets up an experiment in one click. Train its variants, then look at "
           "the pages it names. Every run is kept, so Compare lays the variants over each other.")


def train_all_variants(lesson):
    """Queue every variant through the job manager; each run is kept under the lesson's name."""
    datasets = {}
    for label, exp in lesson.variants:
        key = json.dumps(exp.to_dict()["data"], sort_keys=True)  # one load per distinct data
        datasets.setdefault(key, load(exp.data))
        job = MANAGER.submit(exp, dataset=datasets[key], owner=session.owner_id())
        attach(job, session.store(), name=f"{lesson.title} · {label}")
    return len(lesson.variants)


for number, lesson in enumerate(LESSONS, start=1):
    with st.container(border=True):
        st.subheader(f"{number}. {lesson.title}")
        st.markdown(lesson.text)
        st.caption(f"What you should see: {lesson.claim}")
        st.markdown("Variants: " + " · ".join(f"**{label}**" for label in lesson.labels()))
        c1, c2, c3 = st.columns([1, 1, 3])
        if c1.button("Set up", key=f"setup_{lesson.id}", icon=":material/play_lesson:",
                     help="Make the first variant the current experiment"):
            session.set_experiment(lesson.experiment())
            st.success(f"The experiment is now “{lesson.labels()[0]}”. Open Train to run it.")
        if c2.button("Train all variants", key=f"all_{lesson.id}", icon=":material/queue_play_next:",
                     help="Queue every variant; follow them on Compare"):
            try:
                count = train_all_variants(lesson)
                session.set_experiment(lesson.experiment())
                st.success(f"{count} runs queued. Open Compare to watch them side by side.")
            except (SpecError, DataError) as e:
                st.error(f"This lesson cannot run here: {e}")
        with c3:
            links = st.columns(len(lesson.pages))
            for col, page in zip(links, lesson.pages):
                path, title = PAGE_FILES[page]
                col.page_link(path, label=title)

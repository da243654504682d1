"""The Model page's Keras side: the real model's summary table and the exported script,
each cached per spec (big models build slowly)."""
import pandas as pd
import streamlit as st

from nnplay import stack
from nnplay.data import DataError, DatasetInfo
from nnplay.spec import Experiment


@st.cache_resource(max_entries=32, show_spinner=False)
def keras_summary(model_json: str, info: DatasetInfo) -> dict:
    """The real Keras model's summary; cached per spec because big models build slowly."""
    from nnplay.build import build, summary
    return summary(build(Experiment.from_json(model_json), info).model)


@st.cache_data(max_entries=16, show_spinner=False)
def keras_script(exp_json: str) -> str:
    from nnplay.codegen import export_script
    return export_script(Experiment.from_json(exp_json))


def summary_table(result: dict):
    rows = [{"Layer (type)": f"{r['name']} ({r['type']})", "Output shape": r["output_shape"],
             "Param #": f"{r['params']:,}"} for r in result["layers"]]  # as Keras prints it
    st.table(pd.DataFrame(rows), hide_index=True, border="horizontal")
    st.caption(stack.BATCH_NOTE)
    frozen = result["total_params"] - result["trainable_params"]
    st.markdown(f"**Total params: {result['total_params']:,}**"
                + (f" ({frozen:,} not trainable)" if frozen else ""))


def export_code(exp):
    with st.expander("Export code", icon=":material/code:", key="export_open",
                     on_change="rerun") as box:
        if not box.open:
            return
        try:
            script = keras_script(exp.to_json())
        except (DataError, ValueError) as e:  # SpecError is a ValueError
            st.error(f"No code yet: {e}")
            return
        from nnplay.codegen import script_filename
        st.download_button("Download the script", script, file_name=script_filename(exp),
                           mime="text/x-python", icon=":material/download:")
        st.code(script, language="python")

"""nnplay: a neural-network playground on real tf.keras models.

The core (everything here but `nnplay.ui`) never imports Streamlit; see ARCHITECTURE.md.
"""
from .spec import Experiment, SpecError, check, validate  # noqa: F401

__version__ = "0.1.0"

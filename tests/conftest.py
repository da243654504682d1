import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from nnplay.spec import Experiment  # noqa: E402


@pytest.fixture
def toy_exp():
    """TensorFlow Playground's default experiment, shortened."""
    exp = Experiment()
    exp.train.epochs = 20
    return exp


def make_exp(**parts) -> Experiment:
    """An Experiment from partial sections: make_exp(data={...}, model={...}, train={...})."""
    return Experiment.from_dict(parts)

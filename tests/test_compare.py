"""compare.py: a run's best value follows the one rule of which direction is better
(spec.higher_is_better), the rule early stopping's mode follows too."""
from nnplay.compare import best_value
from nnplay.spec import higher_is_better


def test_best_value_is_the_maximum_of_accuracy_like_metrics_and_the_minimum_of_the_rest():
    assert best_value("val_accuracy", [0.5, 0.9, None, 0.7]) == 0.9
    assert best_value("test_auc", [0.6, 0.8]) == 0.8
    assert best_value("val_loss", [0.5, 0.2, 0.3]) == 0.2
    assert best_value("mae", [3.0, 1.5]) == 1.5
    assert best_value("loss", [None]) is None


def test_which_direction_is_better():
    assert [higher_is_better(m) for m in ("accuracy", "val_precision", "test_recall", "auc")] == [True] * 4
    assert [higher_is_better(m) for m in ("loss", "val_mae", "test_mse", "val_loss")] == [False] * 4

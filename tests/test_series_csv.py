"""Your own series: a CSV's column read in row order, windowed, split in time order (as the
shipped series are), trained by an LSTM; and Inspect's actual-against-forecast over time."""
import numpy as np
import pandas as pd
import pytest

from nnplay import data, plots
from nnplay import inspection as nni
from nnplay.data import DataError
from nnplay.spec import DataSpec, Experiment

from conftest import charts

DAYS = 120


@pytest.fixture
def prices(tmp_path):
    """A stock's daily prices: Date first, the close a strictly rising line (so order shows)."""
    path = tmp_path / "stock.csv"
    pd.DataFrame({"Date": pd.date_range("2024-01-01", periods=DAYS).strftime("%Y-%m-%d"),
                  "Volume": np.arange(DAYS) * 7 % 13, "Close": 100.0 + np.arange(DAYS)}
                 ).to_csv(path, index=False)
    return str(path)


def spec(path, **more):
    return DataSpec(**{"dataset": "csv_series", "path": path, "target": "Close", "window": 10,
                       "validation_split": 0.2, "test_split": 0.1, **more})


def restored(ds, y):
    return ds.target_offset + y * ds.target_scale


def test_a_csv_column_is_windowed_in_row_order_and_split_in_time_order(prices):
    ds = data.load(spec(prices))
    assert ds.info.kind == "sequence" and ds.info.input_shape == (10, 1)
    n = DAYS - 10
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (n - 22 - 11, 22, 11)
    targets = restored(ds, np.concatenate([ds.y_train, ds.y_val, ds.y_test]))
    assert np.allclose(targets, 110.0 + np.arange(n), atol=1e-3)   # the rows in order, never shuffled
    first = restored(ds, ds.x_train[0, :, 0])
    assert np.allclose(first, 100.0 + np.arange(10), atol=1e-3)     # the window before its target
    assert restored(ds, ds.y_train).max() < restored(ds, ds.y_val).min() < restored(ds, ds.y_test).min()
    assert ds.notes[0] == ("The series is column 'Close' in row order (120 values); the other "
                           "columns are not used.")
    times, x_title, y_title = data.series_axes(spec(prices))
    assert (x_title, y_title) == ("Date", "Close") and str(times[0])[:10] == "2024-01-01"


def test_a_text_column_or_too_few_rows_is_refused_in_words(prices, tmp_path):
    short = tmp_path / "short.csv"
    short.write_text("Close\n" + "\n".join(str(v) for v in range(15)) + "\n")
    with pytest.raises(DataError, match="Your CSV series has 15 values, too few for windows of "
                                        "10: lower window$"):
        data.load(spec(str(short), target=None))
    with pytest.raises(DataError, match="column 'Date' holds text, but a series needs a number"):
        data.describe(spec(prices, target="Date"))


def test_an_lstm_trains_on_a_csv_series(prices):
    from nnplay.job import TrainingJob
    exp = Experiment.from_dict({"data": {"dataset": "csv_series", "path": prices, "target": "Close",
                                         "window": 10},
                                "model": {"layers": [{"type": "LSTM", "units": 4}]},
                                "train": {"optimizer": "adam", "epochs": 1, "batch_size": 16}})
    job = TrainingJob(exp, data.load(exp.data)).start()
    assert job.wait(60).status == "completed"
    assert np.isfinite(job.snapshot().final["loss"])


class Echo:
    """A stand-in for a trained job: it forecasts the last value of each window."""
    def __init__(self, exp, ds):
        self.exp, self.dataset = exp, ds

    def predict(self, x):
        return x[:, -1, :]


@pytest.mark.parametrize("dataset", ["sunspots", "csv_series"])
def test_inspect_draws_actual_against_forecast_over_time(prices, dataset):
    exp = Experiment(data=spec(prices) if dataset == "csv_series" else
                     DataSpec(dataset="sunspots", window=20, validation_split=0.2, test_split=0.1))
    ds = data.load(exp.data)
    view = nni.series_forecast(Echo(exp, ds))
    times, _, _ = data.series_axes(exp.data)
    n = len(ds.y_train) + len(ds.y_val) + len(ds.y_test)
    assert len(view["times"]) == len(view["actual"]) == len(view["predicted"]) == n
    assert view["times"][0] == times[exp.data.window] and view["times"][-1] == times[-1]
    # a forecast of "the same as last time" lags the actual series by one step
    assert np.allclose(view["predicted"][1:], view["actual"][:-1], atol=1e-3)
    assert [label for _, label in view["split_at"]] == ["validation", "test"]
    assert view["split_at"][0][0] == times[exp.data.window + len(ds.y_train)]
    fig = plots.forecast_figure(**view)
    assert [trace.name for trace in fig.data] == ["actual", "forecast (one step ahead)"]
    assert len(fig.layout.shapes) == 2


def test_the_inspect_page_draws_a_series_over_time():
    from conftest import make_exp, open_page
    from nnplay.job import MANAGER
    exp = make_exp(data={"dataset": "sunspots", "window": 10},
                   model={"layers": [{"type": "GRU", "units": 4}]},
                   train={"epochs": 2, "optimizer": "adam", "batch_size": 32})
    job = MANAGER.submit(exp, data.load(exp.data))
    assert job.wait(120).status == "completed"
    at = open_page("views/inspect.py", job.exp, nnplay_job_id=job.id)
    at.session_state["inspect_tab"] = "Evaluation"
    at.run()
    titles = charts(at)
    assert len(titles) == 3 and "Actual and forecast over time" in titles[0]
    assert "Predicted vs actual" in titles[1] and not at.exception


def test_the_exported_script_reads_the_same_series(prices):
    from nnplay.codegen import export_script
    exp = Experiment(data=spec(prices))
    exp.model.layers = [{"type": "LSTM", "units": 4}]
    namespace = {"__name__": "exported_script"}
    exec(compile(export_script(exp), "exported_script.py", "exec"), namespace)
    parts = namespace["load_data"]()
    ds = data.load(exp.data)
    for (x, y), (x_ours, y_ours) in zip(parts, [(ds.x_train, ds.y_train), (ds.x_val, ds.y_val),
                                               (ds.x_test, ds.y_test)]):
        assert np.allclose(x, x_ours, atol=1e-5) and np.allclose(y, y_ours, atol=1e-5)

"""The page-polling figure of `python -m nnplay bench` pairs windows on one job."""
from nnplay.tools.page_bench import paired_rates


def test_paired_rates_divide_each_kind_of_window_by_its_own_time():
    clock = {"t": 0.0, "epoch": 0}

    def read():
        return clock["t"], clock["epoch"]

    def advance(rate):
        def occupy(seconds):
            clock["t"] += seconds
            clock["epoch"] += int(rate * seconds)
        return occupy

    watched, unwatched = paired_rates(read, advance(80), advance(100), rounds=3, window=2.0)
    assert (watched, unwatched) == (80.0, 100.0)

"""helpers.timing: call counts and non-negative results (no assertions on wall-time sizes)."""

import pytest

from helpers.timing import Timer, format_seconds, timeit


def test_timeit_calls_warmup_plus_repeat_times():
    calls = []
    best = timeit(lambda: calls.append(1), repeat=4, warmup=2)
    assert len(calls) == 6
    assert best >= 0 and isinstance(best, float)
    calls.clear()
    timeit(lambda: calls.append(1))
    assert len(calls) == 5 + 1  # defaults: repeat=5, warmup=1


def test_timeit_rejects_bad_counts():
    with pytest.raises(ValueError, match="repeat"):
        timeit(lambda: None, repeat=0)
    with pytest.raises(ValueError, match="warmup"):
        timeit(lambda: None, warmup=-1)


def test_timer_records_and_prints(capsys):
    with Timer("block") as t:
        sum(range(100))
    assert t.seconds >= 0
    assert capsys.readouterr().out.startswith("block: ")
    with Timer() as quiet:
        pass
    with Timer("silent", verbose=False):
        pass
    assert quiet.seconds >= 0 and capsys.readouterr().out == ""


def test_timer_measures_even_when_block_raises():
    t = Timer(verbose=False)
    with pytest.raises(ZeroDivisionError):
        with t:
            raise ZeroDivisionError
    assert t.seconds is not None and t.seconds >= 0


@pytest.mark.parametrize("seconds,text", [(2.5, "2.5 s"), (0.0123, "12.3 ms"),
                                          (4.5e-6, "4.5 µs"), (3e-9, "3 ns")])
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text

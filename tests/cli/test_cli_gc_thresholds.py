"""`RINGWAY_GC_THRESHOLDS` sets the collector for `ringway serve`; a bad value is exit 2."""

from __future__ import annotations

import gc

import pytest
from typer.testing import CliRunner

from ringway.cli import app
from ringway.runtime import YOUNG_THRESHOLD, gc_thresholds, tune_gc


def test_thresholds_default_to_ours() -> None:
    assert gc_thresholds({}) == (YOUNG_THRESHOLD, 20, 20)
    assert gc_thresholds({"RINGWAY_GC_THRESHOLDS": " "}) == (YOUNG_THRESHOLD, 20, 20)


def test_thresholds_from_the_environment() -> None:
    assert gc_thresholds({"RINGWAY_GC_THRESHOLDS": "200000,50,10"}) == (200_000, 50, 10)


@pytest.mark.parametrize("bad", ["1,2", "a,b,c", "100,0,10", "1,2,3,4", "-5,10,10"])
def test_malformed_thresholds_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="three positive integers"):
        gc_thresholds({"RINGWAY_GC_THRESHOLDS": bad})


def test_tune_gc_applies_them_and_freezes_start_up() -> None:
    before = gc.get_threshold()
    try:
        tune_gc((123_456, 7, 8))
        assert gc.get_threshold() == (123_456, 7, 8)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_serve_with_a_bad_value_exits_2_with_one_line() -> None:
    result = CliRunner().invoke(app, ["serve"], env={"RINGWAY_GC_THRESHOLDS": "lots"})
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "error: RINGWAY_GC_THRESHOLDS: expected three positive integers like 50000,20,20,"
        " got 'lots'"
    ]

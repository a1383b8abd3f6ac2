"""Writers in a forked process: the value or the error comes back; in line where no fork."""

from __future__ import annotations

import os
import time

import pytest

import cjgis._fork
from cjgis._errors import InputError
from cjgis._fork import can_fork, forked


def _fail(message):
    raise InputError(message)


@pytest.mark.skipif(not can_fork(), reason="fork is not used on this system (CI runs Linux)")
def test_the_writer_runs_in_another_process_and_its_value_comes_back():
    with forked(os.getpid) as wait:
        child = wait()
    assert child != os.getpid()


def test_the_writers_error_is_raised_here_with_its_type_and_message():
    with (
        forked(_fail, "buildings.gpkg, row 3: bad") as wait,
        pytest.raises(InputError, match="row 3"),
    ):
        wait()


def test_without_fork_the_writer_runs_in_line(monkeypatch):
    monkeypatch.setattr(cjgis._fork, "can_fork", lambda: False)
    with forked(os.getpid) as wait:
        assert wait() == os.getpid()


@pytest.mark.skipif(not can_fork(), reason="fork is not used on this system (CI runs Linux)")
def test_leaving_without_waiting_stops_the_writer(tmp_path):
    marker = tmp_path / "written"

    def slow():
        time.sleep(1)
        marker.write_text("late")

    with pytest.raises(RuntimeError), forked(slow):
        raise RuntimeError("the parent failed")
    time.sleep(1.5)  # it would have written by now
    assert not marker.exists()

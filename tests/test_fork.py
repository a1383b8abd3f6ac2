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
    """The child says its process id, then works on; the parent fails: the child is gone."""
    said = tmp_path / "pid"

    def slow():
        said.write_text(str(os.getpid()))
        time.sleep(600)  # a writer that would go on for minutes

    with pytest.raises(RuntimeError), forked(slow):
        for _ in range(3000):  # the child has started (bounded: 30 s at most)
            if said.exists() and said.read_text():
                break
            time.sleep(0.01)
        raise RuntimeError("the parent failed")
    pid = int(said.read_text())
    assert pid != os.getpid()
    with pytest.raises(ProcessLookupError):  # stopped and reaped, not left running
        os.kill(pid, 0)


@pytest.mark.skipif(not can_fork(), reason="fork is not used on this system (CI runs Linux)")
def test_the_writers_traceback_comes_back_as_a_note():
    with forked(_fail, "bad") as wait, pytest.raises(InputError) as caught:
        wait()
    notes = "".join(getattr(caught.value, "__notes__", []))
    assert "in the forked writer" in notes and "_fail" in notes

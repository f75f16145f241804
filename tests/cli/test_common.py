"""The CLI's shared helpers: the reads run with the cyclic garbage collector paused, and resume it."""

from __future__ import annotations

import gc
import importlib
import inspect

import pytest
from typer.testing import CliRunner

from towns.cli.common import collector_paused


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_a_paused_command_runs_without_the_collector_and_resumes_it(collector_on):
    seen = []

    @collector_paused
    def read(x: int, *, y: str = "a") -> str:
        """A read."""
        seen.append(gc.isenabled())
        return f"{x}{y}"

    assert read(1, y="b") == "1b" and seen == [False] and gc.isenabled()
    # what typer reads of a command: its name, help and parameters
    assert (read.__name__, read.__doc__) == ("read", "A read.")
    assert list(inspect.signature(read).parameters) == ["x", "y"]


def test_the_collector_resumes_when_the_command_fails_and_stays_paused_inside_another(collector_on):
    @collector_paused
    def failing() -> None:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        failing()
    assert gc.isenabled()

    @collector_paused
    def inner() -> bool:
        return gc.isenabled()

    @collector_paused
    def outer() -> tuple[bool, bool]:
        return inner(), gc.isenabled()  # the inner command does not resume it for the outer one

    assert outer() == (False, False) and gc.isenabled()


def test_the_collector_still_frees_cycles_made_during_a_paused_command(collector_on):
    class Node:
        pass

    @collector_paused
    def make() -> None:
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle, garbage when the command returns

    gc.collect()
    make()
    assert gc.collect() >= 2  # the two nodes (and their dicts) were collectable, not frozen


def test_status_and_history_read_with_the_collector_paused(collector_on, tmp_path, monkeypatch):
    from tests.queries.data import code_of, populate
    from towns.cli import app
    from towns.config import sqlite_url
    from towns.models.db import make_engine, prepare_database

    history_module = importlib.import_module("towns.queries.history")  # (towns.queries.history is the function)
    towns_module = importlib.import_module("towns.queries.towns")

    home = tmp_path / "home"
    home.mkdir()
    eng = make_engine(sqlite_url(home))
    prepare_database(eng)
    populate(eng, 2, months=1)
    eng.dispose()
    monkeypatch.setenv("TOWNS_HOME", str(home))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    seen: list[tuple[str, bool]] = []

    def spy(module, name):
        real = getattr(module, name)

        def read(*args, **kwargs):
            seen.append((name, gc.isenabled()))
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, read)

    spy(towns_module, "status_of")
    spy(towns_module, "all_status")
    spy(history_module, "history")
    runner = CliRunner()
    for args in (["status", code_of(0)], ["status"], ["history", code_of(0), "--json"]):
        result = runner.invoke(app, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert gc.isenabled()
    assert seen == [("status_of", False), ("all_status", False), ("history", False)]
    assert runner.invoke(app, ["status", "NOPE"]).exit_code == 2 and gc.isenabled()  # typer.Exit passes through

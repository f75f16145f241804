"""Recorded histories replay through the current workflow code (changes are patched)."""

import base64
import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from towns.worker import WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


RUNNERS = {"sandboxed": SandboxedWorkflowRunner, "unsandboxed": UnsandboxedWorkflowRunner}


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path, runner):
    """In the sandbox (where the suite runs the workflows) and without it (as production workers
    run them, towns.worker)."""
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter, workflow_runner=RUNNERS[runner]())
    await replayer.replay_workflow(WorkflowHistory.from_json(path.stem, path.read_text()))


def test_there_are_histories_to_replay():
    assert HISTORIES, "record one with python -m tests.workflows.record_history"


def patches(path: Path) -> list[str]:
    """The patch ids a history recorded (its markers), in order."""
    found = []
    for e in json.loads(path.read_text())["events"]:
        if e["eventType"] == "EVENT_TYPE_MARKER_RECORDED":
            for p in e["markerRecordedEventAttributes"]["details"].get("patch-data", {}).get("payloads", []):
                found.append(json.loads(base64.b64decode(p["data"]))["id"])
    return found


def test_every_version_is_kept_and_v5_takes_the_owed_from_path():
    """v1–v5 are replayed above; v5 was recorded with ``reports-owed-from-registration`` (the months a town
    owes from its registration), v4 without it: both paths of the patch replay."""
    names = {p.stem for p in HISTORIES}
    assert {f"town-v{n}" for n in range(1, 8)} <= names and {f"round-v{n}" for n in range(2, 8)} <= names
    here = Path(__file__).parent / "histories"
    assert "reports-owed-from-registration" in patches(here / "town-v5.json")
    assert "reports-owed-from-registration" not in patches(here / "town-v4.json")


def activity_types(path: Path) -> list[str]:
    """The activities a history scheduled through the task queue, in order."""
    return [
        e["activityTaskScheduledEventAttributes"]["activityType"]["name"]
        for e in json.loads(path.read_text())["events"]
        if e["eventType"] == "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"
    ]


def local_activities(path: Path) -> int:
    """The local activities a history recorded (their markers)."""
    return sum(
        1
        for e in json.loads(path.read_text())["events"]
        if e["eventType"] == "EVENT_TYPE_MARKER_RECORDED"
        and "patch-data" not in e["markerRecordedEventAttributes"]["details"]
    )


def test_v6_takes_reports_in_a_local_activity_and_v5_through_the_task_queue():
    """v6 was recorded with ``take-reports-local-activity``: a town's reports are taken by a local
    activity (no task-queue round trip); v5 took them through the task queue. Both replay above."""
    here = Path(__file__).parent / "histories"
    assert "take-reports-local-activity" in patches(here / "town-v6.json")
    assert "take_reports" not in activity_types(here / "town-v6.json") and local_activities(here / "town-v6.json")
    assert "take_reports" in activity_types(here / "town-v5.json") and not local_activities(here / "town-v5.json")


def search_attribute_upserts(path: Path) -> int:
    return sum(
        1
        for e in json.loads(path.read_text())["events"]
        if e["eventType"] == "EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES"
    )


def test_v7_records_one_patch_at_the_start_for_every_path():
    """v7 (``town-v7-current-paths``): one marker and one search-attribute upsert, in the run's first
    workflow task, stand for the four patches v6 recorded one by one (two at the start, two at the
    first reports); the same paths are taken (a local activity takes the reports)."""
    here = Path(__file__).parent / "histories"
    assert patches(here / "town-v7.json") == ["town-v7-current-paths"]
    assert search_attribute_upserts(here / "town-v7.json") == 1
    assert search_attribute_upserts(here / "town-v6.json") == len(patches(here / "town-v6.json")) == 4
    events = json.loads((here / "town-v7.json").read_text())["events"]
    first_completed = next(i for i, e in enumerate(events) if e["eventType"] == "EVENT_TYPE_WORKFLOW_TASK_COMPLETED")
    assert events[first_completed + 1]["eventType"] == "EVENT_TYPE_MARKER_RECORDED"
    assert "take_reports" not in activity_types(here / "town-v7.json") and local_activities(here / "town-v7.json")

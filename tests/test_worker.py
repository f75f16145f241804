"""The worker's tuning from the environment, the sandbox setting above all: production workers run
the workflows unsandboxed, the test suite (and whoever sets TOWNS_WORKFLOW_SANDBOX=1) in the sandbox."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from temporalio.worker import UnsandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

import towns.worker
from towns.config import ConfigError
from towns.worker import WorkerTuning, build_worker


def test_production_workers_run_unsandboxed_and_the_suite_sandboxed():
    assert WorkerTuning.from_env({}).sandboxed is False
    assert WorkerTuning.from_env({"TOWNS_WORKFLOW_SANDBOX": "1"}).sandboxed is True
    assert WorkerTuning.from_env({"TOWNS_WORKFLOW_SANDBOX": "0"}).sandboxed is False
    assert WorkerTuning.from_env().sandboxed is True  # tests/conftest.py sets it for the whole suite


def test_a_sandbox_setting_that_is_neither_0_nor_1_is_refused_in_both_languages():
    with pytest.raises(ConfigError) as exc:
        WorkerTuning.from_env({"TOWNS_WORKFLOW_SANDBOX": "yes"})
    assert "TOWNS_WORKFLOW_SANDBOX is 'yes': give 1 (sandboxed) or 0" in str(exc.value) and "沙箱" in str(exc.value)


@pytest.mark.parametrize(("setting", "runner"), [("0", UnsandboxedWorkflowRunner), ("1", SandboxedWorkflowRunner)])
def test_the_worker_runs_the_workflows_as_the_environment_says(monkeypatch, engine, setting, runner):
    seen = {}
    monkeypatch.setattr(towns.worker, "Worker", lambda *a, **kw: seen.update(kw))
    monkeypatch.setenv("TOWNS_WORKFLOW_SANDBOX", setting)
    with ThreadPoolExecutor(max_workers=1) as ex:
        build_worker(None, engine, "q", ex)  # type: ignore[arg-type]  # never connects: Worker is replaced
    assert isinstance(seen["workflow_runner"], runner)
    assert seen["max_concurrent_activities"] == 16 and seen["max_cached_workflows"] == 5000

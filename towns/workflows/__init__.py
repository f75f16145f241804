"""Temporal workflow definitions: deterministic, no I/O, no clocks but ``workflow.now()``.

They import ``towns.models`` only (contracts, ids, the activities' declarations), plus the
pure report checks of ``towns.rules.report_checks`` that the importer runs too; every
activity is called by typed reference to its declaration in ``towns.models.activities``.
``.importlinter`` holds the rule and ``make test`` checks it.

**Changing a workflow: the patch lifecycle.** A town's workflow lives for years, so a
change to what a workflow *does* (which commands it issues, in which order) must still
replay every history recorded before it. Three steps, each released on its own:

1. ``patched``: the new code runs under ``if workflow.patched("<id>"): new … else: old …``.
   New runs record a marker and take the new path; histories recorded before the change
   have no marker and replay the old path. Record a history with the new code
   (``python -m tests.workflows.record_history vN``) and keep it under
   ``tests/workflows/histories/``; the replay test runs every kept history.
2. ``deprecate_patch``: once no running workflow can still be on the old path (every run
   started before the change has continued as new — town workflows do so each year end,
   or has closed), replace ``patched(...)`` with ``workflow.deprecate_patch("<id>")`` and
   delete the old branch. Histories recorded with the marker still replay; delete the kept
   histories that take the old path (they can no longer replay).
3. removed: once no running workflow carries the marker, delete the ``deprecate_patch``
   call too.

Patches in place (all at step 1; the replay test proves v1–v7 still replay):

| patch id | workflow | since | what changed |
|---|---|---|---|
| ``year-end-continue-as-new`` | TownWorkflow | v2 | a fresh run each year end |
| ``overdue-report-timers`` | TownWorkflow | v3 | durable timers for each month's report |
| ``reports-one-update-at-a-time`` | TownWorkflow | v4 | ``submit_report`` through the serialised file path |
| ``approval-checks-year-order`` | RoundWorkflow | v4 | approval refused when a later year's decision is applied |
| ``reports-owed-from-registration`` | TownWorkflow | v5 | the months watched are the months owed (``models.period.reporting_from``, as the bulletin counts them): a town registered by the previous month's due day owes that report, never a month before January of its listed year; a town put on a list owes from that moment by the same rule |
| ``take-reports-local-activity`` | TownWorkflow | v6 | a file's rows are taken by a local activity (the same ``take_reports``, without a task-queue round trip) |
| ``town-v7-current-paths`` | TownWorkflow | v7 | one marker at a run's start stands for every path above: a run that records it asks no other patch (each patch cost a marker and a search-attribute upsert, the last two at a town's first reports); a run recorded before it asks them one by one, as it did |

Retiring them: once every running town has continued as new under v7 (one year end after the
deployment), the five TownWorkflow patches above it go to step 2 at once — their old branches
are deleted and ``town-v7-current-paths`` alone says the run is current.

The round's city context travels by hash since v6 (``RoundPlan.context_hash``: recorded once in the
ledger, each batch reads it there); no patch is needed, as a replayed run reads its recorded plan
and sends what it sent then.

Changes that issue the same commands (a new Update handler, different activity options,
typed activity calls to the same activity names) need no patch; the replay test says so.
"""

"""The read side: typed read models (pydantic) of what the commands, and the web API, show.

One module per subject; each function reads our database (never Temporal) in a fixed number of
statements and returns models whose ``model_dump(mode="json")`` is the commands' ``--json``:

- ``towns``: a town's status (``town_status``, ``status_of``, ``all_status``), ``get_town``;
- ``history``: a town's history, events discriminated on ``kind``;
- ``rounds``: ``round_detail``, ``round_list``, ``order_refusals``;
- ``quarantine``: ``quarantine_list``;
- ``bulletins``: ``published_bulletin``.

``--as-of`` means recording time throughout (see ``common``). A command reads once and exits: the
ORM's first use in a process (configuring every mapper, compiling ORM statements, making instances)
costs several times the query itself, so the reads of ``towns`` and ``history`` run Core statements
on the models' tables (``towns.models.tables.table``) and work on their rows. This package imports only
``towns.models``, ``towns.rules`` and ``towns.bulletin`` (`.importlinter`).

Each name is imported from its module when first used (PEP 562), so that a command reading one
thing loads only what that read needs: ``towns status`` neither the bulletins (openpyxl) nor the
rounds' rules.
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .bulletins import published_bulletin
    from .common import ClauseFinding, Moment, Recorded, parse_as_of
    from .history import (
        AsOfStanding,
        DecisionEvent,
        FindingEvent,
        HistoryEvent,
        RejectionEvent,
        ReportEvent,
        TownHistory,
        history,
    )
    from .quarantine import QuarantinedRow, RejectedKind, quarantine_list
    from .rounds import (
        DecisionEffects,
        RoundCity,
        RoundDetail,
        RoundState,
        RoundSummary,
        RoundTown,
        TownStanding,
        order_refusals,
        round_detail,
        round_list,
    )
    from .towns import (
        LastReport,
        RecordingStart,
        ReportFigures,
        TownStatus,
        all_status,
        get_town,
        recording_start,
        status_of,
        town_status,
    )

# where each name lives
_MODULES = {
    "AsOfStanding": "history",
    "ClauseFinding": "common",
    "DecisionEffects": "rounds",
    "DecisionEvent": "history",
    "FindingEvent": "history",
    "HistoryEvent": "history",
    "LastReport": "towns",
    "Moment": "common",
    "QuarantinedRow": "quarantine",
    "Recorded": "common",
    "RecordingStart": "towns",
    "RejectedKind": "quarantine",
    "RejectionEvent": "history",
    "ReportEvent": "history",
    "ReportFigures": "towns",
    "RoundCity": "rounds",
    "RoundDetail": "rounds",
    "RoundState": "rounds",
    "RoundSummary": "rounds",
    "RoundTown": "rounds",
    "TownHistory": "history",
    "TownStanding": "rounds",
    "TownStatus": "towns",
    "all_status": "towns",
    "get_town": "towns",
    "history": "history",
    "order_refusals": "rounds",
    "parse_as_of": "common",
    "published_bulletin": "bulletins",
    "quarantine_list": "quarantine",
    "recording_start": "towns",
    "round_detail": "rounds",
    "round_list": "rounds",
    "status_of": "towns",
    "town_status": "towns",
}

__all__ = [
    "AsOfStanding",
    "ClauseFinding",
    "DecisionEffects",
    "DecisionEvent",
    "FindingEvent",
    "HistoryEvent",
    "LastReport",
    "Moment",
    "QuarantinedRow",
    "Recorded",
    "RecordingStart",
    "RejectedKind",
    "RejectionEvent",
    "ReportEvent",
    "ReportFigures",
    "RoundCity",
    "RoundDetail",
    "RoundState",
    "RoundSummary",
    "RoundTown",
    "TownHistory",
    "TownStanding",
    "TownStatus",
    "all_status",
    "get_town",
    "history",
    "order_refusals",
    "parse_as_of",
    "published_bulletin",
    "quarantine_list",
    "recording_start",
    "round_detail",
    "round_list",
    "status_of",
    "town_status",
]


class _Package(ModuleType):
    """This package, whose ``history`` is the function, not the submodule of the same name: the import
    system sets a submodule on its package when it loads it, and the eager imports this package had
    always replaced the submodule ``history`` by the function; so does this."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, ModuleType) and _MODULES.get(name) == name:
            value = getattr(value, name)
        super().__setattr__(name, value)


if not TYPE_CHECKING:  # for the type checker, the names are the imports above

    def __getattr__(name: str) -> Any:
        where = _MODULES.get(name)
        if where is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(import_module(f"{__name__}.{where}"), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(globals()) | set(__all__))


sys.modules[__name__].__class__ = _Package

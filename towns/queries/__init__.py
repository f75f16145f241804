"""The read side: typed read models (pydantic) of what the commands, and the web API, show.

One module per subject; each function reads our database (never Temporal) in a fixed number of
statements and returns models whose ``model_dump(mode="json")`` is the commands' ``--json``:

- ``towns``: a town's status (``town_status``, ``all_status``), ``get_town``;
- ``history``: a town's history, events discriminated on ``kind``;
- ``rounds``: ``round_detail``, ``round_list``, ``order_refusals``;
- ``quarantine``: ``quarantine_list``;
- ``bulletins``: ``published_bulletin``.

``--as-of`` means recording time throughout (see ``common``). This package imports only
``towns.models``, ``towns.rules`` and ``towns.bulletin`` (`.importlinter`).
"""

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
    town_status,
)

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
    "town_status",
]

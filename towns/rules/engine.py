"""The rule engine behind one small interface.

Rules are compiled from pack data into a durable_rules ruleset (one per pack hash): for
each pack rule, whether it applies to the town's tier and whether the measured value
meets its threshold. The arithmetic itself (shares, targets, the comparison) is done
exactly in Python with Decimal, because durable_rules' C engine compares IEEE floats and
refuses JSON numbers in exponent form; it receives the sign of ``value − threshold``.

durable_rules keeps global state, raises when no rule matches a fact, cannot say which
rule fired, and may run actions on its own thread. So: evaluations are serialised by a
lock, each uses a fresh session id deleted afterwards, every fact is matched by exactly
one generated rule (pass, fail or not-applicable), and each action records its verdict
keyed by (session, fact) — the provenance we keep ourselves.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

Verdict = Literal["passed", "failed", "not_applicable"]


@dataclass(frozen=True)
class RuleSpec:
    """One rule as the engine sees it: where it applies and which way it compares."""

    id: str
    tiers: tuple[str, ...]
    direction: Literal["min", "max"] = "min"  # min: value ≥ threshold passes; max: value ≤ threshold


@dataclass(frozen=True)
class Fact:
    rule: str
    tier: str
    cmp: int  # sign of value − threshold: -1, 0 or 1


class RuleEngine(Protocol):
    def judge(self, ruleset: str, specs: tuple[RuleSpec, ...], facts: list[Fact]) -> list[Verdict]: ...


class _PostedFact(Protocol):
    """The message of a fact as durable_rules hands it to an action (``c.m``)."""

    sid: str
    fid: int


class _Closure(Protocol):
    """What durable_rules passes to an action; the library ships no types for it."""

    m: _PostedFact


class DurableRulesEngine:
    """durable_rules, used so that its global state cannot leak between evaluations."""

    _lock = threading.Lock()
    _defined: ClassVar[set[str]] = set()
    _results: ClassVar[dict[str, dict[int, Verdict]]] = {}
    _sessions = itertools.count(1)

    def _define(self, name: str, specs: tuple[RuleSpec, ...]) -> None:
        from durable.lang import m, ruleset, when_all

        results = self._results

        def recorder(verdict: Verdict) -> Callable[[_Closure], None]:
            def action(c: _Closure) -> None:
                results.setdefault(c.m.sid, {})[c.m.fid] = verdict

            return action

        with ruleset(name):
            for _i, spec in enumerate(specs):
                applies = None
                for tier in spec.tiers:
                    cond = m.tier == tier
                    applies = cond if applies is None else (applies | cond)
                ok, ko = (m.cmp >= 0, m.cmp < 0) if spec.direction == "min" else (m.cmp <= 0, m.cmp > 0)
                if applies is not None:
                    when_all((m.rule == spec.id) & applies & ok)(recorder("passed"))
                    when_all((m.rule == spec.id) & applies & ko)(recorder("failed"))
                outside = m.rule == spec.id
                for tier in spec.tiers:
                    outside = outside & (m.tier != tier)
                when_all(outside)(recorder("not_applicable"))
        self._defined.add(name)

    def judge(self, ruleset: str, specs: tuple[RuleSpec, ...], facts: list[Fact]) -> list[Verdict]:
        from durable.lang import delete_state, post

        known = {s.id for s in specs}
        for f in facts:
            if f.rule not in known:
                raise KeyError(f"fact for unknown rule {f.rule!r} in ruleset {ruleset}")
        with self._lock:
            if ruleset not in self._defined:
                self._define(ruleset, specs)
            sid = f"e{next(self._sessions)}"
            try:
                for fid, f in enumerate(facts):
                    post(ruleset, {"sid": sid, "fid": fid, "rule": f.rule, "tier": f.tier, "cmp": f.cmp})
                got = self._results.get(sid, {})
                missing = [facts[i].rule for i in range(len(facts)) if i not in got]
                if missing:
                    raise RuntimeError(f"rule engine gave no verdict for {missing}")
                return [got[i] for i in range(len(facts))]
            finally:
                self._results.pop(sid, None)
                with contextlib.suppress(Exception):  # a session with no state left is fine
                    delete_state(ruleset, sid)


_default: RuleEngine | None = None


def default_engine() -> RuleEngine:
    global _default
    if _default is None:
        _default = DurableRulesEngine()
    return _default

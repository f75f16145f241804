"""The rule engine behind one small interface.

Every check a pack declares is compiled into a durable_rules ruleset (one per resolved pack
hash) that decides, for one measured fact:

- whether the check applies (the town's tier and industry against the check's lists);
- what missing data means (by the measure's case: fail, pass, skip, not_assessed, pending);
- the verdict: the sign of ``value − threshold`` against the direction (min, max, holds,
  info), or an exemption by industry flag;
- for a ladder check (consecutive warnings, failed acceptances), whether the count has
  reached the threshold and, if so, the tier's consequence (demoted, eliminated, office).

The arithmetic is done exactly in Python before the engine, because durable_rules' C engine
compares IEEE floats and refuses JSON numbers in exponent form: it receives signs.

durable_rules keeps global state, raises when no rule matches a fact, cannot say which
rule fired, and may run actions on its own thread. So: evaluations are serialised by a
lock, each uses a fresh session id deleted afterwards, every fact is matched by exactly
one generated rule, and each action records its verdict keyed by (session, fact).
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

# passed | failed | not_applicable | skip | not_assessed | pending | counting | consequence:<grade>
Verdict = str


@dataclass(frozen=True)
class RuleSpec:
    """One check as the engine sees it."""

    id: str
    tiers: tuple[str, ...] | None = None  # None: every tier
    industries: tuple[str, ...] | None = None
    direction: str = "min"  # min | max | holds | info | ladder
    missing: tuple[tuple[str, str], ...] = ()  # (case, policy); the case "*" is the default
    exempt: bool = False  # an industry flag exempts the town from failing
    ladder: tuple[tuple[str, str], ...] = ()  # (tier, consequence) for a ladder check


@dataclass(frozen=True)
class Fact:
    rule: str
    tier: str
    cmp: int = 0  # sign of value − threshold (holds: 0 when it holds, −1 when not)
    industry: str = ""
    missing: str = ""  # the measure's case when the value is missing
    exempt: bool = False


class RuleEngine(Protocol):
    def judge(self, ruleset: str, specs: tuple[RuleSpec, ...], facts: list[Fact]) -> list[Verdict]: ...


class _PostedFact(Protocol):
    sid: str
    fid: int


class _Closure(Protocol):
    """What durable_rules passes to an action; the library ships no types for it."""

    m: _PostedFact


def _any_of(attr: Any, values: tuple[str, ...]) -> Any:
    cond = None
    for v in values:
        c = attr == v
        cond = c if cond is None else (cond | c)
    return cond


def _none_of(base: Any, attr: Any, values: tuple[str, ...]) -> Any:
    for v in values:
        base = base & (attr != v)
    return base


@dataclass
class _Compiler:
    """Generates, for one spec, rules whose conditions are mutually exclusive and cover every fact."""

    spec: RuleSpec
    rules: list[tuple[Any, Verdict]] = field(default_factory=list)

    def compile(self) -> list[tuple[Any, Verdict]]:
        from durable.lang import m

        s = self.spec
        me = m.rule == s.id
        applies = me
        if s.tiers is not None:
            inside = _any_of(m.tier, s.tiers)
            self.rules.append((_none_of(me, m.tier, s.tiers), "not_applicable"))
            applies = me & inside if inside is not None else me
        if s.industries is not None:
            inside = _any_of(m.industry, s.industries)
            self.rules.append((_none_of(applies, m.industry, s.industries), "not_applicable"))
            applies = applies & inside if inside is not None else applies
        cases = tuple(c for c, _ in s.missing if c != "*")
        default = dict(s.missing).get("*", "fail")
        for case, policy in s.missing:
            if case != "*":
                self.rules.append((applies & (m.missing == case), policy))
        self.rules.append((_none_of(applies & (m.missing != ""), m.missing, cases), default))
        measured = applies & (m.missing == "")
        if s.exempt:
            self.rules.append((measured & (m.exempt == 1), "passed"))
            measured = measured & (m.exempt == 0)
        if s.direction == "info":
            self.rules.append((measured, "passed"))
        elif s.direction == "max":
            self.rules += [(measured & (m.cmp <= 0), "passed"), (measured & (m.cmp > 0), "failed")]
        elif s.direction == "ladder":
            for tier, outcome in s.ladder:
                self.rules.append((measured & (m.tier == tier) & (m.cmp >= 0), f"consequence:{outcome}"))
            self.rules.append((_none_of(measured & (m.cmp >= 0), m.tier, tuple(t for t, _ in s.ladder)), "counting"))
            self.rules.append((measured & (m.cmp < 0), "counting"))
        else:  # min, holds
            self.rules += [(measured & (m.cmp >= 0), "passed"), (measured & (m.cmp < 0), "failed")]
        return self.rules


class DurableRulesEngine:
    """durable_rules, used so that its global state cannot leak between evaluations."""

    _lock = threading.Lock()
    _defined: ClassVar[set[str]] = set()
    _results: ClassVar[dict[str, dict[int, Verdict]]] = {}
    _sessions = itertools.count(1)

    def _define(self, name: str, specs: tuple[RuleSpec, ...]) -> None:
        from durable.lang import ruleset, when_all

        results = self._results

        def recorder(verdict: Verdict) -> Callable[[_Closure], None]:
            def action(c: _Closure) -> None:
                results.setdefault(c.m.sid, {})[c.m.fid] = verdict

            return action

        with ruleset(name):
            for spec in specs:
                for cond, verdict in _Compiler(spec).compile():
                    when_all(cond)(recorder(verdict))
        self._defined.add(name)

    def judge(self, ruleset: str, specs: tuple[RuleSpec, ...], facts: list[Fact]) -> list[Verdict]:
        from durable.lang import delete_state, post

        known = {s.id for s in specs}
        for f in facts:
            if f.rule not in known:
                raise KeyError(f"fact for unknown rule {f.rule!r} in ruleset {ruleset}")
        if not facts:
            return []
        with self._lock:
            if ruleset not in self._defined:
                self._define(ruleset, specs)
            sid = f"e{next(self._sessions)}"
            try:
                for fid, f in enumerate(facts):
                    post(
                        ruleset,
                        {
                            "sid": sid,
                            "fid": fid,
                            "rule": f.rule,
                            "tier": f.tier,
                            "industry": f.industry,
                            "cmp": f.cmp,
                            "missing": f.missing,
                            "exempt": int(f.exempt),
                        },
                    )
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

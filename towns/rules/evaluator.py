"""The one evaluator: every check a pack declares, of every kind, through the rule engine.

For one subject (a town's monthly report, a town in a round, or the round's towns), in
stages — indicators, then the grade, then the consequences, each seeing the one before:

1. each check's threshold parameter in force (``threshold_if`` by industry flag); a town
   check whose threshold or points are not in force on the pack's date is not in force
   itself (no finding); a city check says "no target in force";
2. its measure (towns/rules/measures.py): value, effective threshold, variables;
3. the rule engine (towns/rules/engine.py) decides applicability, what missing data
   means, the verdict and the consequence ladder;
4. the finding: the check's clause (by tier, or the ladder's), value and threshold, its
   wording from the pack's templates;
5. for an annual round, the score: Σ points of the scored checks, scaled to 100 over the
   weights that were assessed (a check not assessed through no fault of the town, such as
   tax growth with no city average, leaves its weight out), rounded half up to 2 decimals;
   the band; a failed check with ``effect = "warning"`` caps the grade at warning, one with
   ``effect = "eliminated"`` eliminates; a ladder's consequence demotes or eliminates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..models.finding import Finding, Measure
from .engine import Fact, RuleEngine, RuleSpec, Verdict, default_engine
from .measures import MEASURES, Measured, Subject, cmp, exact, ident
from .pack import SCORE_MAX, Band, Check, RulePack
from .text import num, render

PASSING = ("passed", "not_assessed")


def round_score(x: Fraction) -> Fraction:
    """To 2 decimals, half up, exactly (72.445 → 72.45, whatever its binary float would say)."""
    return Fraction(math.floor(x * 100 + Fraction(1, 2)), 100)


def specs(pack: RulePack) -> tuple[RuleSpec, ...]:
    """The engine's view of every check of the pack."""
    out = []
    for c in pack.checks:
        missing = [("*", c.missing)] if isinstance(c.missing, str) else [("*", "fail"), *c.missing.items()]
        missing.append(("not_in_force", "not_assessed"))
        ladder = tuple((t.id, getattr(t, c.ladder)) for t in pack.tiers) if c.ladder else ()
        out.append(
            RuleSpec(
                id=c.id,
                tiers=tuple(c.tiers) if c.tiers is not None and c.kind != "city" else None,
                industries=tuple(c.industries) if c.industries is not None else None,
                direction=c.direction,
                missing=tuple(missing),
                exempt=c.exempt is not None,
                ladder=ladder,
            )
        )
    return tuple(out)


@dataclass
class Outcome:
    """What one stage, or one subject, produced."""

    findings: list[Finding] = field(default_factory=list)
    verdicts: dict[str, Verdict] = field(default_factory=dict)  # finding id → verdict
    measured: dict[str, Measured] = field(default_factory=dict)
    measures: list[Measure] = field(default_factory=list)
    checks: dict[str, Check] = field(default_factory=dict)


@dataclass
class Evaluator:
    pack: RulePack
    engine: RuleEngine | None = None

    def __post_init__(self) -> None:
        self.engine = self.engine or default_engine()
        self._specs = specs(self.pack)
        self._ruleset = f"pack_{self.pack.hash[:16]}"

    # ---- one stage

    def _threshold(self, check: Check, subject: Subject) -> tuple[Any, bool]:
        """(the threshold parameter's value, whether it is in force)."""
        if not check.in_force:
            return None, False
        if check.threshold_value is not None:
            return check.threshold_value, True
        path = check.threshold
        if subject.town is not None or subject.record is not None:
            flags = self.pack.industry(ident(subject.profile.industry)).flags
            path = next((p for f, p in check.threshold_if.items() if f in flags), path)
        if path is None:
            return None, True
        return (self.pack.value(path), True) if self.pack.has(path) else (None, False)

    def _in_force(self, check: Check) -> bool:
        return check.points is None or self.pack.has(check.points)

    def stage(self, checks: list[Check], subject: Subject) -> Outcome:
        out = Outcome()
        pending: list[tuple[Check, str, Measured]] = []
        facts: list[Fact] = []
        tier = ident(subject.profile.tier) if (subject.town or subject.record) else ""
        industry = ident(subject.profile.industry) if (subject.town or subject.record) else ""
        for check in checks:
            if check.kind == "city" and subject.round_kind not in check.rounds:
                continue
            threshold, in_force = self._threshold(check, subject)
            town_check = check.kind != "city"
            if town_check and not (in_force and self._in_force(check)):
                continue
            if town_check:
                subject.relaxed = "relaxed" in self.pack.industry(ident(subject.profile.industry)).flags and bool(
                    check.threshold_if.get("relaxed")
                )
            got = MEASURES[check.measure](subject, check, threshold)
            for m in got if isinstance(got, list) else [got]:
                if not in_force:
                    m.case, m.missing, m.threshold = "not_in_force", True, None
                elif m.case == "not_in_force":
                    m.missing = True
                sign = self._sign(check, m)
                exempt = bool(industry) and check.exempt in self.pack.industry(str(industry)).flags
                facts.append(
                    Fact(
                        rule=check.id,
                        tier=str(tier),
                        industry=str(industry),
                        cmp=sign,
                        missing=m.case if m.missing else "",
                        exempt=exempt,
                    )
                )
                pending.append((check, check.id + m.suffix, m))
        assert self.engine is not None
        verdicts = self.engine.judge(self._ruleset, self._specs, facts)
        for (check, fid, m), verdict in zip(pending, verdicts, strict=True):
            if verdict == "not_applicable":
                continue
            if verdict == "skip":
                text = check.text.get(m.case)
                out.measures.append(
                    Measure(
                        name=fid,
                        clause=check.clause,
                        value=None,
                        inputs=m.inputs,
                        note=render(text.en, self._vars(m, False)) if text else m.case,
                    )
                )
                continue
            out.verdicts[fid], out.measured[fid], out.checks[fid] = verdict, m, check
            out.findings.append(self._finding(check, fid, m, verdict, str(tier)))
        return out

    def _sign(self, check: Check, m: Measured) -> int:
        if check.direction == "holds":
            return 0 if m.holds else -1
        if m.value is None or m.threshold is None:
            return 0
        return cmp(exact(m.value), exact(m.threshold))

    @staticmethod
    def _vars(m: Measured, passed: bool) -> dict[str, Any]:
        return {"value": m.value, "threshold": m.threshold, "passed": passed, **m.vars}

    def _finding(self, check: Check, fid: str, m: Measured, verdict: Verdict, tier: str) -> Finding:
        ladder = check.direction == "ladder"
        consequence = verdict.split(":", 1)[1] if verdict.startswith("consequence:") else None
        passed = verdict in ("passed", "not_assessed") and not ladder
        case = m.case
        if ladder:
            case = consequence or "counting"
        elif verdict == "pending":
            case = "pending" if "pending" in check.text else m.case
        text = check.text.get(case) or check.text.get("default")
        if text is None:
            raise KeyError(f"check {check.id}: no wording for the case {case!r}; add [checks.text.{case}]")
        v = self._vars(m, passed)
        clause = check.clause_for.get(tier, check.clause)
        if consequence is not None and consequence != "office":
            clause = check.consequence_clause or check.clause_for.get(tier) or self.pack.tier(tier).ladder_clause
        return Finding(
            rule=fid,
            clause=clause,
            inputs=m.inputs,
            value=None if m.value is None else num(m.value, 6),
            threshold=None if m.threshold is None else num(m.threshold, 6),
            passed=passed,
            reason_en=render(text.en, v),
            reason_zh=render(text.zh, v),
        )


# ---------------------------------------------------------------- grading


@dataclass
class Graded:
    findings: list[Finding]
    grade: str
    score: Fraction | None = None
    points: dict[str, Fraction] = field(default_factory=dict)
    weights: dict[str, Fraction] = field(default_factory=dict)
    assessed: dict[str, bool] = field(default_factory=dict)
    rescaled: bool = False


def weights_for(pack: RulePack, tier_id: str) -> dict[str, Fraction]:
    """The annual weights in force for a tier (a tier may move one weight onto another)."""
    w = {k: exact(p.value) for k, p in pack.weights().items()}
    for frm, to in pack.tier(tier_id).weights_move.items():
        if frm in w and to in w:
            w[to] += w[frm]
            w[frm] = Fraction(0)
    return w


def _earned(check: Check, m: Measured, verdict: Verdict, weight: Fraction) -> Fraction:
    if check.scoring == "measured":
        return m.earned or Fraction(0)
    if m.value is None or m.threshold is None:
        return Fraction(0)
    value, thr = exact(m.value), exact(m.threshold)
    if check.scoring == "toward_threshold":
        if verdict == "passed":
            return weight
        return weight * min(Fraction(1), max(Fraction(0), value / thr)) if thr > 0 else Fraction(0)
    return weight if thr == 0 else weight * min(Fraction(1), value / thr)


def band_of(score: Fraction, pack: RulePack) -> Band:
    for band in pack.bands:
        if cmp(score, exact(band.min)) >= 0:
            return band
    return pack.bands[-1]


def grade_annual(ev: Evaluator, subject: Subject) -> Graded:
    pack = ev.pack
    ind = ev.stage(pack.checks_of("annual", "indicator"), subject)
    weights = weights_for(pack, ident(subject.profile.tier))
    points: dict[str, Fraction] = {}
    assessed: dict[str, bool] = {}
    for fid, check in ind.checks.items():
        if check.points is None:
            continue
        name = check.points.rsplit(".", 1)[-1]
        w = weights.get(name, Fraction(0))
        verdict = ind.verdicts[fid]
        assessed[name] = verdict != "not_assessed"
        points[name] = Fraction(0) if not assessed[name] else _earned(check, ind.measured[fid], verdict, w)
    total = sum((weights.get(n, Fraction(0)) for n in points), Fraction(0))
    counted = sum((weights.get(n, Fraction(0)) for n in points if assessed[n]), Fraction(0))
    raw = sum(points.values(), Fraction(0))
    rescaled = counted != SCORE_MAX and counted > 0 and total > 0
    if rescaled:
        raw = raw * SCORE_MAX / counted
    score = round_score(raw)
    band = band_of(score, pack)
    grade = band.grade
    capped_by = [fid for fid, c in ind.checks.items() if c.grade_effect == "warning" and ind.verdicts[fid] == "failed"]
    if capped_by:
        grade = "warning"
    subject.score, subject.band, subject.grade = score, band, grade
    subject.capped = bool(capped_by) and band.grade != "warning"
    findings = list(ind.findings)
    findings += ev.stage(pack.checks_of("annual", "grade"), subject).findings
    for check in pack.checks_of("annual", "consequence"):
        out = ev.stage([check], subject)
        findings += out.findings
        for fid, verdict in out.verdicts.items():
            c = out.checks[fid]
            if c.grade_effect == "eliminated" and verdict == "failed":
                grade = "eliminated"
            elif verdict.startswith("consequence:") and verdict != "consequence:office":
                grade = verdict.split(":", 1)[1]
        subject.grade = grade
    return Graded(findings, grade, score, points, weights, assessed, rescaled)


def grade_pass_fail(ev: Evaluator, subject: Subject, kind: str, passed: str, failed: str) -> Graded:
    """Acceptance and application: every check with an outcome effect must pass."""
    ind = ev.stage(ev.pack.checks_of(kind, "indicator"), subject)
    failures = [
        fid for fid, c in ind.checks.items() if c.grade_effect == "outcome" and ind.verdicts[fid] not in PASSING
    ]
    grade = failed if failures else passed
    # a check waiting on a decision not yet taken (an annual grade pending) fails the round, but
    # is not a failure the consequence ladder counts
    counted = [fid for fid in failures if ind.verdicts[fid] != "pending"]
    subject.failures, subject.grade = counted, grade
    findings = list(ind.findings)
    for check in ev.pack.checks_of(kind, "consequence"):
        out = ev.stage([check], subject)
        findings += out.findings
        for verdict in out.verdicts.values():
            if verdict.startswith("consequence:") and verdict != "consequence:office":
                grade = verdict.split(":", 1)[1]
    return Graded(findings, grade)

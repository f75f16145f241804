"""Monthly checks on one town's year-to-date statistics: the pack's ``kind = "monthly"`` checks,
evaluated by the one evaluator (towns/rules/evaluator.py) under the pack in force for the period."""

from __future__ import annotations

from ..models.finding import Evaluation, Measure
from ..models.period import year_month
from ..models.report import Figures
from ..models.town import TownProfile
from .engine import RuleEngine
from .evaluator import Evaluator
from .measures import Subject, Target, annual_target, cmp, exact
from .pack import RulePack
from .report_checks import is_base_period
from .text import num

__all__ = ["Target", "annual_target", "cmp", "evaluate_monthly", "exact", "num", "tax_growth"]


def tax_growth(tax: float | None, tax_last_year: float | None, clause: str = "") -> Measure:
    """Tax growth on the same period last year (kept for the annual round and the bulletin)."""
    inputs = {"tax": tax, "tax_same_period_last_year": tax_last_year}
    if tax is None or tax_last_year is None:
        note = "no tax figure for this period or the same period last year"
        return Measure(name="tax_growth", clause=clause, value=None, inputs=inputs, note=note)
    if tax_last_year == 0:
        note = "last year's tax was 0: growth is undefined"
        return Measure(name="tax_growth", clause=clause, value=None, inputs=inputs, note=note)
    growth = exact(tax) / exact(tax_last_year) - 1
    return Measure(name="tax_growth", clause=clause, value=num(growth, 6), inputs=inputs)


def evaluate_monthly(
    town: TownProfile,
    period: str,
    revision: int,
    fig: Figures,
    pack: RulePack,
    tax_last_year: float | None = None,
    engine: RuleEngine | None = None,
) -> Evaluation:
    """The findings of one report. A base period (December before the town was listed, reported
    for its tax) has no findings, only its measures."""
    year, month = year_month(period)
    clause = pack.param("tax_growth_margin").clause if pack.has("tax_growth_margin") else ""
    measures = [tax_growth(fig.tax, tax_last_year, clause)]
    findings = []
    if not is_base_period(period, town.listed_year):
        subject = Subject(pack=pack, year=year, town=town, figures=fig, month=month)
        out = Evaluator(pack, engine).stage(pack.checks_of("monthly"), subject)
        findings, measures = out.findings, measures + out.measures
    return Evaluation(
        code=town.code, period=period, revision=revision, pack=pack.ref, findings=findings, measures=measures
    )

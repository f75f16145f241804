"""Checks of a report against its town and the town's earlier reports.

Pure functions: the town workflow's update validator runs them (deterministically, on
workflow state); the importer sends every row to the workflow, so a reporter gets the
same answer from a file as from a single report.

A town reports from January of its listed year, and may also report December of the year
before (its base period, ``is_base_period``): tax growth compares the December
tax of a year with that of the year before, so the base December lets the growth of a
town's first year be assessed.
"""

from __future__ import annotations

from ..models.period import year_month
from ..models.rejection import FIELD_ZH as ZH_FIELD
from ..models.rejection import Problem
from ..models.report import YTD_FIELDS, ReportedPeriod, ReportSubmission
from ..models.town import TownProfile


def is_base_period(period: str, listed_year: int | None) -> bool:
    """Whether ``period`` is the base period of a town listed in ``listed_year``: December of
    the year before (``f"{listed_year - 1}-12"``), reported so that the tax growth of the
    town's first year can be assessed. A town not listed has no base period.

    The monthly evaluation records no findings for a base period (the town was not yet on a
    list, so no rule applies to it) — only its measures, which the annual round reads."""
    return listed_year is not None and period == f"{listed_year - 1:04d}-12"


def check_report(
    sub: ReportSubmission,
    town: TownProfile,
    reported: dict[str, ReportedPeriod],
    current_period: str,
    max_fai_ytd: float,
    max_tax_ytd: float,
    neighbours: dict[str, ReportedPeriod] | None = None,
) -> list[Problem]:
    """The problems of one report against its town and the reports already taken (``reported``).

    ``neighbours``: the months the year-to-date comparison uses, when they are not ``reported``
    — for a file's rows taken together, the town's months as they will be after the file, so
    that a file correcting a whole year upwards is judged as a whole (its January is not
    compared with the February it also corrects).

    A period before the town's listed year is refused, except its base period (December of
    the year before, ``is_base_period``). The base December has no same-year neighbours among
    the listed years' months, so the year-to-date comparison leaves it alone."""
    problems: list[Problem] = []
    neighbours = reported if neighbours is None else neighbours
    year, _ = year_month(sub.period)
    if sub.code != town.code:
        problems.append(Problem(field="code", en=f"report for {sub.code} sent to town {town.code}", zh="小镇代码不符"))
    if sub.period > current_period:
        problems.append(
            Problem(
                field="period",
                en=f"{sub.period} is in the future (the current month is {current_period})",
                zh=f"{sub.period} 尚未到来（当前为 {current_period}）",
            )
        )
    if town.listed_year is not None and year < town.listed_year and not is_base_period(sub.period, town.listed_year):
        base = f"{town.listed_year - 1:04d}-12"
        problems.append(
            Problem(
                field="period",
                en=f"{sub.period} is before the town was listed in {town.listed_year}; "
                f"only {base} may be reported before that, as the base year for tax growth",
                zh=f"{sub.period} 早于小镇列入名单的年份 {town.listed_year}；"
                f"此前仅可报送 {base}（上年 12 月，作为税收增长的基数）",
            )
        )
    if sub.fai > max_fai_ytd:
        problems.append(
            Problem(
                field="fai",
                en=f"{sub.fai} 亿元 is implausible for one town (the rule pack's limit is {max_fai_ytd} 亿元); "
                "figures are in 亿元 — was it entered in 万元?",
                zh=f"{sub.fai} 亿元超出单个小镇的合理范围（上限 {max_fai_ytd} 亿元），请确认单位为亿元",
            )
        )
    if sub.tax is not None and sub.tax > max_tax_ytd:
        problems.append(
            Problem(
                field="tax",
                en=f"{sub.tax} 亿元 is implausible for one town (the rule pack's limit is {max_tax_ytd} 亿元); "
                "figures are in 亿元 — was it entered in 万元?",
                zh=f"{sub.tax} 亿元超出单个小镇的合理范围（上限 {max_tax_ytd} 亿元），请确认单位为亿元",
            )
        )
    earlier = reported.get(sub.period)
    if earlier is not None and not sub.correction:
        problems.append(
            Problem(
                field="period",
                en=f"{sub.period} is already reported (revision {earlier.revision}); "
                "to replace it, send it again with correction = true",
                zh=f"{sub.period} 已报送（第 {earlier.revision} 版）；如需更正，请将“是否更正”填为“是”",
            )
        )
    same_year = [p for p in neighbours if p.startswith(f"{year:04d}-") and p != sub.period]
    previous = max((p for p in same_year if p < sub.period), default=None)
    following = min((p for p in same_year if p > sub.period), default=None)
    for name in YTD_FIELDS:
        now = getattr(sub, name)
        if now is None:
            continue
        before = getattr(neighbours[previous], name) if previous else None
        after = getattr(neighbours[following], name) if following else None
        if before is not None and now < before:
            problems.append(
                Problem(
                    field=name,
                    en=f"{now} is below {before} reported for {previous}: year-to-date figures cannot fall "
                    f"within a year; if {previous} was wrong, correct it first (correction = true)",
                    zh=f"{ZH_FIELD[name]} {now} 低于 {previous} 的累计数 {before}；累计数在年内不应下降，如前期有误请先更正",
                )
            )
        elif after is not None and now > after:
            problems.append(
                Problem(
                    field=name,
                    en=f"{now} is above {after} already reported for the later month {following}: "
                    "year-to-date figures cannot fall within a year; check this figure, or correct the later month",
                    zh=f"{ZH_FIELD[name]} {now} 高于之后月份 {following} 的累计数 {after}；累计数在年内不应下降",
                )
            )
    return problems

"""`towns status` and `towns history`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich import box
from rich.table import Table

from .common import collector_paused, console, engine, err, mark, print_json, settings

if TYPE_CHECKING:  # the read models and the database are imported by the commands (a fast start)
    from sqlalchemy.engine import Engine

JSON = typer.Option(False, "--json", help="machine-readable JSON")
AS_OF = typer.Option(
    None,
    "--as-of",
    help="what the system had RECORDED by then (recording time, end of day, Beijing "
    "time), e.g. 2026-06-30 or 2026-06-30T17:00 — not the months the figures cover: data loaded "
    "today was not recorded in 2018. 按记录时间回看",
)


def _recorded_later_hint(eng: Engine, when: datetime, what: str) -> None:
    """Say so when --as-of hides everything because it was all recorded later (the demo, a backfill)."""
    from ..queries.towns import recording_start

    start = recording_start(eng)
    if start.first_registered_at is not None:
        from ..models.times import CST

        day = start.first_registered_at.astimezone(CST).date().isoformat()
        err.print(
            f"[yellow]{what} by {when:%Y-%m-%d %H:%M} (recording time)[/]: the first town was registered on "
            f"{day}, and {start.ledger_entries} ledger entries were recorded since. --as-of is about when things "
            "were recorded, not about the months the figures cover. 该时点之前尚无记录（--as-of 按记录时间）。"
        )


def _as_of(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    from ..queries.common import parse_as_of

    try:
        return parse_as_of(raw)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _unknown(code: str) -> NoReturn:
    err.print(f"[red]unknown town '{code}'[/] — `towns status` lists the registered towns. 未登记的小镇。")
    raise typer.Exit(2)


@collector_paused
def status(
    code: str | None = typer.Argument(None, help="a town code; all towns when left out"),
    as_json: bool = JSON,
    as_of: str | None = AS_OF,
) -> None:
    """The state of one town or of every town. 小镇状态。"""
    from ..queries.towns import all_status, status_of

    when = _as_of(as_of)
    if code is None:
        s = settings()
        rows = all_status(engine(s), when)
        if as_json:
            print_json([r.model_dump(mode="json") for r in rows])
            return
        t = Table(title="Towns 特色小镇" + (f" as of {as_of}" if as_of else ""), box=box.SIMPLE_HEAD, pad_edge=False)
        for col in (
            "code\n代码",
            "name\n名称",
            "district\n区县",
            "tier\n层级",
            "state\n状态",
            "grade\n等级",
            "last\n最近月份",
            "FAI\n累计投资",
            "target\n年度目标",
            "failed\n未达标",
        ):
            t.add_column(
                col,
                overflow="fold",
                no_wrap=col.startswith(("code", "last")),
                justify="right" if col[:3] in ("FAI", "tar") else "left",
            )
        for row in rows:
            fai = row.last_report.fai if row.last_report else None
            grade = (row.last_grade.value if row.last_grade else "—") + (f" ⚠{row.warnings}" if row.warnings else "")
            t.add_row(
                row.code,
                row.name,
                row.district_zh,
                row.tier_zh,
                row.state_zh,
                grade,
                row.last_period or "—",
                "—" if fai is None else f"{fai:g}",
                f"{row.annual_fai_target:g}",
                "[red]" + ", ".join(row.failed) + "[/]" if row.failed else ("—" if row.last_period else ""),
            )
        console.print(t)
        if not rows and when is not None:
            _recorded_later_hint(engine(s), when, "No town was registered")
        elif not rows:
            console.print("No towns yet: `towns import towns FILE` or `towns demo load`. 暂无小镇。")
        return
    r = status_of(engine(settings()), code, when)
    if r is None:
        _unknown(code)
    if as_json:
        print_json(r.model_dump(mode="json"))
        return
    console.print(
        f"[bold]{r.name}[/] {r.code} — {r.district_zh} · {r.tier_zh} {r.tier} · "
        f"{r.industry_zh} · {r.state_zh} {r.state.value}"
    )
    console.print(
        f"listed {r.listed_year}, creation period {r.creation_years} years; annual FAI target "
        f"{r.annual_fai_target} 亿元 ({r.annual_fai_target_source})"
    )
    console.print(f"reported periods: {r.periods_reported}, last {r.last_period or '—'}; rejections: {r.rejections}")
    console.print(
        f"last annual grade 最近考核等级: {r.last_grade.value if r.last_grade else '—'}; "
        f"consecutive warnings 连续警告: {r.warnings}"
        + (f"; applying for 申报: {r.applying_for}" if r.applying_for else "")
    )
    if r.findings:
        t = Table(title=f"Findings for {r.last_period} 最近一期检查结果")
        for col in ("rule 规则", "clause 条款", "result 结果", "reason 说明"):
            t.add_column(col)
        for f in r.findings:
            t.add_row(f.rule, f.clause, mark(f.passed), f"{f.reason_zh}\n{f.reason_en}")
        console.print(t)


@collector_paused
def history(
    code: str = typer.Argument(..., help="a town code"),
    as_json: bool = JSON,
    as_of: str | None = AS_OF,
    xlsx: Path | None = typer.Option(None, "--xlsx", help="also write the history to this Excel file"),
) -> None:
    """A town's history: every report, finding (with its clause), rejection and decision, in the order recorded.
    小镇历史（审计视图）。"""
    from ..queries.history import history as town_history
    from ..queries.history import registered

    s = settings()
    if not registered(engine(s), code):
        _unknown(code)
    when = _as_of(as_of)
    h = town_history(engine(s), code, when)
    if xlsx is not None:
        from ..audit.export import history_xlsx

        history_xlsx(h, xlsx)
        err.print(f"wrote {xlsx}")
    if as_json:
        print_json(h.model_dump(mode="json"))
        return
    if when is not None and not h.events:
        _recorded_later_hint(engine(s), when, f"Nothing about {code} was recorded")
    if h.state is not None:
        st = h.state
        console.print(
            f"as of {as_of}: {st.state.value}, {st.tier}, "
            f"last grade {st.last_grade.value if st.last_grade else '—'}, warnings {st.warnings}"
        )
    t = Table(title=f"History of {code} 历史记录" + (f" as of {as_of}" if as_of else ""))
    for col in ("time 时间", "period 月份", "kind 类型", "what 内容"):
        t.add_column(col)
    for e in h.events:
        if e.kind == "report":
            what = (
                f"revision {e.revision} by {e.submitted_by}: fai {e.figures.fai}, "
                f"industry {e.figures.industry_fai}, non-gov {e.figures.nongov_fai} 亿元"
            )
        elif e.kind == "finding":
            what = f"{mark(e.passed)} {e.rule} [{e.clause}] {e.reason_zh}\n[dim]{e.clause}: {e.clause_zh}[/]"
        elif e.kind == "decision":
            eff = e.effects
            what = (
                f"[bold]{e.grade.value} {e.grade_zh}[/] in {e.round} (proposed {e.proposed_grade.value}"
                + (f", score {e.score:.2f}" if e.score is not None else "")
                + f") approved by {e.by}"
                + (f" — reason 理由: {e.reason}" if e.reason else "")
                + f"; now {eff.state.value}, {eff.tier}, warnings {eff.warnings}"
            )
        else:
            what = "[red]rejected 退回[/] " + "; ".join(f"{p.field}: {p.en}" for p in e.problems)
        t.add_row(e.time.isoformat()[:19].replace("T", " "), e.period or "", e.kind, what)
    console.print(t)

"""`towns round start|approve|show|list`: assessment rounds with approval. 考核轮次。"""

from __future__ import annotations

from datetime import date
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from ..config import Settings
from .common import (
    DEFAULT_PACK,
    cli_author,
    client_for,
    console,
    engine,
    ensure_worker,
    err,
    mark,
    print_json,
    require_server,
    run,
    settings,
)

if TYPE_CHECKING:  # the rounds' models, the database and Temporal are imported by the commands
    from temporalio.client import WorkflowUpdateFailedError

    from ..models.round import RoundKind
    from ..models.workflows import RoundView

app = typer.Typer(
    help="Assessment rounds: application, annual, acceptance. 申报审核、年度考核、验收命名。", no_args_is_help=True
)
JSON = typer.Option(False, "--json", help="machine-readable JSON")


class Kind(str, Enum):
    """The round kinds as the ``--kind`` options take them: the values of ``towns.models.round.RoundKind``
    (which comes with the ORM), converted to it by ``_kind``; ``tests/cli/test_startup.py`` checks
    that the two agree."""

    application = "application"
    annual = "annual"
    acceptance = "acceptance"


def _kind(kind: Kind) -> RoundKind:
    from ..models.round import RoundKind

    return RoundKind[kind.name]


def parse_growth(raw: str | None) -> float | None:
    if raw is None:
        return None
    text = raw.strip()
    try:
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise typer.BadParameter(f"'{raw}' is not a growth rate: write 0.12 or 12%") from None


def _cause(exc: WorkflowUpdateFailedError) -> str:
    from temporalio.exceptions import ApplicationError

    cause: BaseException | None = exc.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.__cause__  # what TemporalError.cause returns; other exceptions have it too
    if isinstance(cause, ApplicationError) and cause.details:
        return "\n".join(f"  - {p}" for p in cause.details[0])
    return str(exc.cause or exc)


@app.command("start")
def start(
    kind: Kind = typer.Option(..., "--kind", help="application | annual | acceptance"),
    year: int = typer.Option(..., "--year", help="the year assessed, e.g. 2018"),
    city_tax_growth: str | None = typer.Option(
        None,
        "--city-tax-growth",
        help="the published city-wide average tax growth (0.12 or 12%); "
        "without it the round uses the pooled growth of its towns",
    ),
    pack: str = typer.Option(DEFAULT_PACK, "--pack", help="rule pack id"),
    by: str | None = typer.Option(None, "--by", help="who starts the round (default: your login name)"),
    wait: bool = typer.Option(False, "--wait", help="return when the proposals are ready"),
    as_json: bool = JSON,
) -> None:
    """Start an assessment round; it proposes a grade per town and waits for approval. 启动考核。"""
    from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
    from temporalio.exceptions import WorkflowAlreadyStartedError

    from ..models.user import OS_USER_ROLE
    from ..models.workflows import RoundStart, round_id
    from ..queries.rounds import order_refusals
    from ..workflows.round import RoundWorkflow

    round_kind = _kind(kind)
    s = require_server(settings())
    rid = round_id(year, round_kind.value, pack)
    refusals = order_refusals(engine(s), round_kind, year, pack)
    if refusals:
        err.print(f"[red]{rid} refused 不予启动[/]:\n" + "\n".join(f"  - {escape(p)}" for p in refusals))
        raise typer.Exit(2)

    async def go() -> RoundView | None:
        client = await client_for(s)
        await ensure_worker(client, s)
        try:
            handle = await client.start_workflow(
                RoundWorkflow.run,
                RoundStart(
                    kind=round_kind,
                    year=year,
                    pack_id=pack,
                    started_by=cli_author(by),
                    started_role=OS_USER_ROLE,
                    city_tax_growth=parse_growth(city_tax_growth),
                ),
                id=rid,
                task_queue=s.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            err.print(f"[red]{rid} already exists[/]: see `towns round show {rid}`. 该轮次已存在。")
            raise typer.Exit(2) from None
        if wait:
            # temporalio types @workflow.update(name=...) on an async handler with the coroutine as its
            # result (only the bare decorator unwraps it), so execute_update's overloads reject it; at run
            # time the result is decoded as the RoundView the handler declares.
            return await handle.execute_update(RoundWorkflow.proposals_ready)
        return None

    view = run(go())
    if as_json:
        print_json({"id": rid, "state": view.state if view else "evaluating"})
        return
    console.print(f"started [bold]{rid}[/] ({round_kind.zh})")
    if view:
        show(rid, as_json=False)


@app.command("approve")
def approve(
    round_: str = typer.Argument(..., metavar="ROUND", help="round id, e.g. round-2018-annual"),
    by: str = typer.Option(..., "--by", help="who approves (name, kept in the record)"),
    override: list[str] = typer.Option([], "--override", help="CODE=GRADE, e.g. SX-SY-SY=pass; repeat as needed"),
    reason: list[str] = typer.Option([], "--reason", help="the reason for each --override, in the same order"),
    as_json: bool = JSON,
) -> None:
    """Approve a round's proposals, with overrides that each carry a reason. 审定考核结果。

    Nothing changes a town until this is done. Then every decision is applied to its town.
    """
    from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
    from temporalio.service import RPCError

    from ..models.round import Approval, Override
    from ..models.user import OS_USER_ROLE
    from ..queries.rounds import round_detail
    from ..workflows.round import RoundWorkflow

    overrides = []
    for i, item in enumerate(override):
        if "=" not in item:
            raise typer.BadParameter(f"--override {item!r}: write CODE=GRADE, e.g. SX-SY-SY=pass")
        code, grade = item.split("=", 1)
        overrides.append(Override(code=code.strip(), grade=grade.strip(), reason=reason[i] if i < len(reason) else ""))
    if len(reason) > len(override):
        raise typer.BadParameter("more --reason than --override: give one reason after each override")
    s = require_server(settings())
    d = round_detail(engine(s), round_)
    if d is None:
        err.print(f"[red]no round {round_}[/] — `towns round list` shows them. 无此轮次。")
        raise typer.Exit(2)
    if d.approved_by:
        err.print(
            f"[red]approval refused 审定未通过[/]: {round_} was already approved by {d.approved_by} "
            f"at {d.approved_at.isoformat() if d.approved_at else None}; "
            "a decision is changed only by a new round."
        )
        raise typer.Exit(1)

    async def go() -> RoundView:
        client = await client_for(s)
        await ensure_worker(client, s)
        handle = client.get_workflow_handle(round_)
        try:
            # see start(): temporalio's typing of a named async update; the result is the declared RoundView
            return await handle.execute_update(
                RoundWorkflow.approve,
                Approval(by=cli_author(by), role=OS_USER_ROLE, overrides=overrides),
            )
        except WorkflowUpdateFailedError as exc:
            err.print(f"[red]approval refused 审定未通过[/]:\n{_cause(exc)}")
            raise typer.Exit(1) from None
        except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError):
            _server_went_away(s, round_)

    view = run(go())
    if as_json:
        after = round_detail(engine(s), round_)
        print_json(after.model_dump(mode="json") if after else None)
        return
    console.print(f"[green]{round_} approved by {by}[/]; {len(view.proposals)} decisions applied. 已审定。")
    show(round_, as_json=False)


def _server_went_away(s: Settings, round_: str) -> NoReturn:
    """The server died during an approval: say whether the approval is on record, from our database."""
    from ..queries.rounds import round_detail

    d = round_detail(engine(s), round_)
    if d and d.approved_by:
        err.print(
            f"[yellow]the server went away 服务中断[/], but your approval was recorded: {round_} approved by "
            f"{d.approved_by} at {d.approved_at.isoformat() if d.approved_at else None}. "
            "Its decisions are applied when the server is back "
            f"(`towns round show {round_}`). 审定已记录，服务恢复后将应用各小镇的决定。"
        )
        raise typer.Exit(0)
    err.print(
        f"[yellow]the server went away 服务中断[/]: your approval of {round_} was not recorded in the database "
        "yet. Start `towns server` again, then `towns round show " + round_ + "`: if it is still 'proposed', "
        "approve again (a round is approved once; a second approval is refused if the first went through). "
        "审定尚未记录：请重启服务后查看轮次状态，必要时重新审定。"
    )
    raise typer.Exit(2)


@app.command("show")
def show(
    round_: str = typer.Argument(..., metavar="ROUND", help="round id, e.g. round-2018-annual"), as_json: bool = JSON
) -> None:
    """A round: its proposals, final grades, scores, findings and city aggregates. 查看轮次。"""
    from ..queries.rounds import round_detail

    d = round_detail(engine(settings()), round_)
    if d is None:
        err.print(f"[red]no round {round_}[/] — `towns round list` shows them. 无此轮次。")
        raise typer.Exit(2)
    if as_json:
        print_json(d.model_dump(mode="json"))
        return
    console.print(
        f"[bold]{d.id}[/] {d.kind_zh} {d.year} — state {d.state}; pack {d.pack.id} "
        f"{d.pack.version}; started by {d.started_by}"
        + (f"; approved by {d.approved_by}" if d.approved_by else "")
        + (" — [red]approval overdue 逾期未审定[/]" if d.overdue else "")
    )
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col in (
        "code\n代码",
        "name\n名称",
        "tier\n层级",
        "score\n得分",
        "proposed\n拟定",
        "final\n审定",
        "failed\n未达标",
        "reason\n理由",
    ):
        t.add_column(col, overflow="fold")
    for town in d.towns:
        failed = [f.rule for f in town.findings if not f.passed]
        t.add_row(
            town.code,
            town.name,
            town.tier,
            "" if town.score is None else f"{town.score:.2f}",
            f"{town.proposed_grade.value} {town.proposed_grade_zh}",
            f"{town.final_grade.value} {town.final_grade_zh}" if town.final_grade else "—",
            ", ".join(failed),
            town.reason,
        )
    console.print(t)
    findings = d.city.findings
    if findings:
        c = Table(title="City 全市", box=box.SIMPLE_HEAD, pad_edge=False)
        for col in ("rule\n规则", "clause\n条款", "result\n结果", "reason\n说明"):
            c.add_column(col, overflow="fold")
        for f in findings:
            c.add_row(f.rule, f.clause, mark(f.passed), f"{f.reason_zh}\n{f.reason_en}")
        console.print(c)


@app.command("simulate")
def simulate_cmd(
    kind: Kind = typer.Option(..., "--kind", help="application | annual | acceptance"),
    year: int = typer.Option(..., "--year", help="the year assessed"),
    pack: Path = typer.Option(..., "--pack", help="the what-if rule pack (a TOML file like rules/packs/sx2018.toml)"),
    city_tax_growth: str | None = typer.Option(None, "--city-tax-growth", help="0.12 or 12%"),
    as_json: bool = JSON,
) -> None:
    """What if the rules were different? Evaluate a round under another pack; nothing is recorded. 政策模拟。

    Uses the round's recorded inputs when it was run, else the towns as they are now.
    """
    from ..audit.simulate import simulate
    from ..rules.library import load_pack_file
    from ..rules.pack import PackError

    round_kind = _kind(kind)
    try:
        what_if = load_pack_file(pack, date(year, 12, 31))
    except (PackError, OSError) as exc:
        err.print(f"[red]cannot use {pack}[/]: {exc}")
        raise typer.Exit(2) from None
    result = simulate(engine(settings()), round_kind, year, what_if, parse_growth(city_tax_growth))
    if as_json:
        print_json(result.model_dump())
        return
    console.print(
        f"{round_kind.value} {year}: {result.towns} towns; baseline {result.baseline} "
        f"({result.pack_from['version']}), what-if pack {result.pack_to['id']} {result.pack_to['version']}"
    )
    if not result.changes:
        console.print("[green]no grade would change 无等级变化[/]")
        return
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("code\n代码", "name\n名称", "grade\n等级", "score\n得分", "why\n原因"):
        t.add_column(col, overflow="fold")
    for c in result.changes:
        why = (
            "; ".join(
                f"{f['rule']} [{f['clause']}]: "
                + (f"{'pass' if f['before']['passed'] else 'fail'}" if f["before"] else "—")
                + " → "
                + (f"{'pass' if f['after']['passed'] else 'fail'}" if f["after"] else "—")
                + (
                    f" (threshold {f['before']['threshold']} → {f['after']['threshold']})"
                    if f["before"] and f["after"] and f["before"]["threshold"] != f["after"]["threshold"]
                    else ""
                )
                for f in c.findings
            )
            or "score bands"
        )
        t.add_row(
            c.code,
            c.name,
            f"{c.grade_from} → {c.grade_to}",
            f"{c.score_from} → {c.score_to}" if c.score_from is not None else "",
            why,
        )
    console.print(t)
    console.print(f"{len(result.changes)} town(s) would change grade. 共 {len(result.changes)} 个小镇等级变化。")


@app.command("list")
def list_(as_json: bool = JSON) -> None:
    """Every round with its state. 全部轮次。"""
    from ..queries.rounds import round_list

    rows = round_list(engine(settings()))
    if as_json:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("id", "kind", "year", "state", "towns", "started by", "approved by", "pack"):
        t.add_column(col)
    for r in rows:
        t.add_row(
            r.id,
            r.kind.value,
            str(r.year),
            r.state + (" (overdue)" if r.overdue else ""),
            str(r.towns),
            r.started_by,
            r.approved_by or "—",
            r.pack,
        )
    console.print(t)
    if not rows:
        console.print("No rounds yet: `towns round start --kind annual --year 2018`.")


def apply_for_tier(
    code: str = typer.Argument(..., help="town code"),
    tier: str = typer.Option(
        ...,
        "--tier",
        help="tier applied for: provincial_cultivation 省级培育, provincial_creation 省级创建 (or city 市级)",
    ),
    by: str | None = typer.Option(None, "--by", help="who files the application"),
) -> None:
    """File a registered town's application for a (higher) tier; the next application round decides. 申报升级。"""
    from ..intake.service import apply_for_tier as apply_
    from ..models.user import OS_USER_ROLE

    s = require_server(settings())  # writes: only to the database of the home's running server
    try:
        apply_(engine(s), code, tier, cli_author(by), OS_USER_ROLE)
    except ValueError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    console.print(
        f"{code} applies for {tier}; start an application round to decide: "
        f"`towns round start --kind application --year YEAR`"
    )

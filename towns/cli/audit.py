"""`towns audit verify|replay`: the auditor's checks. 审计。"""

from __future__ import annotations

import typer

from .common import console, engine, err, print_json, settings

app = typer.Typer(help="Audit the decision ledger: verify it, replay decisions. 审计决策记录。", no_args_is_help=True)


@app.command("verify")
def verify(as_json: bool = typer.Option(False, "--json", help="machine-readable JSON")) -> None:
    """Recompute the ledger's chain and hashes; exit 1 and name the first broken entry if anything was altered,
    removed or reordered. 校验决策记录未被篡改。"""
    from ..audit.verify import verify as run_verify

    report = run_verify(engine(settings()))
    if as_json:
        print_json(report.model_dump())
    elif report.ok:
        console.print(
            f"[green]ledger intact 记录完整[/]: {report.entries} entries, chain and hashes verified; "
            "decisions, reports and findings match their entries."
        )
    else:
        first = report.problems[0]
        console.print(
            f"[red]ledger broken 记录被改动[/]: first at {first.where}"
            + (f" ({first.key})" if first.key else "")
            + f": {first.what}"
        )
        for p in report.problems[1:]:
            console.print(f"  also {p.where}: {p.what}")
    if not report.ok:
        raise typer.Exit(1)


@app.command("replay")
def replay(
    entry: int | None = typer.Argument(None, help="ledger seq of one entry (see `towns history CODE --json`)"),
    round_: str | None = typer.Option(None, "--round", help="every proposal and decision of a round"),
    all_: bool = typer.Option(False, "--all", help="every finding set, proposal and decision"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable JSON"),
) -> None:
    """Re-evaluate recorded decisions from their recorded inputs under the recorded rule pack; exit 1 on any
    difference. 复核：按原始数据与规则重新计算。"""
    if sum(x is not None and x is not False for x in (entry, round_, all_ or None)) != 1:
        err.print("give exactly one of ENTRY, --round ROUND or --all")
        raise typer.Exit(2)
    from ..audit.replay import replay as run_replay

    results = run_replay(engine(settings()), seq=entry, round_id=round_)
    if not results:
        err.print("nothing to replay for that selection")
        raise typer.Exit(2)
    different = [r for r in results if not r.same]
    if as_json:
        print_json(
            {"replayed": len(results), "different": len(different), "results": [r.model_dump() for r in results]}
        )
    else:
        for r in results:
            if r.same:
                if entry is not None or round_:
                    console.print(f"seq {r.seq:>5} {r.kind:<9} {r.code or '':<12} [green]same 一致[/]")
            else:
                console.print(
                    f"seq {r.seq:>5} {r.kind:<9} {r.code or '':<12} [red]different 不一致[/]: "
                    + "; ".join(r.differences)
                )
        console.print(f"{len(results)} replayed, {len(results) - len(different)} same, {len(different)} different")
    if different:
        raise typer.Exit(1)

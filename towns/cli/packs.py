"""`towns pack check|show|list|test|install`: the programme's rule packs, for the official who
writes next year's pack (docs/packs.md) and the auditor who reads one."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .common import console, err, print_json

if TYPE_CHECKING:
    from ..rules.pack import RulePack

JSON = typer.Option(False, "--json", help="machine-readable JSON")
app = typer.Typer(help="Rule packs: the programme as data. 规则包（考核办法）。", no_args_is_help=True)


def _as_of(raw: str | None) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        err.print(f"[red]--as-of {raw!r} is not a date: write 2018-06-30 / 日期格式应为 2018-06-30[/]")
        raise typer.Exit(2) from None


def _load(pack: str, as_of: date | None) -> RulePack:
    from ..config import ConfigError
    from ..rules.library import load_pack_file, load_programme
    from ..rules.pack import PackError
    from .common import engine, settings

    try:
        if pack.endswith(".toml") or Path(pack).is_file():
            return load_pack_file(pack, as_of)
        try:
            eng = engine(settings())  # the deployment's installed packs, when it has a database
        except ConfigError:
            eng = None
        return load_programme(eng, pack, as_of)
    except (PackError, OSError) as exc:
        err.print(f"[red]cannot use {escape(pack)}[/]:\n{escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None


@app.command("check")
def check(
    files: list[Path] = typer.Argument(..., help="pack files (TOML) to validate"),
    as_json: bool = JSON,
) -> None:
    """Validate pack files: every problem, with how to fix it. Exit 1 on any. 校验规则包。

    A pack is checked on every date one of its values takes effect, so a quota that stops
    summing to the city target in some year is found too.
    """
    from ..rules.library import check_file

    results = {str(f): check_file(f) for f in files}
    if as_json:
        print_json({"files": [{"file": f, "problems": p, "ok": not p} for f, p in results.items()]})
    else:
        for f, problems in results.items():
            if not problems:
                console.print(f"[green]✓[/] {f}: valid 规则包有效")
                continue
            console.print(f"[red]✗[/] {f}: {len(problems)} problem(s) 问题:")
            for p in problems:
                console.print(f"  - {escape(p)}", highlight=False)
    if any(results.values()):
        raise typer.Exit(1)


@app.command("show")
def show(
    pack: str = typer.Argument("sx2018", help="a programme id (sx2018) or a pack file"),
    as_of: str | None = typer.Option(
        None, "--as-of", help="the date whose values to show (2018-06-30); default: the latest"
    ),
    as_json: bool = JSON,
) -> None:
    """The resolved parameters with their clauses, as in force on a date. 查看规则包参数。"""
    p = _load(pack, _as_of(as_of))
    if as_json:
        print_json(
            {
                "pack": p.ref.model_dump(),
                "as_of": p.pack.as_of,
                "layers": p.pack.layers,
                "city": p.city.model_dump(),
                "params": {k: v.model_dump(mode="json") for k, v in p.params.items()},
                "not_in_force": sorted(set(p.declared) - set(p.params)),
                "districts": [d.model_dump() for d in p.districts],
                "tiers": [t.model_dump() for t in p.tiers],
                "industries": [i.model_dump() for i in p.industries],
                "bands": [b.model_dump() for b in p.bands],
                "checks": [{"id": c.id, "kind": c.kind, "clause": c.clause, "measure": c.measure} for c in p.checks],
            }
        )
        return
    when = p.pack.as_of.isoformat() if p.pack.as_of else "latest 最新"
    console.print(
        f"[bold]{p.pack.title_zh}[/] — {p.pack.title_en}\n"
        f"{p.pack.id} {p.pack.version} · {p.city.zh} {p.city.en} · as of 生效日期 {when} · "
        f"layers 层级 {' ← '.join(reversed(p.pack.layers))} · hash {p.hash[:12]}",
        highlight=False,
    )
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    t.add_column("parameter 参数", no_wrap=True)
    t.add_column("value 取值", overflow="fold", max_width=30)
    t.add_column("clause 条款", no_wrap=True)
    t.add_column("in force 生效", no_wrap=True)
    t.add_column("meaning 含义", overflow="fold")
    for path, prm in sorted(p.params.items()):
        reading = " [yellow]office reading 市特色办解读[/]" if prm.reading == "office" else ""
        until = f"–{prm.until}" if prm.until else " →"
        t.add_row(
            path,
            f"{prm.value} {prm.unit}".strip(),
            prm.clause,
            f"{prm.since}{until} ({prm.layer.split()[0]})",
            f"{prm.zh}{reading}\n[dim]{prm.en}[/]",
        )
    Console(width=max(console.width, 160)).print(t)
    gone = sorted(set(p.declared) - set(p.params))
    if gone:
        console.print(f"not in force on this date 该日期未生效: {', '.join(gone)}", highlight=False)
    quotas = [d for d in p.districts if d.quota is not None]
    if p.districts:
        console.print(
            "districts 区县: "
            + "、".join(f"{d.zh} {d.id}" + (f" {d.quota:g} 亿元" if d.quota is not None else "") for d in p.districts)
            + (f" (quotas {quotas[0].quota_clause})" if quotas else ""),
            highlight=False,
        )
    console.print("tiers 层级: " + "、".join(f"{t.zh} {t.id}" for t in p.tiers), highlight=False)
    console.print(
        "bands 等级: " + ", ".join(f"{p.grade_zh(b.grade)} {b.grade} ≥ {b.min:g}" for b in p.bands), highlight=False
    )
    console.print(f"checks 检查项: {len(p.checks)} ({', '.join(sorted({c.kind for c in p.checks}))})")


@app.command("list")
def list_packs(as_json: bool = JSON) -> None:
    """The programmes: shipped with towns, and installed in this deployment. 规则包列表。"""
    from ..rules.layers import shipped_layer
    from ..rules.library import shipped_ids

    rows = []
    for pid in shipped_ids():
        layer = shipped_layer(pid)
        assert layer is not None  # listed from the folder
        header = layer.data["pack"]
        rows.append(
            {
                "id": pid,
                "version": layer.version,
                "extends": header.get("extends"),
                "title_zh": header.get("title_zh", ""),
                "title_en": header.get("title_en", ""),
                "source": "shipped",
            }
        )
    rows += _installed_rows()
    if as_json:
        print_json({"packs": rows})
        return
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("id", "version\n版本", "extends\n基于", "title\n名称", "source\n来源"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(r["id"], r["version"], r["extends"] or "—", f"{r['title_zh']} {r['title_en']}", r["source"])
    Console(width=max(console.width, 140)).print(t)


def _installed_rows() -> list[dict[str, str | None]]:
    """Packs installed in the home's database, if it has one (a read never creates one)."""
    from sqlmodel import Session, col, select

    from ..config import ConfigError
    from ..models.pack_store import PackFile
    from .common import engine, settings

    try:
        eng = engine(settings())
    except ConfigError:
        return []
    with Session(eng) as session:
        files = session.exec(select(PackFile).order_by(col(PackFile.id))).all()
    return [
        {
            "id": f.pack_id,
            "version": f.version,
            "extends": f.extends,
            "title_zh": f.title_zh,
            "title_en": f.title_en,
            "source": f"installed {f.installed_at:%Y-%m-%d} by {f.installed_by}",
        }
        for f in files
    ]


@app.command("install")
def install(
    file: Path = typer.Argument(..., help="the pack file (TOML) to add to this deployment"),
    by: str | None = typer.Option(None, "--by", help="who installs it (default: the OS user)"),
    as_json: bool = JSON,
) -> None:
    """Add a programme, or a new version of one, to this deployment's store. 安装规则包。

    The file is validated first; a version already installed with other content is refused
    (give the new one a new version).
    """
    from ..models.pack_store import install_file
    from ..rules.layers import read_layer
    from ..rules.library import check_file
    from .common import default_user, engine, settings

    problems = check_file(file)
    if problems:
        err.print(f"[red]{file} is not valid; nothing installed[/] 规则包无效，未安装:")
        for p in problems:
            err.print(f"  - {escape(p)}", highlight=False)
        raise typer.Exit(1)
    layer = read_layer(file.read_text("utf-8"), str(file))
    header = layer.data["pack"]
    titles = (header.get("title_zh", ""), header.get("title_en", ""))
    try:
        status = install_file(
            engine(settings()), layer.id, layer.version, layer.extends, titles, layer.text, by or default_user()
        )
    except ValueError as exc:
        err.print(f"[red]{escape(str(exc))}[/]", highlight=False)
        raise typer.Exit(1) from None
    if as_json:
        print_json({"id": layer.id, "version": layer.version, "status": status})
        return
    console.print(f"{layer.id} {layer.version}: {status}", highlight=False)


@app.command("test")
def test(
    files: list[Path] = typer.Argument(..., help="example files (YAML): towns, reports and the expected findings"),
    as_json: bool = JSON,
) -> None:
    """Run legal examples against the programme. Exit 1 if any example disagrees. 运行规则示例。"""
    from ..rules.examples import run_file

    results = [r for f in files for r in run_file(f)]
    if as_json:
        print_json({"examples": [r.model_dump() for r in results], "failed": sum(not r.ok for r in results)})
    else:
        for r in results:
            console.print(f"{'[green]✓[/]' if r.ok else '[red]✗[/]'} {r.name}  [dim]{r.file}[/]", highlight=False)
            for p in r.problems:
                console.print(f"    {escape(p)}", highlight=False)
        failed = sum(not r.ok for r in results)
        console.print(f"{len(results) - failed} passed 通过, {failed} failed 未通过", highlight=False)
    if any(not r.ok for r in results):
        raise typer.Exit(1)

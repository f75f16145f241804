"""The bulletin as one self-contained HTML page: inline CSS, charts as inline SVG drawn
here, no scripts, no external fonts or files. Chinese with English labels; every text
from the data is escaped."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from .compute import CITY_LABELS, FIELD_LABELS, SECTION_LABELS, STATUS_LABELS, Bulletin, Reason, TownFindingOut

COLOURS = {
    "bar": "#2b6cb0",
    "behind": "#d9480f",
    "quota": "#e2e8f0",
    "quota_edge": "#a0aec0",
    "mark": "#805ad5",
    "target": "#c53030",
    "text": "#1a202c",
    "muted": "#4a5568",
}

CSS = """
body{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",system-ui,sans-serif;color:#1a202c;
     margin:2em auto;max-width:1000px;padding:0 1em;line-height:1.5}
h1{font-size:1.5em;border-bottom:3px solid #2b6cb0;padding-bottom:.3em}
h2{font-size:1.2em;margin-top:2em;border-left:4px solid #2b6cb0;padding-left:.5em}
.meta{color:#4a5568;font-size:.9em}
.note{background:#fffbea;border:1px solid #f6e05e;padding:.5em 1em;margin:1em 0}
.draft{background:#fff5f5;border:2px dashed #c53030;color:#c53030;font-weight:bold;padding:.5em 1em;margin:1em 0}
.issued{color:#4a5568;font-size:1em;margin-top:-.5em}
.cards{display:flex;flex-wrap:wrap;gap:1em;margin:1em 0}
.card{border:1px solid #cbd5e0;border-radius:6px;padding:.7em 1em;min-width:260px;flex:1}
.card .big{font-size:1.4em;font-weight:bold}
.card.miss .big{color:#c53030}.card.ok .big{color:#2f855a}
table{border-collapse:collapse;width:100%;font-size:.88em;margin:.5em 0}
th,td{border:1px solid #cbd5e0;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#edf2f7}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.behind td{background:#fff5f5}
.clause{font-family:monospace;font-size:.85em;color:#2c5282;white-space:nowrap}
.en{color:#4a5568;font-size:.9em}
ul.f{margin:0;padding-left:1.1em}
figure{margin:1em 0}figcaption{font-weight:bold;font-size:.95em}
svg{display:block;margin:.5em 0;max-width:100%;height:auto}
svg text{font-family:inherit}
.empty{color:#4a5568;font-style:italic}
"""


def _e(x: object) -> str:
    return escape("" if x is None else str(x), quote=True)


def money(x: float | None) -> str:
    return "—" if x is None else f"{x:,.2f}"


def pct(x: float | None, places: int = 1) -> str:
    return "—" if x is None else f"{x * 100:.{places}f}%"


# ---------------------------------------------------------------- charts

CHART_TITLES = {
    "districts": "图1 各区、县(市)投资完成与任务 — Chart 1: district FAI against quota (亿元)",
    "towns": "图2 小镇年度投资目标完成率排名 — Chart 2: towns by completion of the annual FAI target",
    "monthly": "图3 全市特色小镇逐月累计固定资产投资 — Chart 3: the city's cumulative FAI by month (亿元)",
}


def figure(svg: str, caption: str, clause: str = "") -> str:
    tag = f' <span class="clause">{_e(clause)}</span>' if clause else ""
    return f"<figure>{svg}<figcaption>{_e(caption)}{tag}</figcaption></figure>"


def _svg(width: int, height: int, title: str, body: Iterable[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}">'
        f"<title>{_e(title)}</title>" + "".join(body) + "</svg>"
    )


def _text(
    x: float,
    y: float,
    s: str,
    *,
    size: int = 12,
    anchor: str = "start",
    colour: str = COLOURS["text"],
    weight: str = "normal",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{colour}" '
        f'font-weight="{weight}">{_e(s)}</text>'
    )


def district_chart(b: Bulletin) -> str:
    """Chart 1: each district's total against its quota, with the elapsed-share mark on the quota."""
    label_w, bar_w, value_w, row_h, top = 150, 440, 190, 30, 22
    width = label_w + bar_w + value_w
    height = top + row_h * max(1, len(b.districts)) + 20
    scale_max = max([d.quota or 0.0 for d in b.districts] + [d.total for d in b.districts] + [1e-9])
    sx = bar_w / scale_max
    body = [
        f'<rect x="{label_w}" y="4" width="12" height="8" fill="{COLOURS["quota"]}" stroke="{COLOURS["quota_edge"]}"/>',
        _text(label_w + 16, 12, "任务 quota", size=11, colour=COLOURS["muted"]),
        f'<rect x="{label_w + 90}" y="4" width="12" height="8" fill="{COLOURS["bar"]}"/>',
        _text(label_w + 106, 12, "累计完成 total", size=11, colour=COLOURS["muted"]),
        f'<line x1="{label_w + 200}" y1="2" x2="{label_w + 200}" y2="14" stroke="{COLOURS["mark"]}" stroke-width="2"/>',
        _text(label_w + 206, 12, f"时序进度 elapsed {pct(b.elapsed_share, 0)}", size=11, colour=COLOURS["muted"]),
    ]
    for i, d in enumerate(b.districts):
        y = top + i * row_h
        body.append(_text(label_w - 8, y + 18, f"{d.district_zh} {d.district}", anchor="end"))
        quota = d.quota or 0.0
        body.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{quota * sx:.1f}" height="{row_h - 8}" '
            f'fill="{COLOURS["quota"]}" stroke="{COLOURS["quota_edge"]}"/>'
        )
        body.append(
            f'<rect x="{label_w}" y="{y + 9}" width="{d.total * sx:.1f}" height="{row_h - 18}" '
            f'fill="{COLOURS["bar"]}"/>'
        )
        if d.quota is not None:
            mark = label_w + quota * d.elapsed_share * sx
            body.append(
                f'<line x1="{mark:.1f}" y1="{y + 1}" x2="{mark:.1f}" y2="{y + row_h - 1}" '
                f'stroke="{COLOURS["mark"]}" stroke-width="2"/>'
            )
        shown = f"{money(d.quota)} ({pct(d.completion)})" if d.quota is not None else "无任务 no quota in force"
        body.append(_text(label_w + bar_w + 8, y + 18, f"{money(d.total)} / {shown}", size=11))
    return _svg(width, height, CHART_TITLES["districts"], body)


def town_chart(b: Bulletin) -> str:
    """Chart 2: towns by completion, behind-schedule towns in another colour, a line at elapsed × pace."""
    label_w, bar_w, value_w, row_h, top = 230, 440, 90, 24, 34
    width = label_w + bar_w + value_w
    height = top + row_h * max(1, len(b.towns)) + 28
    scale_max = max([1.0] + [t.completion for t in b.towns])
    sx = bar_w / scale_max
    pace = b.elapsed_share * b.pace_factor
    body = [
        f'<rect x="{label_w}" y="4" width="12" height="8" fill="{COLOURS["bar"]}"/>',
        _text(label_w + 16, 12, "正常 on schedule", size=11, colour=COLOURS["muted"]),
        f'<rect x="{label_w + 120}" y="4" width="12" height="8" fill="{COLOURS["behind"]}"/>',
        _text(label_w + 136, 12, "落后进度 behind schedule", size=11, colour=COLOURS["muted"]),
    ]
    bottom = top + row_h * max(1, len(b.towns))
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        if tick > scale_max:
            continue
        x = label_w + tick * sx
        body.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="#edf2f7"/>')
        body.append(_text(x, bottom + 14, pct(tick, 0), size=10, anchor="middle", colour=COLOURS["muted"]))
    for i, t in enumerate(b.towns):
        y = top + i * row_h
        colour = COLOURS["behind"] if t.behind_schedule else COLOURS["bar"]
        body.append(_text(label_w - 8, y + 16, f"{t.rank}. {t.name} {t.code}", anchor="end", size=11))
        body.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{t.completion * sx:.1f}" height="{row_h - 8}" '
            f'fill="{colour}"><title>{_e(t.code)} {_e(pct(t.completion))}</title></rect>'
        )
        body.append(
            _text(
                label_w + t.completion * sx + 6,
                y + 16,
                pct(t.completion) + ("" if t.reported else " 未报 no report"),
                size=11,
            )
        )
    x = label_w + pace * sx
    body.append(
        f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{bottom}" stroke="{COLOURS["target"]}" '
        f'stroke-width="2" stroke-dasharray="5,3"/>'
    )
    body.append(
        _text(
            x + 4,
            top - 2,
            f"进度线 pace {pct(b.elapsed_share, 0)} × {b.pace_factor:g} = {pct(pace)}",
            size=11,
            colour=COLOURS["target"],
        )
    )
    return _svg(width, height, CHART_TITLES["towns"], body)


def monthly_chart(b: Bulletin) -> str:
    """Chart 3: the city's cumulative FAI month by month against the G1 line."""
    left, right, top, plot_h, bottom_pad = 60, 190, 16, 240, 30
    months = b.city.monthly_cumulative
    col_w = 56
    plot_w = col_w * 12
    width = left + plot_w + right
    height = top + plot_h + bottom_pad
    target = b.city.fai_target  # none: no city target in force for the year
    scale = target if target is not None else max([m.total_fai for m in months] + [1e-9])
    y_max = max([scale] + [m.total_fai for m in months] + [1e-9]) * 1.1
    sy = plot_h / y_max
    base = top + plot_h

    def y(v: float) -> float:
        return base - v * sy

    body = []
    for frac in (0, 0.25, 0.5, 0.75, 1.0):
        v = scale * frac
        body.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{left + plot_w}" y2="{y(v):.1f}" stroke="#edf2f7"/>')
        body.append(_text(left - 6, y(v) + 4, f"{v:g}", size=10, anchor="end", colour=COLOURS["muted"]))
    body.append(f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="{COLOURS["muted"]}"/>')
    if target is not None:  # the year's even schedule: target × m ÷ 12
        pts = " ".join(f"{left + m * col_w:.1f},{y(target * m / 12):.1f}" for m in range(13))
        body.append(f'<polyline points="{pts}" fill="none" stroke="{COLOURS["mark"]}" stroke-dasharray="2,3"/>')
        body.append(_text(left + plot_w + 6, y(target) + 16, "时序进度 even schedule", size=11, colour=COLOURS["mark"]))
    for i, m in enumerate(months):
        x = left + i * col_w + 8
        h = m.total_fai * sy
        body.append(
            f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{col_w - 16}" height="{h:.1f}" '
            f'fill="{COLOURS["bar"]}"><title>{_e(m.period)} {_e(money(m.total_fai))}</title></rect>'
        )
        body.append(_text(x + (col_w - 16) / 2, base - h - 4, money(m.total_fai), size=10, anchor="middle"))
    for i in range(12):
        body.append(
            _text(
                left + i * col_w + col_w / 2, base + 16, f"{i + 1}月", size=10, anchor="middle", colour=COLOURS["muted"]
            )
        )
    if target is not None:
        body.append(
            f'<line x1="{left}" y1="{y(target):.1f}" x2="{left + plot_w}" y2="{y(target):.1f}" '
            f'stroke="{COLOURS["target"]}" stroke-width="2" stroke-dasharray="6,3"/>'
        )
        body.append(
            _text(left + plot_w + 6, y(target) + 4, f"目标 target {target:g} 亿元", size=11, colour=COLOURS["target"])
        )
    return _svg(width, height, CHART_TITLES["monthly"], body)


# ---------------------------------------------------------------- tables


def _table(headers: list[str], rows: list[str], empty: str) -> str:
    if not rows:
        return f'<p class="empty">{_e(empty)}</p>'
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _reasons(items: Sequence[TownFindingOut | Reason]) -> str:
    if not items:
        return ""
    lis = "".join(
        f'<li><span class="clause">{_e(getattr(f, "period", ""))} {_e(f.clause)} {_e(f.rule)}</span> '
        f'{_e(f.reason_zh)}<br><span class="en">{_e(f.reason_en)}</span></li>'
        for f in items
    )
    return f'<ul class="f">{lis}</ul>'


def _towns_table(b: Bulletin) -> str:
    L = FIELD_LABELS
    headers = [
        L["rank"],
        L["tier_rank"],
        L["code"],
        L["name"],
        L["district"],
        L["tier"],
        L["fai"],
        L["annual_target"],
        L["completion"],
        L["behind_schedule"],
        L["findings"],
    ]
    rows = []
    for t in b.towns:
        rows.append(
            f'<tr class="{"behind" if t.behind_schedule else ""}" id="town-{_e(t.code)}">'
            f'<td class="n">{t.rank}</td><td class="n">{t.tier_rank}</td><td>{_e(t.code)}</td><td>{_e(t.name)}</td>'
            f'<td>{_e(t.district_zh)}<br><span class="en">{_e(t.district)}</span></td>'
            f'<td>{_e(t.tier_zh)}<br><span class="en">{_e(t.tier)}</span></td>'
            f'<td class="n">{money(t.fai) if t.reported else "未报 no report"}</td>'
            f'<td class="n">{money(t.annual_target)}</td><td class="n">{pct(t.completion)}</td>'
            f"<td>{'落后进度 behind' if t.behind_schedule else '否 no'}</td><td>{_reasons(t.findings)}</td></tr>"
        )
    return _table(headers, rows, "无在册小镇 no towns on a list")


def _districts_table(b: Bulletin) -> str:
    L = FIELD_LABELS
    headers = [L["district"], L["towns"], L["total"], L["quota"], L["completion"], L["elapsed_share"]]
    rows = [
        f'<tr><td>{_e(d.district_zh)} <span class="en">{_e(d.district)}</span></td>'
        f'<td>{_e("、".join(d.towns)) or "—"}</td><td class="n">{money(d.total)}</td>'
        f'<td class="n">{money(d.quota)}</td><td class="n">{pct(d.completion)}</td>'
        f'<td class="n">{pct(d.elapsed_share, 0)}</td></tr>'
        for d in b.districts
    ]
    return _table(headers, rows, "无区县任务 no district quotas")


def _warnings_table(b: Bulletin) -> str:
    L = FIELD_LABELS
    headers = [
        L["code"],
        L["name"],
        L["tier"],
        L["projected_grade"],
        L["projected_score"],
        L["fai"],
        L["projected_fai"],
        L["annual_target"],
        L["warnings_before"],
        L["reasons"],
    ]
    rows = [
        f"<tr><td>{_e(w.code)}</td><td>{_e(w.name)}</td>"
        f'<td>{_e(w.tier_zh)}<br><span class="en">{_e(w.tier)}</span></td>'
        f'<td><strong>{_e(w.projected_grade_zh)}</strong> <span class="en">{_e(w.projected_grade)}</span></td>'
        f'<td class="n">{"—" if w.projected_score is None else f"{w.projected_score:g}"}</td>'
        f'<td class="n">{money(w.fai)}</td><td class="n">{money(w.projected_fai)}</td>'
        f'<td class="n">{money(w.annual_target)}</td><td class="n">{w.warnings_before}</td>'
        f'<td>{_e(w.basis_zh)}<br><span class="en">{_e(w.basis_en)}</span>{_reasons(w.reasons)}</td></tr>'
        for w in b.early_warnings
    ]
    return _table(
        headers, rows, "按当前进度，无省级小镇将被警告或降格 — no provincial town is heading for a warning or demotion"
    )


def _missing_table(b: Bulletin) -> str:
    L = FIELD_LABELS
    headers = [L["code"], L["name"], L["period"], L["due"], L["status"], L["received_at"]]
    rows = [
        f"<tr><td>{_e(m.code)}</td><td>{_e(m.name)}</td><td>{_e(m.period)}</td><td>{_e(m.due or '—')}</td>"
        f"<td>{_e(STATUS_LABELS.get(m.status, m.status))}</td><td>{_e(m.received_at or '—')}</td></tr>"
        for m in b.missing_reports
    ]
    return _table(headers, rows, "本季度无逾期未报 — no overdue report this quarter")


# ---------------------------------------------------------------- page


def _card(label: str, value: str, detail: str, ok: bool | None) -> str:
    cls = "" if ok is None else ("ok" if ok else "miss")
    return (
        f'<div class="card {cls}"><div>{_e(label)}</div><div class="big">{_e(value)}</div>'
        f'<div class="meta">{detail}</div></div>'
    )


NO_TARGET = "当年无全市目标 no city target in force for the year"


def _summary(b: Bulletin) -> str:
    c, cl = b.city, b.clauses
    pace = b.elapsed_share * b.pace_factor
    cards = [
        _card(
            CITY_LABELS["total_fai"],
            f"{money(c.total_fai)} 亿元",
            (
                f'目标 target {money(c.fai_target)} 亿元 <span class="clause">{_e(cl.get("fai_target", ""))}</span>；'
                f"完成 {pct(c.fai_completion)}，时序进度 elapsed {pct(b.elapsed_share, 0)}"
            )
            if c.fai_target is not None
            else NO_TARGET,
            None if c.fai_completion is None else c.fai_completion >= pace,
        ),
        _card(
            CITY_LABELS["total_industry_fai"],
            f"{money(c.total_industry_fai)} 亿元",
            (
                f'目标 target {money(c.industry_fai_target)} 亿元 <span class="clause">'
                f"{_e(cl.get('industry_fai_target', ''))}</span>；完成 {pct(c.industry_fai_completion)}"
            )
            if c.industry_fai_target is not None
            else NO_TARGET,
            None if c.industry_fai_completion is None else c.industry_fai_completion >= pace,
        ),
        _card(
            CITY_LABELS["provincial_nongov_share"],
            pct(c.provincial_nongov_share),
            (
                f"下限 minimum {pct(c.nongov_share_min, 0)} "
                f'<span class="clause">{_e(cl.get("nongov_share_min", ""))}</span>'
            )
            if c.nongov_share_min is not None
            else NO_TARGET,
            None
            if c.provincial_nongov_share is None or c.nongov_share_min is None
            else c.provincial_nongov_share >= c.nongov_share_min,
        ),
    ]
    behind = [t for t in b.towns if t.behind_schedule]
    lines = (
        f"<p>在册小镇 {len(b.towns)} 个 towns on a list；落后进度 {len(behind)} 个 behind schedule"
        + (f"：{_e('、'.join(f'{t.name}（{t.code}）' for t in behind))}" if behind else "")
        + f"。省级小镇预警 {len(b.early_warnings)} 个 early warnings "
        f'<span class="clause">{_e(cl.get("early_warnings", ""))}</span>；'
        f"逾期未报 {len(b.missing_reports)} 份 overdue reports "
        f'<span class="clause">{_e(cl.get("missing_reports", ""))}</span>。</p>'
    )
    return f'<div class="cards">{"".join(cards)}</div>{lines}'


def render_html(bulletin: Bulletin) -> str:
    b = bulletin
    title = f"{b.title_zh} — {b.title_en}" + (" (未发布草稿 draft)" if b.draft else "")
    note = f'<div class="note">{_e(b.synthetic_note)}</div>' if b.synthetic_note else ""
    issued = b.issued_on.isoformat() if b.issued_on else "—"
    as_of = b.as_of.isoformat() if b.as_of else issued
    if b.draft:
        dated = f'<p class="issued">草稿日期 draft of {_e(issued)}（北京时间 Beijing time）</p>'
        draft = (
            f'<div class="draft">未发布草稿：本季度通报尚未发布，以下按截至 {_e(as_of)} 24 时（北京时间）记录的数据计算，'
            f"仅供参考。<br>Draft, not published: this quarter's bulletin has not been issued; computed from the "
            f"data recorded by the end of {_e(as_of)} (Beijing time), for reference only.</div>"
        )
    else:
        dated = f'<p class="issued">发布日期 issued on {_e(issued)}（北京时间 Beijing time）</p>'
        draft = ""
    if b.as_of:
        dated += (
            f'<p class="issued">数据截至 {_e(as_of)} 24 时（北京时间）：此后收到的报表和作出的决定不计入本期通报。'
            f"<br>As of the end of {_e(as_of)}, Beijing time: reports received and decisions recorded later do not "
            f"change this bulletin.</p>"
        )
    meta = (
        f'<p class="meta">数据期 data period: 1–{int(b.period[-2:])}月累计 year to date to {_e(b.period)}；'
        f"时序进度 elapsed share {pct(b.elapsed_share, 0)}；进度系数 pace factor {b.pace_factor:g} "
        f'<span class="clause">{_e(b.clauses.get("pace_factor", ""))}</span>；'
        f"规则包 rule pack {_e(b.pack.id)} {_e(b.pack.version)} "
        f'<span class="clause" title="{_e(b.pack.hash)}">{_e(b.pack.hash[:12])}</span>；'
        f'依据 <span class="clause">{_e(b.clauses.get("bulletin", ""))}</span> 季度通报 quarterly bulletin。'
        f"金额单位 money in 亿元。</p>"
    )
    S = SECTION_LABELS
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{_e(b.title_zh)} <br><small>{_e(b.title_en)}</small></h1>",
        dated,
        draft,
        note,
        meta,
        f"<h2>{_e(S['city'])}</h2>",
        _summary(b),
        f'<h2>{_e(S["districts"])} <span class="clause">{_e(b.clauses.get("district_quotas", ""))}</span></h2>',
        figure(district_chart(b), CHART_TITLES["districts"], b.clauses.get("district_quotas", "")),
        _districts_table(b),
        f"<h2>{_e(S['towns'])}</h2>",
        figure(town_chart(b), CHART_TITLES["towns"], b.clauses.get("pace_factor", "")),
        _towns_table(b),
        f'<h2>{_e(S["monthly_cumulative"])} <span class="clause">{_e(b.clauses.get("fai_target", ""))}</span></h2>',
        figure(monthly_chart(b), CHART_TITLES["monthly"], b.clauses.get("fai_target", "")),
        f'<h2>{_e(S["early_warnings"])} <span class="clause">{_e(b.clauses.get("early_warnings", ""))}</span></h2>',
        _warnings_table(b),
        f'<h2>{_e(S["missing_reports"])} <span class="clause">{_e(b.clauses.get("missing_reports", ""))}</span></h2>',
        _missing_table(b),
        "</body></html>",
    ]
    return "\n".join(parts)

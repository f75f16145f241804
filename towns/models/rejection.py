"""The quarantine: every rejected submission, raw, with what was wrong. Nothing is lost.

And the words of a rejection: ``Problem`` (field, English, Chinese), ``bilingual`` for the
validators of our contracts, and ``problems_from`` that turns a pydantic ValidationError
into problems in the office's words — never pydantic's own English ("Input should be
greater than or equal to 0").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError
from sqlalchemy import JSON, Column
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

# the Chinese name of every field a submission can carry (the headers a district office uses)
FIELD_ZH = {
    "code": "小镇代码",
    "name": "小镇名称",
    "district": "区县",
    "tier": "层级",
    "industry": "产业",
    "batch": "批次",
    "listed_year": "列入年份",
    "creation_years": "创建期",
    "planned_investment": "计划总投资",
    "annual_fai_target": "年度投资目标",
    "planned_area_km2": "规划面积",
    "core_area_km2": "核心区面积",
    "state": "状态",
    "programme": "考核办法",
    "period": "月份",
    "fai": "固定资产投资",
    "industry_fai": "特色产业投资",
    "nongov_fai": "非政府投资",
    "tax": "税收收入",
    "new_enterprises": "新入驻企业",
    "high_tech_enterprises": "高新技术企业",
    "high_end_talents": "高端人才",
    "tourists_10k": "游客接待",
    "scenic_level": "景区等级",
    "correction": "是否更正",
    "submitted_by": "填报人",
    "source": "来源",
    "submission_id": "提交编号",
    "row": "该行",
}


def field_zh(name: str) -> str:
    return FIELD_ZH.get(name, name)


class Problem(BaseModel):
    """One thing wrong with a submission: the field and a message in English and Chinese."""

    field: str
    en: str
    zh: str = ""

    def text(self) -> str:
        return f"{self.field}: {self.en}" + (f" ({self.zh})" if self.zh else "")


def bilingual(kind: str, en: str, zh: str, field: str | None = None) -> PydanticCustomError:
    """The error a contract's validator raises: pydantic keeps both texts (and, for a check across
    fields, the field it blames). It is a ValueError, so plain callers can catch it as one."""
    context: dict[str, Any] = {"zh": zh}
    if field:
        context["field"] = field
    return PydanticCustomError(kind, en.replace("{", "(").replace("}", ")"), context)


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _words(err: ErrorDetails) -> tuple[str, str]:
    """English and Chinese (without the field's name) for one pydantic error."""
    kind, ctx = err["type"], err.get("ctx") or {}
    got = _shown(err.get("input"))
    if "zh" in ctx:  # ours
        return err["msg"], str(ctx["zh"])
    if kind == "missing":
        return "is required but the cell is empty", "为必填项，单元格为空"
    if kind in ("float_parsing", "float_type", "decimal_parsing"):
        return f"{got} is not a number", f"“{err.get('input')}”不是数字"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{got} is not a whole number", f"“{err.get('input')}”不是整数"
    if kind == "finite_number":
        return f"{got} is not a finite number", f"“{err.get('input')}”不是有限数值"
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        if bound == 0 and kind == "greater_than_equal":
            return f"cannot be negative (got {got})", f"不能为负数（填写为 {err.get('input')}）"
        word_en, word_zh = ("at least", "不能小于") if kind == "greater_than_equal" else ("above", "必须大于")
        return f"must be {word_en} {bound} (got {got})", f"{word_zh} {bound}（填写为 {err.get('input')}）"
    if kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        return (
            f"{got} is out of range: at most {bound}",
            f"{err.get('input')} 超出范围（不能大于 {bound}），请检查单位和数字",
        )
    if kind == "string_too_long":
        return (
            f"is {len(str(err.get('input')))} characters long; at most {ctx.get('max_length')}",
            f"长度为 {len(str(err.get('input')))} 个字符，最多 {ctx.get('max_length')} 个",
        )
    if kind == "string_too_short":
        return "is empty", "不能为空"
    if kind == "string_pattern_mismatch":
        return f"{got} is not in the expected form", f"“{err.get('input')}”格式不正确"
    if kind in ("bool_parsing", "bool_type"):
        return f"{got} is not true/false (是/否)", f"“{err.get('input')}”应为 是/否"
    if kind in ("string_type", "dict_type", "list_type", "model_type"):
        return f"{got} is not text", f"“{err.get('input')}”类型不正确"
    msg = str(err.get("msg", "")).removeprefix("Value error, ")
    return msg, f"数据有误：{msg}"


def problems_from(exc: ValidationError) -> list[Problem]:
    """The problems of a failed validation, one per error, named by field, in English and Chinese."""
    out = []
    for err in exc.errors():
        en, zh = _words(err)
        ctx = err.get("ctx") or {}
        where = ".".join(str(x) for x in err["loc"]) or str(ctx.get("field") or "row")
        out.append(Problem(field=where, en=en, zh=f"{field_zh(where)}：{zh}"))
    return out


class Rejection(SQLModel, table=True):
    __tablename__ = "rejections"

    id: int | None = SQLField(default=None, primary_key=True)
    key: str | None = SQLField(
        default=None,
        unique=True,
        max_length=300,
        description="idempotency key (import batch and row): a retried write leaves one row",
    )
    kind: str = SQLField(max_length=20, description="report | town")
    code: str | None = SQLField(default=None, index=True, max_length=64)
    period: str | None = SQLField(default=None, max_length=20)
    source: str | None = None
    submitted_by: str = "unknown"
    received_at: datetime
    raw: dict[str, Any] = SQLField(default_factory=dict, sa_column=Column(JSON, nullable=False))
    problems: list[dict[str, Any]] = SQLField(default_factory=list, sa_column=Column(JSON, nullable=False))


def _clip(text: str | None, size: int) -> str | None:
    """A value for an indexed column: whole when it fits, else cut with '…' (the raw row keeps it whole)."""
    if text is None:
        return None
    text = str(text).replace("\x00", "\\0")
    return text if len(text) <= size else text[: size - 1] + "…"


def jsonable(raw: dict[str, Any]) -> dict[str, Any]:
    """A raw row as JSON can keep it: numbers, text, booleans and None as they are; dates as ISO text;
    anything else as its text. Infinite numbers become their text ('inf'), not null: kept as sent."""
    import math
    from datetime import date, datetime

    def one(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return repr(v)
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, (date, datetime)):
            return v.isoformat()
        return str(v)

    return {str(k): one(v) for k, v in raw.items()}


def rejection_row(
    kind: str,
    *,
    key: str | None,
    code: str | None,
    period: str | None,
    source: str | None,
    by: str,
    raw: dict[str, Any],
    problems: list[Problem],
) -> Rejection:
    """The quarantine row of a refused submission: the raw cells as sent, and why."""
    from .times import now_utc

    return Rejection(
        kind=kind,
        key=_clip(key, 300),
        code=_clip(code, 64),
        period=_clip(period, 20),
        source=_clip(source, 300),
        submitted_by=_clip(by, 200) or "unknown",
        received_at=now_utc(),
        raw=jsonable(raw),
        problems=[p.model_dump() for p in problems],
    )

"""Small builders for test inputs."""

from __future__ import annotations

from towns.models.report import ReportSubmission
from towns.models.town import TownProfile


def town(**over) -> TownProfile:
    base = dict(
        code="SX-T1",
        name="测试小镇",
        district="keqiao",
        tier="provincial_creation",
        industry="fashion",
        listed_year=2016,
        planned_investment=50,
    )
    return TownProfile.model_validate({**base, **over})


def report(period="2018-06", code="SX-T1", **over) -> ReportSubmission:
    base = dict(
        code=code,
        period=period,
        fai=10.0,
        industry_fai=8.0,
        nongov_fai=9.0,
        tax=1.0,
        submitted_by="tester",
        submission_id=f"test:{code}:{period}:{over.get('correction', False)}",
    )
    return ReportSubmission.model_validate({**base, **over})


def what_if(body: str, extends: str = "sx2018", as_of=None):
    """A pack layered on a shipped one: ``body`` is the TOML of the layer's changes (a what-if
    pack as an official writes one)."""
    from towns.rules.library import parse_pack

    head = f'[pack]\nid = "what-if"\nversion = "1"\nschema = 2\nextends = "{extends}"\ntitle_zh = "假设"\ntitle_en = "what if"\n'
    return parse_pack(head + body, "what-if", as_of)

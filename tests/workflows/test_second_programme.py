"""A second programme (Huzhou 2019, illustrative figures: towns/rules/packs/hz2019.toml) runs the
whole lifecycle from its own pack, beside Shaoxing's, with no code of its own: import through its
vocabularies, monthly evaluation, every round kind, the bulletin."""

from datetime import date

from sqlmodel import Session, select

from tests.factories import report
from towns.bulletin import compute_bulletin
from towns.intake.files import Row
from towns.intake.service import import_towns, submit_report
from towns.models.finding import FindingRow
from towns.models.town import Town

HZ = "hz2019"


def row(n: int, **values) -> Row:
    return Row(number=n, raw=dict(values), values=dict(values))


async def test_huzhou_runs_its_whole_lifecycle_beside_shaoxing(office, engine):
    tag = office.tag
    code = {k: f"HZ-{k}-{tag}" for k in ("A", "B", "C", "D")}
    rows = [
        # its own districts and tiers, in the office's words
        row(
            2,
            code=code["A"],
            name="吴兴甲小镇",
            district="吴兴区",
            tier="省级创建",
            industry="时尚",
            listed_year=2018,
            programme=HZ,
        ),
        row(
            3,
            code=code["B"],
            name="南浔乙小镇",
            district="南浔",
            tier="县级特色小镇",
            industry="时尚",
            listed_year=2018,
            planned_investment=30,
            programme=HZ,
        ),
        row(
            4,
            code=code["C"],
            name="德清丙小镇",
            district="德清县",
            tier="省级创建",
            industry="信息经济",
            listed_year=2017,
            programme=HZ,
        ),
        row(
            5,
            code=code["D"],
            name="安吉丁小镇",
            district="安吉县",
            tier="省级创建",
            industry="旅游",
            state="applied",
            planned_area_km2=3.0,
            core_area_km2=1.0,
            planned_investment=40,
            programme=HZ,
        ),
        # Shaoxing's district names mean nothing in Huzhou's programme
        row(
            6,
            code=f"HZ-X-{tag}",
            name="错区小镇",
            district="柯桥区",
            tier="省级创建",
            industry="时尚",
            listed_year=2018,
            programme=HZ,
        ),
        # and a Shaoxing town in the same deployment, under its own programme
        row(
            7,
            code=f"SX-Y-{tag}",
            name="柯桥小镇",
            district="柯桥区",
            tier="省级创建",
            industry="时尚",
            listed_year=2018,
        ),
    ]
    results = await import_towns(office.env.client, engine, rows, by="office", source="t.csv", task_queue=office.queue)
    assert [r.status for r in results] == ["registered"] * 4 + ["rejected", "registered"]
    assert "not a district of the programme hz2019" in results[4].problems[0].en
    with Session(engine) as s:
        a = s.get(Town, code["A"])
        assert (a.programme, a.district, a.tier) == (HZ, "wuxing", "provincial_creation")
        assert s.get(Town, code["B"]).tier == "county"
        assert s.get(Town, f"SX-Y-{tag}").programme == "sx2018"

    # ---- monthly: Huzhou's pace factor 0.75 and its clauses
    await submit_report(
        office.env.client,
        report(
            code=code["A"],
            period="2019-06",
            fai=5.6,
            industry_fai=5.0,
            nongov_fai=4.3,
            tax=0.5,
            submission_id=f"{code['A']}-2019-06",
        ),
    )
    with Session(engine) as s:
        found = {f.rule: f for f in s.exec(select(FindingRow).where(FindingRow.code == code["A"])).all()}
    pace = found["pace-provincial"]
    assert pace.threshold == 5.625 and not pace.passed  # 15 × 6/12 × 0.75
    assert pace.clause.startswith("HZ2019-") and pace.pack_id == HZ
    assert found["nongov-share"].threshold == 0.75 and found["nongov-share"].passed  # 4.3 / 5.6 = 76.8 %

    # ---- annual 2019, Huzhou's round: its towns only, its bands and clauses
    for c, fai, tax in ((code["A"], 16, 1.3), (code["B"], 3, 0.4), (code["C"], 12, 1.2)):
        await office.december(c, 2018, fai=fai, tax=1.0)
        await office.december(c, 2019, fai=fai, tax=tax, scenic=3)
    annual = await office.round("annual", 2019, pack_id=HZ, city_tax_growth=0.1)
    by = {t.code: t for t in annual.towns}
    assert set(by) == {code["A"], code["B"], code["C"]}  # not the Shaoxing town, not the applicant
    grade_a = next(f for f in by[code["A"]].findings if f.rule == "annual-grade")
    assert by[code["A"]].proposed_grade == "excellent" and grade_a.threshold == 85  # Huzhou's band, not 90
    assert by[code["B"]].proposed_grade == "eliminated"  # county: slow (3 < 0.6 × 10) and poor
    districts = {f.rule for f in annual.city.findings if f.rule.startswith("city-district-")}
    assert districts == {f"city-district-{d}" for d in ("wuxing", "nanxun", "deqing", "changxing", "anji")}
    assert all(f.clause.startswith("HZ2019-") for f in annual.city.findings if f.rule.startswith("city-"))

    # ---- acceptance 2019 (listed 2017, three years) and application 2019
    await office.december(code["C"], 2017, fai=20, tax=1.0)
    acc = await office.round("acceptance", 2019, pack_id=HZ)
    assert [t.code for t in acc.towns] == [code["C"]]
    app = await office.round("application", 2019, pack_id=HZ)
    assert {t.code: t.final_grade for t in app.towns} == {code["D"]: "admitted"}

    # ---- the bulletin: Huzhou's title, districts and towns
    b = compute_bulletin(engine, "2019Q2", HZ, issued_on=date(2019, 7, 20))
    assert b.title_zh.startswith("湖州市") and b.pack.id == HZ
    assert {d.district for d in b.districts} == {"wuxing", "nanxun", "deqing", "changxing", "anji"}
    assert {t.code for t in b.towns} >= {code["A"]} and f"SX-Y-{tag}" not in {t.code for t in b.towns}

"""What-if packs and as-of views on a recorded scenario."""

from datetime import UTC, date, datetime

from tests.factories import what_if
from tests.office import Office
from towns.audit.simulate import simulate
from towns.models.round import RoundKind
from towns.queries import all_status, get_town, history, town_status

BANDS = {"excellent": 90, "good": 80, "pass": 60, "warning": 0}


def bands(**changed: int):
    """A what-if pack (a layer on sx2018) with some grade bands moved."""
    body = "".join(
        f'[[bands]]\ngrade = "{g}"\nmin = {changed.get(g, m)}\nclause = "ZJ-ASSESS-GRADES"\n' for g, m in BANDS.items()
    )
    return what_if(body, as_of=date(2018, 12, 31))


async def test_simulate_reports_exactly_the_towns_a_band_moves(env, engine, worker):
    office = Office(env, engine, worker)
    codes = {}
    # three towns with clearly different scores; the innovation rank separates them
    for name, fai, innovation in (("HI", 30, 30), ("MID", 20, 10), ("LOW", 16, 0)):
        codes[name] = await office.register(name, listed_year=2016)
        await office.december(codes[name], 2017, fai=fai, tax=0.8, innovation=innovation)
        await office.december(codes[name], 2018, fai=fai, tax=1.0, innovation=innovation)
    detail = await office.round("annual", 2018, city_tax_growth=-1.0)
    scores = {t.code: (t.score, t.proposed_grade) for t in detail.towns}
    hi, mid, low = (scores[codes[n]] for n in ("HI", "MID", "LOW"))
    assert hi[1] == mid[1] == "excellent" and low[1] == "good" and hi[0] > int(mid[0]) + 1, scores
    # raise the excellent band just above the middle town's score: exactly that town moves down to good
    result = simulate(engine, RoundKind.annual, 2018, bands(excellent=int(mid[0]) + 1), round_id=detail.id)
    assert result.baseline.startswith("recorded round")
    assert [(c.code, c.grade_from, c.grade_to) for c in result.changes] == [(codes["MID"], "excellent", "good")]
    # a band no town is near changes nothing
    assert simulate(engine, RoundKind.annual, 2018, bands(**{"pass": 59}), round_id=detail.id).changes == []


async def test_as_of_shows_state_before_and_after_a_decision(env, engine, worker):
    office = Office(env, engine, worker)
    code = await office.register("ASOF", listed_year=2016)
    await office.december(code, 2016, fai=5)
    await office.round("annual", 2016, city_tax_growth=0.0)  # warning
    between = datetime.now(UTC)
    await office.december(code, 2017, fai=5)
    await office.round("annual", 2017, city_tax_growth=0.0)  # demoted
    now = town_status(engine, get_town(engine, code))
    then = town_status(engine, get_town(engine, code), between)
    assert (now.tier, now.last_grade) == ("provincial_cultivation", "demoted")
    assert (then.tier, then.last_grade, then.warnings) == ("provincial_creation", "warning", 1)
    assert then.last_period == "2016-12"
    h = history(engine, code, between)
    assert [e.grade for e in h.events if e.kind == "decision"] == ["warning"]
    assert h.state.tier == "provincial_creation"
    before_all = datetime(2000, 1, 1, tzinfo=UTC)
    assert all(r.code != code for r in all_status(engine, before_all))

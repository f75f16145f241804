"""Rule packs: dated parameters, layers, validation that says how to fix a pack, hashing."""

from datetime import date
from importlib import resources

import pytest

from tests.factories import town, what_if
from towns.models.report import Figures
from towns.rules.legacy import shipped_legacy
from towns.rules.library import load_pack, parse_pack
from towns.rules.monthly import evaluate_monthly
from towns.rules.pack import PackError

SX2018 = resources.files("towns.rules").joinpath("packs", "sx2018.toml").read_text("utf-8")
Y2017, Y2018 = date(2017, 6, 30), date(2018, 6, 30)


def test_the_2017_and_2018_packs_differ_exactly_by_the_shaoxing_layer():
    p17, p18 = load_pack("sx2018", Y2017), load_pack("sx2018", Y2018)
    from_city = {k for k, p in p18.params.items() if p.layer.startswith("sx2018")}
    assert from_city == {k for k in p18.params if k not in p17.params or p17.params[k] != p18.params[k]}
    assert {"city_fai_target", "city_industry_fai_target", "nongov_share_min", "pace_factor"} <= from_city
    assert all(p.layer.startswith("zj") for p in p17.params.values())
    assert [d.quota for d in p17.districts] == [None] * 7 and sum(d.quota or 0 for d in p18.districts) == 300
    assert p17.hash != p18.hash and p17.pack.as_of == Y2017


def test_the_2018_targets_are_not_in_force_in_2019():
    p19 = load_pack("sx2018", date(2019, 6, 30))
    assert not p19.has("city_fai_target") and not p19.has("city_named_min")
    assert p19.value("nongov_share_min") == 0.8  # the working values go on until a new pack changes them


def test_a_monthly_evaluation_uses_the_values_in_force_for_its_period():
    fig = Figures(fai=1.0, industry_fai=0.9, nongov_fai=0.5)
    rules17 = {f.rule for f in evaluate_monthly(town(), "2017-06", 1, fig, load_pack("sx2018", Y2017)).findings}
    rules18 = {f.rule for f in evaluate_monthly(town(), "2018-06", 1, fig, load_pack("sx2018", Y2018)).findings}
    assert rules17 == {"industry-share"}  # no pace factor, no 80 % non-government target before 2018
    assert rules18 == {"industry-share", "nongov-share", "pace-provincial"}


def test_a_layer_changes_one_number_and_the_rule_follows_it():
    strict = what_if('[params.industry_share_min]\nclause = "ZJ-GUIDE-IND70"\nvalues = { 2018-01-01 = 0.75 }\n')
    fig = Figures(fai=10, industry_fai=7.2, nongov_fai=9)

    def passed(pack):
        return {f.rule: f.passed for f in evaluate_monthly(town(), "2018-06", 1, fig, pack).findings}

    assert passed(load_pack())["industry-share"] is True
    assert passed(strict)["industry-share"] is False
    assert strict.pack.layers == ["zj 2015.1", "sx2018 2018.3", "what-if 1"]


def test_a_later_value_replaces_an_earlier_one_from_its_date():
    pack = what_if('[params.nongov_share_min]\nclause = "SX2018-G4"\nvalues = { 2018-07-01 = 0.85 }\n', as_of=None)
    assert pack.value("nongov_share_min") == 0.85
    early = what_if('[params.nongov_share_min]\nclause = "SX2018-G4"\nvalues = { 2018-07-01 = 0.85 }\n', as_of=Y2018)
    assert early.value("nongov_share_min") == 0.8


def test_hash_is_stable_and_changes_with_content():
    assert parse_pack(SX2018).hash == parse_pack(SX2018).hash == load_pack().hash
    changed = parse_pack(SX2018.replace("values = { 2018-01-01 = 0.80 }", "values = { 2018-01-01 = 0.75 }"))
    assert changed.value("nongov_share_min") == 0.75 and changed.hash != load_pack().hash


@pytest.mark.parametrize(
    "layer,message",
    [
        (
            '[[districts]]\nid = "paojiang"\nquota = { clause = "SX2018-T4", values = { 2018-01-01 = 7 } }\n',
            "sum to 301",
        ),
        ('[params.pace_factor]\nclause = "SX2018-X9"\nvalues = { 2018-01-01 = 0.8 }\n', "unknown clause 'SX2018-X9'"),
        ('[[checks]]\nid = "nongov-share"\nmeasure = "nongov_sharing"\n', "unknown measure 'nongov_sharing'"),
        ('[[checks]]\nid = "nongov-share"\nthreshold = "nongov_min"\n', "unknown parameter 'nongov_min'"),
        ('[[checks]]\nid = "nongov-share"\ntiers = ["provincal"]\n', "unknown tier 'provincal'"),
        (
            '[params.city_named_min]\nclause = "SX2018-G7"\nvalues = { 2018-01-01 = 1, 2019-06-01 = 2 }\nuntil = 2018-12-31\n',
            "after its until",
        ),
        ('[params.pace_factor]\nclause = "SX2018-G3"\n', "give its values by date"),
        ('[params.nongov_share_min]\nclause = "SX2018-G4"\nvalues = { 2018-01-01 = 80 }\n', "ratio between 0 and 1"),
        ("[programme]\nbulletin_months = [1, 4, 7, 13]\n", "13 is not a month"),
        ('[parms.pace_factor]\nclause = "SX2018-G3"\nvalues = { 2018-01-01 = 0.9 }\n', "unknown parms"),
        ("[sanity]\nmax_fai_ytdd = 200\n", "Extra inputs"),
        ('[[tiers]]\nid = "township"\nzh = "镇级"\nen = "township"\n', "tiers.township: give its ladder_clause"),
    ],
)
def test_a_broken_pack_is_refused_saying_how_to_fix_it(layer, message):
    with pytest.raises(PackError, match=message):
        what_if(layer, as_of=Y2018)


def test_a_misspelt_header_key_is_refused_not_ignored():
    with pytest.raises(PackError, match=r"unknown pack\.extend"):
        parse_pack(SX2018.replace('extends = "zj"', 'extend = "zj"'))


def test_a_pack_extending_an_unknown_pack_is_refused():
    with pytest.raises(PackError, match="extends 'zz'"):
        what_if("", extends="zz")


def test_first_schema_packs_still_load_with_their_recorded_hash():
    (legacy,) = shipped_legacy()
    assert legacy.pack.version == "2018.2" and legacy.hash.startswith("289816d43a0a")
    # its own numbers, its own (frozen) rules: named towns had no pace rule then
    fig = Figures(fai=1.0, industry_fai=0.9, nongov_fai=0.9)
    rules = {f.rule for f in evaluate_monthly(town(tier="named"), "2018-06", 1, fig, legacy).findings}
    assert rules == {"nongov-share", "industry-share"}

"""The rule pack: every number cited, checked on load, hashed."""

from importlib import resources

import pytest

from towns.rules.clauses import catalogue
from towns.rules.pack import PackError, load_pack, parse_pack

TEXT = resources.files("towns.rules").joinpath("packs", "sx2018.toml").read_text("utf-8")


def test_every_parameter_and_rule_cites_a_known_clause():
    pack = load_pack()
    for name, p in pack.params.items():
        assert p.clause in catalogue(), name
    for r in pack.monthly:
        assert r.clause in catalogue()


def test_district_quotas_sum_to_city_target():
    pack = load_pack()
    assert sum(pack.value("district_quotas").values()) == pack.value("city_fai_target") == 300


def test_hash_is_stable_and_changes_with_content():
    a = parse_pack(TEXT)
    assert a.hash == parse_pack(TEXT).hash
    b = parse_pack(TEXT.replace('value = 0.80, clause = "SX2018-G4"', 'value = 0.75, clause = "SX2018-G4"'))
    assert b.value("nongov_share_min") == 0.75 and b.hash != a.hash


def test_quota_mismatch_is_refused_with_the_sums():
    with pytest.raises(PackError, match="sum to 301"):
        parse_pack(TEXT.replace("paojiang = 6", "paojiang = 7"))


def test_unknown_clause_is_refused():
    with pytest.raises(PackError, match="unknown clause 'SX2018-X9'"):
        parse_pack(TEXT.replace('clause = "SX2018-G4"', 'clause = "SX2018-X9"', 1))


def test_unknown_check_is_refused():
    with pytest.raises(PackError, match="unknown check"):
        parse_pack(TEXT.replace('check = "nongov_share"', 'check = "nongov_sharing"'))


def test_changed_threshold_changes_the_outcome():
    """A new threshold is one line of pack data: the rule follows it."""
    from tests.factories import town
    from towns.models.report import Figures
    from towns.rules.monthly import evaluate_monthly

    strict = parse_pack(TEXT.replace("value = 0.70, clause", "value = 0.75, clause"))
    fig = Figures(fai=10, industry_fai=7.2, nongov_fai=9)

    def rules(pack):
        return {f.rule: f.passed for f in evaluate_monthly(town(), "2018-06", 1, fig, pack).findings}

    assert rules(load_pack())["industry-share"] is True
    assert rules(strict)["industry-share"] is False


def test_supervision_days_are_required_pack_data():
    assert load_pack().value("report_due_day") == 10 and load_pack().value("bulletin_day") == 15
    with pytest.raises(PackError, match=r"params\.report_due_day is missing"):
        parse_pack("\n".join(line for line in TEXT.splitlines() if not line.startswith("report_due_day")))

"""Vocabularies accept the English code, the Chinese name and common office spellings."""

import pytest

from towns.models.vocab import District, Industry, Tier, TownState


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("keqiao", District.keqiao),
        ("柯桥区", District.keqiao),
        ("柯桥", District.keqiao),
        ("Zhuji", District.zhuji),
        ("袍江开发区", District.paojiang),
    ],
)
def test_district(raw, expected):
    assert District.parse(raw) is expected


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("省级创建", Tier.provincial_creation),
        ("省级创建对象", Tier.provincial_creation),
        ("省级培育", Tier.provincial_cultivation),
        ("市级特色小镇", Tier.city),
        ("named", Tier.named),
    ],
)
def test_tier(raw, expected):
    assert Tier.parse(raw) is expected


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("历史经典（黄酒）", Industry.historical_classic),
        ("黄酒", Industry.historical_classic),
        ("high_end_equipment", Industry.high_end_equipment),
        ("智能装备", Industry.high_end_equipment),
        ("旅游", Industry.tourism),
    ],
)
def test_industry(raw, expected):
    assert Industry.parse(raw) is expected


def test_unknown_value_lists_the_choices_in_both_languages():
    with pytest.raises(ValueError, match=r"'钢铁' is not a known industry: use one of .*fashion \(时尚\)") as exc:
        Industry.parse("钢铁")
    assert "“钢铁”不是有效的产业，应为：信息经济、" in exc.value.context["zh"]
    assert TownState.parse("创建中") is TownState.creating

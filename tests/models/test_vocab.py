"""Vocabularies accept the English code, the Chinese name and common office spellings: the
engine's own (town states) in code, a programme's (districts, tiers, industries) from its pack."""

import pytest

from tests.factories import town
from towns.models.town import TownProfile
from towns.models.vocab import TownState
from towns.rules.library import load_pack
from towns.rules.vocabulary import PackVocabulary

SX = PackVocabulary(load_pack("sx2018"))


@pytest.mark.parametrize(
    "kind,raw,expected",
    [
        ("district", "keqiao", "keqiao"),
        ("district", "柯桥区", "keqiao"),
        ("district", "柯桥", "keqiao"),
        ("district", "Zhuji", "zhuji"),
        ("district", "袍江开发区", "paojiang"),
        ("tier", "省级创建", "provincial_creation"),
        ("tier", "省级创建对象", "provincial_creation"),
        ("tier", "省级培育", "provincial_cultivation"),
        ("tier", "市级特色小镇", "city"),
        ("tier", "named", "named"),
        ("industry", "历史经典（黄酒）", "historical_classic"),
        ("industry", "黄酒", "historical_classic"),
        ("industry", "high_end_equipment", "high_end_equipment"),
        ("industry", "智能装备", "high_end_equipment"),
        ("industry", "旅游", "tourism"),
    ],
)
def test_the_programme_vocabulary(kind, raw, expected):
    assert SX.parse(kind, raw) == expected


def test_unknown_value_lists_the_choices_in_both_languages():
    with pytest.raises(
        ValueError, match=r"'钢铁' is not a industry of the programme sx2018: .*fashion \(时尚\)"
    ) as exc:
        SX.parse("industry", "钢铁")
    assert "“钢铁”不是绍兴市 sx2018的有效产业，应为：信息经济、" in exc.value.context["zh"]
    assert TownState.parse("创建中") is TownState.creating


def test_an_import_row_is_read_through_the_programme_and_stored_as_ids():
    row = {
        "code": "SX-V1",
        "name": "测试",
        "district": "柯桥",
        "tier": "省级创建对象",
        "industry": "黄酒",
        "listed_year": 2016,
    }
    p = TownProfile.model_validate(row, context={"vocabulary": SX})
    assert (p.district, p.tier, p.industry) == ("keqiao", "provincial_creation", "historical_classic")
    with pytest.raises(ValueError, match="not a district of the programme sx2018"):
        TownProfile.model_validate({**row, "district": "西湖区"}, context={"vocabulary": SX})


def test_a_city_level_town_needs_its_planned_investment_under_its_programme():
    row = {"code": "SX-V2", "name": "测试", "district": "越城", "tier": "市级", "industry": "时尚", "listed_year": 2016}
    with pytest.raises(ValueError, match="planned_investment"):
        TownProfile.model_validate(row, context={"vocabulary": SX})
    assert town(tier="city", planned_investment=30).tier == "city"

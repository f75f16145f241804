"""Controlled vocabularies. Each value has its English code and its Chinese name;
input may use either (a district office writes 柯桥区, a script writes keqiao)."""

from __future__ import annotations

import re
from enum import Enum
from typing import Self


class Vocab(str, Enum):
    """A str enum whose members carry a Chinese label; parse() accepts either."""

    zh: str

    def __new__(cls, value: str, zh: str) -> Self:
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.zh = zh
        return obj

    @property
    def label(self) -> str:
        return f"{self.zh} {self.value}"

    @classmethod
    def parse(cls, raw: object) -> Vocab:
        if isinstance(raw, cls):
            return raw
        text = str(raw).strip()
        bare = re.sub(r"[（(][^）)]*[）)]", "", text).strip()  # 历史经典（黄酒） → 历史经典
        for candidate in (text, bare) if bare and bare != text else (text,):
            found = cls._match(candidate)
            if found is not None:
                return found
        from .rejection import bilingual

        kind_en, kind_zh = cls._kind()
        raise bilingual(
            f"unknown_{kind_en}",
            f"{text[:40]!r} is not a known {kind_en}: use one of {cls.choices()}",
            f"“{text[:40]}”不是有效的{kind_zh}，应为：{'、'.join(m.zh for m in cls)}",
        )

    @classmethod
    def _match(cls, text: str) -> Self | None:
        for member in cls:
            if text.lower() == member.value or text == member.zh or text in cls._aliases().get(member.value, ()):
                return member
        return None

    @classmethod
    def _kind(cls) -> tuple[str, str]:
        return KINDS.get(cls.__name__, ("value", "取值"))

    @classmethod
    def choices(cls) -> str:
        return ", ".join(f"{m.value} ({m.zh})" for m in cls)

    @classmethod
    def _aliases(cls) -> dict[str, tuple[str, ...]]:
        return {}

    @classmethod
    def _missing_(cls, value: object) -> Vocab | None:
        # lets pydantic and Enum(value) accept the Chinese name too
        try:
            return cls.parse(value)
        except ValueError:
            return None


# what one value of each vocabulary is called, in messages
KINDS = {
    "District": ("district", "区县"),
    "Tier": ("tier", "层级"),
    "Industry": ("industry", "产业"),
    "TownState": ("state", "状态"),
    "Grade": ("grade", "等级"),
    "RoundKind": ("round kind", "考核类型"),
}


class District(Vocab):
    yuecheng = ("yuecheng", "越城区")
    keqiao = ("keqiao", "柯桥区")
    shangyu = ("shangyu", "上虞区")
    zhuji = ("zhuji", "诸暨市")
    shengzhou = ("shengzhou", "嵊州市")
    xinchang = ("xinchang", "新昌县")
    paojiang = ("paojiang", "袍江开发区")

    @classmethod
    def _aliases(cls) -> dict[str, tuple[str, ...]]:
        return {m.value: (m.zh[:-1], m.zh[:2]) for m in cls}


class Tier(Vocab):
    provincial_creation = ("provincial_creation", "省级创建")
    provincial_cultivation = ("provincial_cultivation", "省级培育")
    city = ("city", "市级")
    named = ("named", "省级命名")

    @classmethod
    def _aliases(cls) -> dict[str, tuple[str, ...]]:
        return {
            "provincial_creation": ("省级创建对象", "省级创建类"),
            "provincial_cultivation": ("省级培育对象", "省级培育类"),
            "city": ("市级特色小镇", "市级创建", "city_level"),
            "named": ("命名", "已命名", "省级特色小镇"),
        }

    @property
    def provincial(self) -> bool:
        return self in (Tier.provincial_creation, Tier.provincial_cultivation, Tier.named)


class Industry(Vocab):
    information_economy = ("information_economy", "信息经济")
    environmental = ("environmental", "环保")
    health = ("health", "健康")
    tourism = ("tourism", "旅游")
    fashion = ("fashion", "时尚")
    finance = ("finance", "金融")
    high_end_equipment = ("high_end_equipment", "高端装备")
    historical_classic = ("historical_classic", "历史经典")

    @classmethod
    def _aliases(cls) -> dict[str, tuple[str, ...]]:
        return {
            "information_economy": ("数字经济", "信息经济产业"),
            "environmental": ("环境保护", "节能环保"),
            "health": ("健康产业", "大健康"),
            "tourism": ("旅游产业", "文旅", "文化旅游"),
            "fashion": ("时尚产业",),
            "finance": ("金融产业",),
            "high_end_equipment": ("高端装备制造", "智能装备", "装备制造"),
            # the historical-classic industries of 浙特镇办〔2015〕9号
            "historical_classic": (
                "历史经典产业",
                "茶叶",
                "丝绸",
                "黄酒",
                "中药",
                "青瓷",
                "木雕",
                "根雕",
                "石雕",
                "文房",
                "书法",
            ),
        }


class TownState(Vocab):
    applied = ("applied", "申报中")
    creating = ("creating", "创建中")
    named = ("named", "已命名")
    eliminated = ("eliminated", "已淘汰")
    rejected = ("rejected", "未通过")

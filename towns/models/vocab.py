"""The engine's own controlled vocabularies (town states; grades and round kinds in models.round).
Each value has its English code and its Chinese name; input may use either. A programme's
districts, tiers and industries are data in its rule pack (towns/rules/vocabulary.py)."""

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
    "TownState": ("state", "状态"),
    "Grade": ("grade", "等级"),
    "RoundKind": ("round kind", "考核类型"),
}


class TownState(Vocab):
    applied = ("applied", "申报中")
    creating = ("creating", "创建中")
    named = ("named", "已命名")
    eliminated = ("eliminated", "已淘汰")
    rejected = ("rejected", "未通过")

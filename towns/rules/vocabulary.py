"""A programme's vocabularies — its districts, tiers and industries — as an import reads them.

An office writes 柯桥区, 柯桥 or keqiao; 省级创建对象 or provincial_creation; 历史经典（黄酒）.
The pack gives each value its id, Chinese and English names and aliases; a bracketed note
is dropped (历史经典（黄酒） → 历史经典) when the whole text is not itself a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..models.rejection import bilingual
from .pack import Named, RulePack

KINDS = {"district": ("district", "区县"), "tier": ("tier", "层级"), "industry": ("industry", "产业")}


@dataclass(frozen=True)
class PackVocabulary:
    """``parse(kind, raw)`` → the id of a district, tier or industry of the pack (the
    ``vocabulary`` a TownProfile is validated with)."""

    pack: RulePack

    def values(self, kind: str) -> list[Named]:
        if kind == "district":
            return list(self.pack.districts)
        if kind == "tier":
            return list(self.pack.tiers)
        return list(self.pack.industries)

    def _match(self, kind: str, text: str) -> str | None:
        low = text.lower()
        for v in self.values(kind):
            if low in (v.id, v.en.lower()) or text == v.zh or text in v.aliases:
                return v.id
        return None

    def parse(self, kind: str, raw: object) -> str:
        text = str(raw).strip()
        bare = re.sub(r"[（(][^）)]*[）)]", "", text).strip()
        for candidate in (text, bare) if bare and bare != text else (text,):
            found = self._match(kind, candidate)
            if found is not None:
                return found
        en, zh = KINDS[kind]
        values = self.values(kind)
        city = f"{self.pack.programme.city_zh} {self.pack.pack.id}"
        raise bilingual(
            f"unknown_{en}",
            f"{text[:40]!r} is not a {en} of the programme {self.pack.pack.id}: use one of "
            + ", ".join(f"{v.id} ({v.zh})" for v in values),
            f"“{text[:40]}”不是{city}的有效{zh}，应为：{'、'.join(v.zh for v in values)}",
        )

    def target_is_planned(self, tier_id: str) -> bool:
        """The tier's annual target is its planned investment ÷ its creation years."""
        return any(t.id == tier_id and t.target.startswith("planned") for t in self.pack.tiers)

    def zh(self, kind: str, value_id: str) -> str:
        """The Chinese name of a value (the id itself when the pack does not know it)."""
        return next((v.zh for v in self.values(kind) if v.id == value_id), value_id)

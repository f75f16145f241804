"""Where data came from, where it matters to a reader: the demo's actor and its notice.

Towns and reports loaded by ``towns demo load`` are registered and submitted by
``DEMO_ACTOR``; anything published over them (a quarterly bulletin) carries
``SYNTHETIC_NOTE``, so that invented figures are never mistaken for official statistics.
"""

from __future__ import annotations

DEMO_ACTOR = "demo"

SYNTHETIC_NOTE = (
    "合成数据，仅供演示：投资、税收等数字均为虚构，并非官方统计。"
    " / Synthetic demo data, not official statistics: investment, tax and other figures are invented."
)

"""A published quarterly bulletin (季度通报), as it was published."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlmodel import Session

from ..models.bulletin import BulletinRow
from ..models.finding import DEFAULT_PACK

if TYPE_CHECKING:  # imported when used: the bulletin's module brings openpyxl, not needed by other reads
    from ..bulletin.compute import Bulletin


def published_bulletin(engine: Engine, quarter: str, programme: str = DEFAULT_PACK) -> Bulletin | None:
    """The bulletin published for ``quarter`` (``2018Q2``; also ``2018-Q2``, ``2018q2``), or None when
    none was. ``QuarterError`` (a ValueError) for text that is not a quarter.

    A bulletin published before bulletins recorded their issue date is given the Beijing date
    it was published on."""
    from ..bulletin.compute import Bulletin, beijing_today, parse_quarter

    year, q = parse_quarter(quarter)
    with Session(engine) as s:
        row = s.get(BulletinRow, (f"{year}Q{q}", programme))
    if row is None:
        return None
    bulletin = Bulletin.model_validate(row.content)
    if bulletin.issued_on is None:
        bulletin.issued_on = beijing_today(row.published_at)
    return bulletin

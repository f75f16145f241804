"""Accounts of the web console and the REST API: who may do what (``role``), and where.

- ``reporter`` (区县统计员) is bound to one district of one programme: it submits reports for
  that district's towns only, and reads;
- ``staff`` (市特色办) registers towns, starts rounds, approves and overrides;
- ``auditor`` (督查) reads everything, exports, verifies and replays; it changes nothing.

Passwords are stored as argon2 hashes only (towns/web/auth.py). A user is never deleted:
``disabled`` ends its access and keeps its name on the writes it made.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from .finding import DEFAULT_PACK

ROLES = ("reporter", "staff", "auditor")
ROLE_ZH = {"reporter": "区县统计员", "staff": "市特色办", "auditor": "督查"}
OS_USER_ROLE = "os-user"  # a write made from the command line, by the operating-system user


class User(SQLModel, table=True):
    __tablename__ = "users"

    name: str = SQLField(primary_key=True, max_length=64)
    role: str = SQLField(max_length=16)
    district: str | None = SQLField(default=None, max_length=64)
    programme: str = SQLField(default=DEFAULT_PACK, max_length=64)
    password_hash: str
    disabled: bool = False
    created_at: datetime
    created_by: str
    failed_logins: int = 0  # consecutive failed logins: each one slows the next attempt down
    last_failed_at: datetime | None = None

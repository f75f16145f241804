"""Accounts: add, list and disable users; check a password, slowing down repeated failures.

Passwords are hashed with argon2 (argon2-cffi's defaults). Adding and disabling a user is a
ledger entry (who did it, when), never with the hash. A user's district is read through its
programme's vocabulary (柯桥 → keqiao).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ..models import ledger
from ..models.finding import DEFAULT_PACK
from ..models.user import OS_USER_ROLE, ROLE_ZH, ROLES, User
from ..rules.library import load_programme
from ..rules.vocabulary import PackVocabulary

HASHER = PasswordHasher()
FREE_FAILURES = 3  # failed logins in a row before each further attempt must wait
MAX_WAIT = timedelta(minutes=5)
MIN_PASSWORD = 8


class AccountError(ValueError):
    """A refused account operation; the message is bilingual."""


class UserPublic(BaseModel):
    name: str
    role: str
    role_zh: str
    district: str | None
    programme: str
    disabled: bool
    created_at: datetime
    created_by: str


def public(u: User) -> UserPublic:
    return UserPublic(
        name=u.name,
        role=u.role,
        role_zh=ROLE_ZH[u.role],
        district=u.district,
        programme=u.programme,
        disabled=u.disabled,
        created_at=u.created_at,
        created_by=u.created_by,
    )


def add_user(
    engine: Engine,
    name: str,
    role: str,
    password: str,
    *,
    by: str,
    district: str | None = None,
    programme: str = DEFAULT_PACK,
) -> UserPublic:
    name = name.strip()
    if not name or len(name) > 64:
        raise AccountError("a user name is 1–64 characters / 用户名应为 1–64 个字符")
    if role not in ROLES:
        raise AccountError(f"role {role!r} is not one of {', '.join(ROLES)} / 角色应为 {'、'.join(ROLE_ZH.values())}")
    if role == "reporter" and not district:
        raise AccountError("a reporter is bound to one district: give --district / 区县统计员须指定所属区县")
    if role != "reporter" and district:
        raise AccountError(f"only a reporter has a district, not a {role} / 只有区县统计员绑定区县")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password is shorter than {MIN_PASSWORD} characters / 密码至少 {MIN_PASSWORD} 位")
    if district:
        try:
            district = PackVocabulary(load_programme(engine, programme)).parse("district", district)
        except ValueError as exc:  # the vocabulary's error carries its Chinese in its context
            zh = (getattr(exc, "context", None) or {}).get("zh")
            raise AccountError(f"{exc} / {zh}" if zh else str(exc)) from None
    with ledger.ledger_lock(engine), Session(engine) as s:
        if s.get(User, name) is not None:
            raise AccountError(f"user {name!r} exists already / 用户 {name} 已存在")
        user = User(
            name=name,
            role=role,
            district=district,
            programme=programme,
            password_hash=HASHER.hash(password),
            created_at=datetime.now(UTC),
            created_by=by,
        )
        s.add(user)
        ledger.append(
            s,
            kind="account",
            key=ledger.Keys.account(name, "added"),
            actor=by,
            actor_role=OS_USER_ROLE,
            outcome=f"added {role}" + (f" of {district}" if district else ""),
            inputs={"name": name, "role": role, "district": district, "programme": programme},
        )
        s.commit()
        s.refresh(user)
        return public(user)


def list_users(engine: Engine) -> list[UserPublic]:
    with Session(engine) as s:
        return [public(u) for u in s.exec(select(User).order_by(col(User.name))).all()]


def disable_user(engine: Engine, name: str, *, by: str) -> UserPublic:
    with ledger.ledger_lock(engine), Session(engine) as s:
        user = s.get(User, name)
        if user is None:
            raise AccountError(f"no user {name!r} / 没有用户 {name}")
        if not user.disabled:
            user.disabled = True
            s.add(user)
            ledger.append(
                s,
                kind="account",
                key=ledger.Keys.account(name, "disabled"),
                actor=by,
                actor_role=OS_USER_ROLE,
                outcome="disabled",
                inputs={"name": name},
            )
            s.commit()
            s.refresh(user)
        return public(user)


@dataclass(frozen=True)
class Login:
    user: User | None
    wait: float = 0.0  # seconds to wait before the next attempt (too many failures)


def wait_after(failures: int) -> timedelta:
    """How long the next attempt waits after ``failures`` failed logins in a row: nothing for the
    first few, then 2, 4, 8 … seconds, at most five minutes."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    doublings = min(failures - FREE_FAILURES + 1, 30)  # 2**30 s is far beyond MAX_WAIT; more overflows timedelta
    return min(MAX_WAIT, timedelta(seconds=2**doublings))


def authenticate(engine: Engine, name: str, password: str, now: datetime | None = None) -> Login:
    """The user, when the name and password match an enabled account; a failure counts against
    the account (an unknown name costs the same hashing time, and tells nothing)."""
    now = now or datetime.now(UTC)
    with Session(engine) as s:
        user = s.get(User, name)
        if user is None:
            _burn(password)
            return Login(None)
        if user.failed_logins and user.last_failed_at is not None:
            last = user.last_failed_at if user.last_failed_at.tzinfo else user.last_failed_at.replace(tzinfo=UTC)
            left = (last + wait_after(user.failed_logins)) - now
            if left > timedelta(0):
                return Login(None, wait=left.total_seconds())
        ok = _verify(user.password_hash, password)
        if ok and not user.disabled:
            if user.failed_logins:
                user.failed_logins, user.last_failed_at = 0, None
                s.add(user)
                s.commit()
                s.refresh(user)
            return Login(user)
        if not ok:
            user.failed_logins += 1
            user.last_failed_at = now
            s.add(user)
            s.commit()
        return Login(None)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY = HASHER.hash("not a password of anyone")


def _burn(password: str) -> None:
    _verify(_DUMMY, password)


def get_user(engine: Engine, name: str) -> User | None:
    with Session(engine) as s:
        return s.get(User, name)

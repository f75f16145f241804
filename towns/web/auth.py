"""Who is asking: bearer tokens (the API) and signed session cookies (the pages), both signed
with the deployment's secret and both expiring; the role checks every route declares.

A token or a cookie names a user; the user is read again on every request, so disabling a
user ends its access at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.engine import Engine

from ..models.user import User
from .accounts import get_user

TOKEN_HOURS = 8
SESSION_COOKIE = "towns_session"

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def secret_for(home: Path) -> str:
    """The deployment's signing secret, made once (mode 0600) in its home."""
    path = home / "web.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


@dataclass(frozen=True)
class Signer:
    secret: str

    def _s(self, salt: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret, salt=salt)

    def token(self, name: str) -> str:
        return self._s("api-token").dumps({"u": name})

    def session(self, name: str, csrf: str) -> str:
        return self._s("session").dumps({"u": name, "csrf": csrf})

    def read(self, value: str, salt: str, max_age: int = TOKEN_HOURS * 3600) -> dict[str, str] | None:
        try:
            data = self._s(salt).loads(value, max_age=max_age)
        except (SignatureExpired, BadSignature):
            return None
        return data if isinstance(data, dict) else None


def unauthorised(en: str, zh: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail={"en": en, "zh": zh},
        headers={"WWW-Authenticate": "Bearer"},
    )


def forbidden(en: str, zh: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail={"en": en, "zh": zh})


def current_user(request: Request, token: Annotated[str | None, Depends(oauth2)]) -> User:
    """The user of a bearer token, else of the session cookie; 401 without either."""
    signer: Signer = request.app.state.signer
    engine: Engine = request.app.state.engine
    data = signer.read(token, "api-token") if token else None
    if data is None and (cookie := request.cookies.get(SESSION_COOKIE)):
        data = signer.read(cookie, "session")
    if data is None:
        raise unauthorised(
            "log in first (POST /api/auth/token), or the token has expired", "请先登录（令牌缺失或已过期）"
        )
    user = get_user(engine, data["u"])
    if user is None or user.disabled:
        raise unauthorised("this account is disabled or unknown", "该账号已停用或不存在")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require(*roles: str) -> Any:
    """A dependency: the current user, when its role is one of ``roles``; 403 otherwise."""

    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise forbidden(
                f"a {user.role} may not do this (it takes: {', '.join(roles)})",
                f"当前角色（{user.role}）无此权限",
            )
        return user

    return Depends(check)

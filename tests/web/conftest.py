"""The web app on the test's own Temporal worker and database, called in-process (httpx over
ASGI, on the test's event loop), with one user of each role."""

import httpx
import pytest_asyncio

from tests.office import Office
from towns.web.accounts import add_user
from towns.web.app import create_app

PASSWORD = "correct horse 1"
USERS = {
    "reporter-kq": ("reporter", "keqiao"),
    "reporter-zj": ("reporter", "zhuji"),
    "staff": ("staff", None),
    "auditor": ("auditor", None),
}


@pytest_asyncio.fixture
async def web(env, engine, worker):
    for name, (role, district) in USERS.items():
        add_user(engine, name, role, PASSWORD, by="tester", district=district)
    app = create_app(engine, env.client, worker, "test-secret")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://towns.test") as http:
        yield http, Office(env, engine, worker)


async def login(http: httpx.AsyncClient, name: str, password: str = PASSWORD) -> dict[str, str]:
    r = await http.post("/api/auth/token", data={"username": name, "password": password})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    return {"Authorization": f"Bearer {body['access_token']}"}

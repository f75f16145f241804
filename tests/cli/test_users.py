"""`towns user add|list|disable` as the office's administrator runs them."""

import json
import re

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from towns.cli import app
from towns.cli.common import default_user
from towns.models.db import make_engine, prepare_database
from towns.models.ledger import LedgerEntry
from towns.models.user import User
from towns.web.accounts import authenticate

runner = CliRunner()
PASSWORD = "a long enough secret"


def towns(*args: str, password: str | None = None):
    return runner.invoke(app, list(args), input=None if password is None else password + "\n", catch_exceptions=False)


def bare(text: str) -> str:
    """Text without its spaces and line breaks (a console may wrap a long message)."""
    return re.sub(r"\s+", "", text)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("TOWNS_HOME", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    engine = make_engine(f"sqlite:///{tmp_path / 'towns.db'}")
    prepare_database(engine)
    yield engine
    engine.dispose()


def test_add_a_reporter_by_the_chinese_name_of_its_district(home):
    added = towns(
        "user", "add", "kq-stats", "--role", "reporter", "--district", "柯桥", "--password-stdin", password=PASSWORD
    )
    assert added.exit_code == 0, added.stdout + added.stderr
    assert "added kq-stats: reporter 区县统计员, district keqiao" in added.stdout
    assert PASSWORD not in added.stdout + added.stderr
    with Session(home) as s:
        user = s.get(User, "kq-stats")
        assert user is not None
        assert (user.role, user.district, user.programme, user.disabled) == ("reporter", "keqiao", "sx2018", False)
        assert user.password_hash.startswith("$argon2") and PASSWORD not in user.password_hash
        assert user.created_by == default_user()
        (entry,) = s.exec(select(LedgerEntry).where(LedgerEntry.kind == "account")).all()
        body = json.loads(entry.body)
        assert (body["actor"], body["actor_role"]) == (default_user(), "os-user")
        assert body["inputs"] == {"name": "kq-stats", "role": "reporter", "district": "keqiao", "programme": "sx2018"}
        assert "argon2" not in entry.body and PASSWORD not in entry.body  # never the hash, never the password
    assert authenticate(home, "kq-stats", PASSWORD).user is not None

    staff = towns("user", "add", "wang", "--role", "staff", "--password-stdin", password=PASSWORD)
    assert staff.exit_code == 0 and "added wang: staff 市特色办" in staff.stdout


@pytest.mark.parametrize(
    ("args", "password", "en", "zh"),
    [
        pytest.param(
            ["--role", "reporter"],
            PASSWORD,
            "a reporter is bound to one district",
            "区县统计员须指定所属区县",
            id="no-district",
        ),
        pytest.param(
            ["--role", "staff", "--district", "柯桥"],
            PASSWORD,
            "only a reporter has a district",
            "只有区县统计员绑定区县",
            id="staff-district",
        ),
        pytest.param(
            ["--role", "auditor"],
            "short",
            "the password is shorter than 8 characters",
            "密码至少 8 位",
            id="short-password",
        ),
        pytest.param(
            ["--role", "boss"],
            PASSWORD,
            "role 'boss' is not one of reporter, staff, auditor",
            "角色应为",
            id="no-such-role",
        ),
        pytest.param(
            ["--role", "reporter", "--district", "火星"],
            PASSWORD,
            "'火星' is not a district",
            "不是绍兴",
            id="no-such-district",
        ),
    ],
)
def test_add_refuses_with_a_message_in_both_languages_and_exit_2(home, args, password, en, zh):
    refused = towns("user", "add", "someone", *args, "--password-stdin", password=password)
    assert refused.exit_code == 2, refused.stdout + refused.stderr
    assert bare(en) in bare(refused.stderr) and bare(zh) in bare(refused.stderr), refused.stderr
    assert "Traceback" not in refused.stderr
    with Session(home) as s:
        assert s.get(User, "someone") is None
        assert s.exec(select(LedgerEntry)).all() == []


def test_add_refuses_a_name_taken_already(home):
    assert towns("user", "add", "li", "--role", "auditor", "--password-stdin", password=PASSWORD).exit_code == 0
    again = towns("user", "add", "li", "--role", "staff", "--password-stdin", password="another password")
    assert again.exit_code == 2
    assert bare("user 'li' exists already / 用户 li 已存在") in bare(again.stderr)
    with Session(home) as s:
        user = s.get(User, "li")
        assert user is not None and user.role == "auditor"  # the first one stands
        assert len(s.exec(select(LedgerEntry).where(LedgerEntry.kind == "account")).all()) == 1
    assert authenticate(home, "li", PASSWORD).user is not None


def test_list_and_disable(home):
    for name, args in (("zj-stats", ["--role", "reporter", "--district", "zhuji"]), ("audit", ["--role", "auditor"])):
        assert towns("user", "add", name, *args, "--password-stdin", password=PASSWORD).exit_code == 0
    listed = towns("user", "list", "--json")
    assert listed.exit_code == 0
    rows = json.loads(listed.stdout)
    assert [(u["name"], u["role"], u["role_zh"], u["district"], u["disabled"]) for u in rows] == [
        ("audit", "auditor", "督查", None, False),
        ("zj-stats", "reporter", "区县统计员", "zhuji", False),
    ]
    assert all("password" not in key for u in rows for key in u)
    table = towns("user", "list").stdout  # a table as wide as the console: cells may wrap
    assert "zj-stats" in table and "zhuji" in table and "启用" in table and "已停用" not in table

    disabled = towns("user", "disable", "zj-stats")
    assert disabled.exit_code == 0 and "zj-stats disabled 已停用" in disabled.stdout
    assert authenticate(home, "zj-stats", PASSWORD).user is None  # the right password no longer opens it
    assert {u["name"]: u["disabled"] for u in json.loads(towns("user", "list", "--json").stdout)} == {
        "audit": False,
        "zj-stats": True,
    }
    assert "已停用" in towns("user", "list").stdout
    assert towns("user", "disable", "zj-stats").exit_code == 0  # again: nothing more to do
    with Session(home) as s:
        kinds = [json.loads(e.body)["outcome"] for e in s.exec(select(LedgerEntry).order_by(LedgerEntry.seq)).all()]
    assert kinds == ["added reporter of zhuji", "added auditor", "disabled"]

    nobody = towns("user", "disable", "nobody")
    assert nobody.exit_code == 2 and bare("no user 'nobody' / 没有用户 nobody") in bare(nobody.stderr)

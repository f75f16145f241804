"""docker-compose.yml, the Dockerfile and the processes they run, checked without a container engine
(none runs on the development machines): the file is parsed and held against the code — the
settings it gives are the ones the code reads, its addresses point at its own services, its images
are pinned, the worker scales — and the web entry point builds its application from those settings.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from towns.config import TASK_QUEUE, ConfigError, load_settings
from towns.worker import WorkerTuning

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
TOWNS_SERVICES = ("migrate", "worker", "web")  # run the towns image
REQUIRED = ("TEMPORAL_ADDRESS", "DATABASE_URL")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict[str, Any]]:
    return compose["services"]


def interpolate(value: object) -> str:
    """A value as Compose gives it to the container when the variable is unset: ``${X:-default}`` →
    ``default``, ``${X}`` → empty, ``$$`` → ``$``."""
    text = str(value)
    text = re.sub(r"\$\{\w+(?::?-([^}]*))?\}", lambda m: m.group(1) or "", text)
    return text.replace("$$", "$")


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment as a mapping, please (NAME: value)"
    return {k: interpolate(v) for k, v in env.items()}


def code_env_vars() -> set[str]:
    """Every environment variable the towns package reads."""
    pattern = re.compile(r"""environ(?:\.get)?\s*[(\[]\s*["']([A-Z][A-Z0-9_]*)["']""")
    names: set[str] = set()
    for path in (ROOT / "towns").rglob("*.py"):
        names |= set(pattern.findall(path.read_text(encoding="utf-8")))
    return names | set(WorkerTuning.ENV.values())


def container_ports(service: dict[str, Any]) -> set[int]:
    return {int(str(p).split("/")[0].rsplit(":", 1)[-1]) for p in service.get("ports", [])}


def project_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def pinned(image: str) -> bool:
    """An explicit, exact tag: ``name:1.2`` or ``name:1.2.3`` (a suffix such as -slim-bookworm allowed)."""
    name, _, tag = image.rpartition(":")
    return bool(name) and "/" not in tag and re.fullmatch(r"\d+\.\d+(\.\d+)?([-.][\w.-]+)?", tag) is not None


# ---------------------------------------------------------------- the services


def test_the_services_of_a_cluster(services):
    assert {"postgresql", "temporal", "temporal-ui", "worker", "web"} <= services.keys()


def test_images_are_pinned_to_exact_versions(services):
    for name, service in services.items():
        image = service.get("image")
        assert image or "build" in service, f"{name}: an image or a build"
        if image:
            assert pinned(image), f"{name}: {image} is not pinned to an exact version"
            assert not image.endswith(":latest")
    for name in TOWNS_SERVICES:
        assert services[name]["build"] == "."
        assert services[name]["image"] == f"towns:{project_version()}"


def test_the_worker_scales(services):
    worker = services["worker"]
    assert "container_name" not in worker, "a fixed container name forbids --scale"
    assert not worker.get("ports"), "a host port forbids --scale"
    assert "hostname" not in worker
    for name, service in services.items():
        assert "container_name" not in service, name


def test_every_setting_given_is_read_by_the_code(services):
    read = code_env_vars()
    assert set(REQUIRED) <= read
    for name in TOWNS_SERVICES:
        env = environment(services[name])
        assert set(env) <= read, f"{name} sets {sorted(set(env) - read)}, which no code reads"
        for var in REQUIRED:
            assert env.get(var), f"{name} needs {var}"


def test_the_worker_tuning_given_is_valid(services):
    env = environment(services["worker"])
    tuning = WorkerTuning.from_env(env)
    assert tuning.max_concurrent_activities == 16 and tuning.max_cached_workflows == 5000  # as towns server


def test_the_database_url_points_at_the_postgresql_service_and_a_database_of_its_own(services):
    pg = services["postgresql"]
    pg_env = environment(pg)
    init_scripts = [
        ROOT / v.split(":")[0] for v in pg.get("volumes", []) if "docker-entrypoint-initdb.d" in v.split(":")[1]
    ]
    assert init_scripts and all(p.is_file() for p in init_scripts)
    init = "\n".join(p.read_text(encoding="utf-8") for p in init_scripts)
    for name in TOWNS_SERVICES:
        url = urlsplit(environment(services[name])["DATABASE_URL"])
        assert url.scheme == "postgresql+psycopg"
        assert url.hostname == "postgresql"
        assert url.port == int(pg_env.get("PGPORT", 5432))
        assert url.port in container_ports(pg) | {5432}
        db = url.path.lstrip("/")
        assert db not in ("temporal", "temporal_visibility", "postgres", pg_env["POSTGRES_USER"]), (
            "towns keeps its own database, apart from Temporal's"
        )
        assert re.search(rf"CREATE DATABASE {db} OWNER {url.username}\b", init)
        assert re.search(rf"CREATE ROLE {url.username} LOGIN", init)
        assert url.password == pg_env["TOWNS_DB_PASSWORD"], "the init script gives the role the URL's password"
    script = subprocess.run(["sh", "-n", *map(str, init_scripts)], capture_output=True, text=True)
    assert script.returncode == 0, script.stderr


def test_temporal_persists_to_the_postgresql_service(services):
    env = environment(services["temporal"])
    assert env["DB"] == "postgres12"
    assert env["POSTGRES_SEEDS"] == "postgresql"
    assert int(env["DB_PORT"]) == 5432
    assert env["POSTGRES_PWD"] == environment(services["postgresql"])["POSTGRES_PASSWORD"]
    assert env["BIND_ON_IP"] == "0.0.0.0"
    assert (ROOT / services["temporal"]["volumes"][0].split(":")[0]).is_file()  # the dynamic config


def test_every_temporal_address_is_the_temporal_service(services):
    grpc = int(environment(services["temporal"]).get("FRONTEND_GRPC_PORT", 7233))
    assert grpc in container_ports(services["temporal"])
    users = [n for n, s in services.items() if "TEMPORAL_ADDRESS" in s.get("environment", {})]
    assert {"temporal-ui", "worker", "web", "temporal-namespace"} <= set(users)
    for name in users:
        assert environment(services[name])["TEMPORAL_ADDRESS"] == f"temporal:{grpc}", name


def test_health_checks_and_start_order(services):
    for name in ("postgresql", "temporal", "web"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no health check"
    assert "pg_isready" in " ".join(services["postgresql"]["healthcheck"]["test"])
    assert "cluster health" in services["temporal-namespace"]["command"][0]
    for name, service in services.items():
        for dep, how in (service.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            condition = how["condition"]
            assert condition in ("service_healthy", "service_completed_successfully"), (name, dep)
            if condition == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits for {dep} to be healthy; it has no check"
    for name in ("worker", "web"):
        deps = services[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully"
        assert deps["temporal-namespace"]["condition"] == "service_completed_successfully"


def test_the_one_shot_scripts_parse(services):
    for name in ("temporal-schema", "temporal-namespace"):
        script = interpolate(services[name]["command"][0])
        result = subprocess.run(["sh", "-n"], input=script, capture_output=True, text=True)
        assert result.returncode == 0, (name, result.stderr)


def test_the_web_health_check_asks_the_web_apps_health_route(services):
    from towns.web.health import router

    web = services["web"]
    port = int(environment(web)["TOWNS_WEB_PORT"])
    assert port in container_ports(web)
    check = " ".join(web["healthcheck"]["test"])
    match = re.search(r"http://127\.0\.0\.1:(\d+)(/\S*?)'", check)
    assert match and int(match.group(1)) == port
    assert match.group(2) in {r.path for r in router.routes}


def test_named_volumes_hold_the_state(compose, services):
    declared = set(compose.get("volumes") or {})
    assert any(v.startswith("pgdata:/var/lib/postgresql/data") for v in services["postgresql"]["volumes"])
    for name, service in services.items():
        for v in service.get("volumes", []):
            source = v.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name}: volume {source} is not declared"


# ---------------------------------------------------------------- the commands and the image


def module_runs(command: list[str]) -> None:
    """``python -m MODULE``: the module (a package's ``__main__``) exists and runs something."""
    assert command[:2] == ["python", "-m"], command
    spec = importlib.util.find_spec(command[2])
    assert spec is not None, command
    if spec.submodule_search_locations:  # a package: its __main__
        spec = importlib.util.find_spec(f"{command[2]}.__main__")
        assert spec is not None, command
    assert spec.origin and 'if __name__ == "__main__":' in Path(spec.origin).read_text(encoding="utf-8")


def test_the_commands_run_modules_that_exist(services):
    module_runs(services["worker"]["command"])
    module_runs(services["web"]["command"])
    assert services["worker"]["command"] == ["python", "-m", "towns.worker"]
    assert services["web"]["command"] == ["python", "-m", "towns.web"]
    from towns.cli.db import app

    assert services["migrate"]["command"] == ["towns", "db", "upgrade"]
    assert "upgrade" in {c.name for c in app.registered_commands}
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts["towns"] == "towns.cli:main"


def test_the_dockerfile_runs_the_worker(services):
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    cmd = [line for line in text.splitlines() if line.startswith("CMD ")]
    assert len(cmd) == 1
    assert json.loads(cmd[0][4:]) == services["worker"]["command"]
    for line in text.splitlines():
        if line.startswith("FROM "):
            image = line.split()[1]
            assert pinned(image), f"FROM {image} is not pinned"
    assert "ENV TOWNS_HOME=/var/lib/towns" in text
    assert re.search(r"^USER towns$", text, re.M), "not root"
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()}
    assert not ignored & {"pyproject.toml", "README.md", "towns", "worker.py"}, "the build needs these"


# ---------------------------------------------------------------- the web entry point


def test_web_settings_from_the_environment(tmp_path):
    from towns.web.standalone import WebSettings

    s = load_settings()
    secret = "s" * 40
    web = WebSettings.from_env(
        s, {"TOWNS_WEB_PORT": "9000", "TOWNS_WEB_SECRET": secret, "TOWNS_TEMPORAL_UI": "https://ui.example"}
    )
    assert (web.host, web.port, web.secret, web.temporal_ui) == ("0.0.0.0", 9000, secret, "https://ui.example")
    with pytest.raises(ConfigError, match="TOWNS_WEB_SECRET"):
        WebSettings.from_env(s, {"TOWNS_WEB_SECRET": "short"})
    with pytest.raises(ConfigError, match="TOWNS_WEB_PORT"):
        WebSettings.from_env(s, {"TOWNS_WEB_PORT": "eighty"})
    made = WebSettings.from_env(s, {"TOWNS_WEB_SECRET": ""})  # none given: the home's, made once
    assert made.secret == (s.home / "web.secret").read_text().strip() and len(made.secret) >= 32
    assert WebSettings.from_env(s, {}).secret == made.secret


async def test_the_web_app_is_built_from_the_environment(env, tmp_path, monkeypatch):
    """What the web container does at start, on the settings its environment gives — short of
    listening on a port."""
    from towns.web.standalone import WebSettings, build_app, require_remote

    secret = "k" * 48
    monkeypatch.setenv("TOWNS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'towns.db'}")
    monkeypatch.setenv("TEMPORAL_ADDRESS", env.client.service_client.config.target_host)
    monkeypatch.setenv("TOWNS_WEB_SECRET", secret)
    monkeypatch.setenv("TOWNS_TEMPORAL_UI", "http://ui.example:8233")
    settings = load_settings()
    require_remote(settings)
    app = await build_app(settings, WebSettings.from_env(settings))
    assert app.state.signer.secret == secret
    assert app.state.temporal_ui == "http://ui.example:8233"
    assert app.state.task_queue == TASK_QUEUE
    assert str(app.state.engine.url) == f"sqlite:///{tmp_path / 'towns.db'}"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web") as http:
        r = await http.get("/healthz")
        assert r.status_code == 200, r.text
        assert r.json() == {"status": "ok", "database": "ok", "temporal": "ok"}
        assert (await http.get("/api/towns")).status_code == 401  # the API still wants a login
    app.state.engine.dispose()


async def test_health_says_what_is_unreachable(env, tmp_path):
    from towns.models.db import make_engine
    from towns.web.app import create_app

    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    app = create_app(engine, env.client, TASK_QUEUE, "x" * 40)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web") as http:
        r = await http.get("/healthz")
    assert r.status_code == 503
    assert r.json()["database"].startswith("unreachable") and r.json()["temporal"] == "ok"


def test_the_web_alone_refuses_to_start_without_its_settings(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "TOWNS_HOME": str(tmp_path), "HOME": str(tmp_path)}
    r = subprocess.run(
        [sys.executable, "-m", "towns.web"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2
    assert "TEMPORAL_ADDRESS" in r.stderr and "DATABASE_URL" in r.stderr

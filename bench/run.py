"""`make bench`: how fast towns runs, each figure beside its limit measured in the same run.

    make bench                                  # N = 1,000 towns, SQLite, one worker (≈ 4–7 min on 2 cores)
    make bench ARGS="--quick"                   # N = 200, fewer raw round trips: a quick check
    make bench ARGS="--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test --workers 2"
    .venv/bin/python bench/run.py --help        # every option

Everything runs on one FILE-BACKED Temporal dev server started for the run (``temporal server
start-dev --db-filename …``, the venv's binary, as ``towns server`` runs it) and one fresh database: a SQLite file by default, or a new
PostgreSQL database made next to ``--database-url`` (which names an existing database to connect
to, e.g. ``/test``) and dropped at the end. The towns worker runs as ``--workers`` separate
processes (``bench/worker.py``: ``towns.worker.build_worker`` as production builds it, with the
no-op workflow and activity of ``bench/noop.py`` added on the same task queue); the CLI runs as
subprocesses in "remote" mode (``TOWNS_HOME`` an empty folder, ``DATABASE_URL`` and
``TEMPORAL_ADDRESS`` set), as a user runs it.

What is measured, in order:

(a) raw limits of the server: no-op workflow starts, no-op Updates, Updates that run one no-op
    activity, no-op Signals — each 16 at a time from this process, after a warm-up, in 3 passes
    (the median pass counts), each kind just before the step compared with it (starts before the
    towns import, Updates before the reports import, Signals before the approval);
(b) ingest through the real CLI: ``towns import towns FILE --json`` (N towns), then one month's
    reports for all N towns (``towns import reports FILE --json``, December 2018, year to date):
    wall time of each command, rate, ratio to (a), and the rows not accepted (from the JSON);
(c) the annual round 2018: start → proposed (``RoundWorkflow`` started with ``RoundStart``, then
    the ``proposals_ready`` Update, as ``towns round start --wait`` does) against the same
    evaluation in this process (what ``towns round simulate`` runs, on the same database); then
    approve → applied (the ``approve`` Update) in towns/s against raw Signals; ledger bytes per
    proposal, the share that is the round's context, and whether it depends on N;
(d) reads: ``towns history CODE --json`` and ``towns status CODE`` timed inside the command in
    fresh processes (``bench/read_probe.py``, 20 towns each), and the CLI's start-up: wall time
    of ``towns --help`` and ``towns status CODE`` (median of 5);
(e) 10,000 towns: one month of reports and one annual round, projected linearly from the rates
    measured here — or run, with ``--project-run`` (or ``--towns 10000``).

How to read it: the table has one row per figure: step | figure | the limit it is compared with,
measured in this run | ratio | target | met?. Below it, the CPU seconds each process used in each
step (which process is the bottleneck: a process near 1.0 CPU-s per second is saturating one
core; this machine has the cores printed in the header), with "others": every other process of
the machine — when it is high, someone else's work slowed the run, and the notes say so. After
the towns import the bench waits until the worker has taken the towns' first workflow tasks
(its own row), so that the reports do not pay for them; the CLI subprocesses cache bytecode in
the run's folder (``PYTHONPYCACHEPREFIX``), as an installed package has it. All raw numbers are in the JSON
(``bench/results.json`` by default, ``--json PATH``). Nothing is asserted: the exit code is 0
when the bench ran (whether targets were met or not), 1 when a step failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import platform
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from noop import NoopWorkflow  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402
from temporalio.api.enums.v1 import EventType  # noqa: E402
from temporalio.client import Client  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402

from towns.config import TASK_QUEUE, venv_binary  # noqa: E402

try:  # as towns server starts its dev server (the SQLite settings of its file)
    from towns.devserver import pragma_args
except ImportError:  # a build before them: its server's defaults

    def pragma_args() -> list[str]:
        return []


from towns.models.db import make_engine, prepare_database  # noqa: E402
from towns.models.round import Approval, RoundKind  # noqa: E402
from towns.models.workflows import round_id, workflow_id  # noqa: E402
from towns.workflows.round import RoundStart, RoundWorkflow  # noqa: E402

console = Console(width=None if sys.stdout.isatty() else 160)
YEAR = 2018  # the round's year; the reports are December 2018, year to date
PERIOD = f"{YEAR}-12"
PACK = "sx2018"
DISTRICTS = ["yuecheng", "keqiao", "shangyu", "zhuji", "shengzhou", "xinchang", "paojiang"]
INDUSTRIES = [
    "information_economy",
    "environmental",
    "health",
    "tourism",
    "fashion",
    "finance",
    "high_end_equipment",
    "historical_classic",
]
LOW_TARGET = {"information_economy", "tourism", "finance", "historical_classic"}  # 10 亿元, else 15
CONCURRENCY = 16
PASSES = 3  # each raw kind is measured in this many passes; the median pass counts
READ_SAMPLES = 20


def importers_concurrency() -> int | None:
    """How many rows `towns import` sends at a time (the default of towns.intake.service.import_reports)."""
    import inspect

    try:
        from towns.intake.service import import_reports

        default = inspect.signature(import_reports).parameters["concurrency"].default
        return default if isinstance(default, int) else None
    except (ImportError, KeyError, TypeError, ValueError):
        return None


IMPORTERS = importers_concurrency()
STARTUP_SAMPLES = 5
PROJECT_N = 10_000


# ---------------------------------------------------------------- small helpers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a live process has used so far; 0 when it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def rss_mb(pid: int) -> float | None:
    """A live process's resident memory, MB (None when it cannot be read)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        pass
    return None


def machine_cpu() -> tuple[float, float]:
    """CPU seconds the whole machine has been busy (all processes) and stolen by the hypervisor."""
    try:
        f = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    return (f[0] + f[1] + f[2] + f[5] + f[6]) / tick, (f[7] if len(f) > 7 else 0) / tick


class Cpu:
    """CPU seconds per process group over a step: this process (the bench client and the in-process
    evaluation), the CLI subprocesses (once finished), the worker processes, the Temporal server —
    and every other process of the machine (not the bench's: other people's work, which slows it)."""

    def __init__(self, workers: list[int], server: list[int]):
        self.workers, self.server = workers, server
        self.steps: dict[str, dict[str, float]] = {}

    def sample(self) -> dict[str, Any]:
        me = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # finished subprocesses: the CLI, probes
        busy, steal = machine_cpu()
        return {
            "bench": me.ru_utime + me.ru_stime,
            "cli": kids.ru_utime + kids.ru_stime,
            "workers": sum(proc_cpu(p) for p in self.workers),
            "temporal": sum(proc_cpu(p) for p in self.server),
            "postgres": postgres_cpu(),
            "machine": busy,
            "steal": steal,
            "wall": time.perf_counter(),
        }

    def step(self, name: str, before: dict[str, Any], items: int | None = None) -> dict[str, float]:
        """The CPU seconds of each group since ``before``; ``items``: what the step did (towns, round
        trips), for the CPU milliseconds per item."""
        after = self.sample()
        pg_before, pg_after = before.pop("postgres"), after.pop("postgres")
        d = {k: round(after[k] - before[k], 3) for k in after}
        # the PostgreSQL server's processes (the database's work; a backend that ended within the step is lost)
        d["postgres"] = round(sum(v - pg_before.get(pid, 0.0) for pid, v in pg_after.items()), 3)
        ours = d["bench"] + d["cli"] + d["workers"] + d["temporal"] + d["postgres"]
        d["others"] = round(max(0.0, d.pop("machine") - ours), 3)
        if items:
            d["items"] = items
        self.steps[name] = d
        return d


def absorbed(sent: dict[str, Any], quiet: dict[str, Any]) -> dict[str, Any]:
    """Signals absorbed: ``sent["n"]`` over the time until the worker and the server went quiet after
    them (the sending, then ``quiet``'s wait less its two idle windows): what a Signal's round trip
    leaves out — the workflow task each Signal causes, which the server and the worker run after it."""
    seconds = float(sent["seconds"]) + max(0.0, float(quiet["seconds"]) - 2 * QUIET_WINDOW)
    return {"n": sent["n"], "seconds": round(seconds, 3), "per_s": round(sent["n"] / seconds, 1) if seconds else None}


QUIET_WINDOW = 0.5


async def quiet(cpu: Cpu, timeout: float = 60, window: float = QUIET_WINDOW, busy: float = 0.1) -> dict[str, Any]:
    """Wait until the worker(s) and the Temporal server are idle: under ``busy`` CPU-seconds per
    second each over two ``window``s running. A Signal's (or a start's) round trip ends when the
    server has taken it, before the workflow task it causes has run, and those tasks go to the
    worker's sticky queue, which ``settle`` does not see: the step measured next must not pay
    for them."""
    t0 = time.perf_counter()
    streak = 0
    last = cpu.sample()
    while time.perf_counter() - t0 < timeout and streak < 2:
        await asyncio.sleep(window)
        now = cpu.sample()
        idle = all((now[k] - last[k]) / window < busy for k in ("workers", "temporal"))
        streak = streak + 1 if idle else 0
        last = now
    return {"seconds": round(time.perf_counter() - t0, 2), "quiet": streak >= 2}


def postgres_cpu() -> dict[int, float]:
    """CPU seconds so far of each process of the machine's PostgreSQL server (by its name)."""
    found = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if (p / "comm").read_text().strip() == "postgres":
                    found[int(p.name)] = proc_cpu(int(p.name))
            except OSError:
                continue
    return found


async def lanes(
    n: int, op: Callable[[int], Awaitable[Any]], concurrency: int = CONCURRENCY, cap: float | None = None
) -> dict[str, float]:
    """Run op(0..n-1), ``concurrency`` at a time, taking no new one after ``cap`` seconds; rate and
    latencies of those done."""
    todo = iter(range(n))
    latencies: list[float] = []
    t0 = time.perf_counter()
    deadline = t0 + cap if cap else float("inf")

    async def lane() -> None:
        for i in todo:
            t = time.perf_counter()
            await op(i)
            latencies.append(time.perf_counter() - t)
            if t > deadline:
                break

    await asyncio.gather(*(lane() for _ in range(concurrency)))
    seconds = time.perf_counter() - t0
    done = len(latencies)
    return {
        "n": done,
        "asked": n,
        "concurrency": concurrency,
        "seconds": round(seconds, 3),
        "per_s": round(done / seconds, 1),
        "p50_ms": round(pct(latencies, 0.5) * 1000, 2),
        "p95_ms": round(pct(latencies, 0.95) * 1000, 2),
    }


# ---------------------------------------------------------------- the files a user imports


def town_rows(n: int) -> list[dict[str, Any]]:
    """N towns of the sx2018 programme: its districts, tiers and industries; listed 2015–2018."""
    rnd = random.Random(2018)
    rows = []
    for i in range(n):
        tier = rnd.choices(["provincial_creation", "provincial_cultivation", "city"], weights=[45, 30, 25])[0]
        listed = rnd.choice([2015, 2016, 2017, 2018])
        planned_area = round(rnd.uniform(1.0, 3.5), 2)
        rows.append(
            {
                "code": f"BN-{i:05d}",
                "name": f"基准小镇{i:05d}",
                "district": DISTRICTS[i % len(DISTRICTS)],
                "tier": tier,
                "industry": INDUSTRIES[(i // len(DISTRICTS)) % len(INDUSTRIES)],
                "batch": str(listed - 2014) if tier == "provincial_creation" else "",
                "listed_year": listed,
                "creation_years": 3,
                "planned_investment": round(rnd.uniform(30, 60), 1),
                "annual_fai_target": "",
                "planned_area_km2": planned_area,
                "core_area_km2": round(min(planned_area, rnd.uniform(0.3, 1.2)), 2),
                "state": "creating",
            }
        )
    return rows


def report_rows(towns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """December 2018, year to date, 亿元, for every town: around its annual target (0.7–2×), shares
    that mostly pass, a spread of grades."""
    rnd = random.Random(12)
    rows = []
    for t in towns:
        if t["tier"] == "city":
            target = t["planned_investment"] / t["creation_years"]
        else:
            target = 10 if t["industry"] in LOW_TARGET else 15
        fai = round(min(target * rnd.uniform(0.7, 2.0), 250), 2)
        rows.append(
            {
                "code": t["code"],
                "period": PERIOD,
                "fai": fai,
                "industry_fai": round(fai * rnd.uniform(0.6, 0.92), 2),
                "nongov_fai": round(fai * rnd.uniform(0.65, 0.97), 2),
                "tax": round(rnd.uniform(0.3, 6.0), 2),
                "new_enterprises": rnd.randint(3, 40),
                "high_tech_enterprises": rnd.randint(1, 30),
                "high_end_talents": rnd.randint(2, 60),
                "tourists_10k": round(rnd.uniform(10, 400), 1),
                "scenic_level": rnd.randint(0, 4),
                "correction": "",
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


# ---------------------------------------------------------------- the system under test


class Database:
    """A fresh database: a SQLite file in the run's folder, or a new PostgreSQL database beside the
    one ``--database-url`` names (dropped at the end)."""

    def __init__(self, url: str | None, folder: Path):
        self.admin_url = url
        self.name: str | None = None
        if url is None:
            self.url = f"sqlite:///{folder / 'towns.db'}"
            return
        base = make_url(url)
        if not base.drivername.startswith("postgresql"):
            raise SystemExit(f"--database-url: only PostgreSQL is supported ({base.drivername})")
        self.name = f"towns_bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{self.name}"'))
        admin.dispose()
        self.url = base.set(database=self.name).render_as_string(hide_password=False)

    @property
    def kind(self) -> str:
        return "postgresql" if self.name else "sqlite"

    def drop(self) -> None:
        if self.name and self.admin_url:
            admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            admin.dispose()


class TemporalServer:
    """The Temporal dev server as `towns server` runs it (``temporal server start-dev`` on a database
    file), headless, its log in the run's folder."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.folder = folder
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self, timeout: float = 60) -> Client:
        from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

        args = ["server", "start-dev", "--db-filename", str(self.folder / "temporal.db"), "--ip", "127.0.0.1"]
        args += ["--port", str(self.port), "--headless", "--log-level", "error", "--namespace", "default"]
        args += pragma_args()
        with open(self.folder / "temporal.log", "w") as log:
            self.proc = subprocess.Popen(
                [venv_binary("temporal"), *args], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        end = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"the Temporal dev server exited: {(self.folder / 'temporal.log').read_text()[-2000:]}"
                )
            try:
                client = await Client.connect(self.address, data_converter=pydantic_data_converter)
                await client.workflow_service.get_system_info(GetSystemInfoRequest())
                return client
            except Exception:
                if time.monotonic() > end:
                    raise
                await asyncio.sleep(0.2)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


class Workers:
    """K worker processes (bench/worker.py) against the server and the database."""

    def __init__(self, k: int, env: dict[str, str], folder: Path):
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []
        for i in range(k):
            log = folder / f"worker-{i + 1}.log"
            with open(log, "w") as out:  # a file, not a pipe: a full pipe would stall the worker
                self.procs.append(
                    subprocess.Popen(
                        [sys.executable, str(BENCH / "worker.py")],
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                    )
                )
            self.logs.append(log)
        end = time.monotonic() + 120
        for proc, log in zip(self.procs, self.logs, strict=True):
            while "worker ready" not in log.read_text():
                if proc.poll() is not None or time.monotonic() > end:
                    raise RuntimeError(f"a worker did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.1)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def check(self) -> None:
        for proc, log in zip(self.procs, self.logs, strict=True):
            if proc.poll() is not None:
                raise RuntimeError(f"worker {proc.pid} exited ({proc.returncode}):\n{log.read_text()[-3000:]}")

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)


class Profiler:
    """``--profile``: each step's worker stacks recorded by py-spy (``pip install py-spy``), one
    collapsed-stack file per worker and step in the run's folder (``profile-<step>-<pid>.txt``, for
    flamegraph.pl or speedscope); where a worker's CPU goes, as the CPU table cannot say."""

    def __init__(self, on: bool, folder: Path, pids: list[int]):
        self.folder, self.pids = folder, pids
        self.exe = (shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))) if on else None
        if self.exe is not None and not Path(self.exe).exists():
            raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, step: str) -> None:
        if self.exe is None:
            return
        for pid in self.pids:
            out = self.folder / f"profile-{step}-{pid}.txt"
            cmd = [self.exe, "record", "--pid", str(pid), "--format", "raw", "--rate", "100", "--output", str(out)]
            self.procs.append(
                subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
            )
        time.sleep(0.5)  # py-spy attached before the step begins

    def stop(self) -> None:
        for p in self.procs:
            p.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        self.procs = []


def run_cli(args: list[str], env: dict[str, str], log: Path, timeout: float = 1800) -> tuple[float, int, str]:
    """A `towns` command as a subprocess: wall seconds, exit code, stdout (stderr goes to ``log``)."""
    with open(log, "a") as err:
        err.write(f"$ towns {' '.join(args)}\n")
        err.flush()
        t0 = time.perf_counter()
        out = subprocess.run(
            [venv_binary("towns"), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=err,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
        seconds = time.perf_counter() - t0
    return seconds, out.returncode, out.stdout.decode("utf-8", "replace")


def import_summary(stdout: str, n: int) -> dict[str, Any]:
    """What `towns import … --json` answered: accepted, rejected, unanswered, per status, a few problems."""
    try:
        data = json.loads(stdout)
    except ValueError:
        return {"accepted": 0, "not_accepted": n, "error": "no JSON on stdout: " + stdout[-500:]}
    rows = data.get("rows") or []
    bad = [r for r in rows if not r.get("accepted")]
    return {
        "accepted": data.get("accepted"),
        "rejected": data.get("rejected"),
        "unanswered": data.get("unanswered"),
        "counts": data.get("counts"),
        "not_accepted": n - int(data.get("accepted") or 0),
        "failed_rules": sum(1 for r in rows if r.get("failed_rules")),
        "examples_not_accepted": bad[:3],
    }


# ---------------------------------------------------------------- (a) raw limits


async def settle(client: Client, timeout: float = 120) -> dict[str, Any]:
    """Wait until the worker has caught up: no task waiting on the towns task queue (workflow and
    activity; the server's approximate backlog) in two polls running. A step that starts many
    workflows leaves their first workflow tasks behind it; the next step should not pay for them."""
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

    t0 = time.perf_counter()
    streak, most = 0, 0
    while time.perf_counter() - t0 < timeout:
        backlog = 0
        for kind in (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY):
            resp = await client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace="default", task_queue=TaskQueue(name=TASK_QUEUE), task_queue_type=kind, report_stats=True
                )
            )
            backlog += resp.stats.approximate_backlog_count
        most = max(most, backlog)
        streak = streak + 1 if backlog == 0 else 0
        if streak >= 2:
            break
        await asyncio.sleep(0.25)
    return {"seconds": round(time.perf_counter() - t0, 2), "largest_backlog": most, "settled": streak >= 2}


class Raw:
    """No-op round trips, 16 at a time, each kind measured just before the step it is compared with
    (the machine's conditions then are the step's): ``count`` of each in PASSES passes (fewer when
    ``cap`` seconds run out first), the median pass's rate. Each Update and Signal goes to a workflow
    of its own, as each report goes to its town's."""

    def __init__(self, client: Client, count: int, cap: float):
        self.client, self.count, self.cap = client, count, cap
        self.run = uuid.uuid4().hex[:6]
        self.started: list[str] = []  # ids of the no-op workflows (they stay open: the server goes at the end)
        self.out: dict[str, Any] = {}

    def _id(self, prefix: str, i: int) -> str:
        return f"bench-{prefix}-{self.run}-{i:05d}"

    async def _start(self, wid: str) -> None:
        await self.client.start_workflow(NoopWorkflow.run, id=wid, task_queue=TASK_QUEUE)

    async def _op(self, kind: str, wid: str) -> None:
        h = self.client.get_workflow_handle(wid)
        if kind == "update":
            await h.execute_update(NoopWorkflow.noop)
        elif kind == "update_activity":
            await h.execute_update(NoopWorkflow.with_activity)
        elif kind == "update_local_activity":
            await h.execute_update(NoopWorkflow.with_local_activity)
        else:
            await h.signal(NoopWorkflow.ping)

    async def warm_up(self, n: int) -> None:
        """Connections, caches, the server's task queues: a few of each kind, not counted."""
        ids = [self._id("warm", i) for i in range(n)]
        await lanes(n, lambda i: self._start(ids[i]))
        await settle(self.client)
        for kind in ("update", "update_activity", "update_local_activity", "signal"):
            await lanes(n, lambda i, kind=kind: self._op(kind, ids[i]))

    async def starts(self) -> None:
        passes, settles = [], []
        per_pass = max(1, self.count // PASSES)
        for p in range(PASSES):
            ids = [self._id(f"noop{p}", i) for i in range(per_pass)]
            x = await lanes(per_pass, lambda i, ids=ids: self._start(ids[i]), cap=self.cap / PASSES)
            self.started += ids[: int(x["n"])]
            passes.append(x)
            settles.append(await settle(self.client))  # their first workflow tasks, outside the timing
        self.out["start"] = summary(passes)
        self.out["settle_after_start"] = settles
        # the importers' own concurrency, when it is not the raw figures' 16: the same at it (JSON only)
        if IMPORTERS not in (None, CONCURRENCY):
            ids = [self._id("noopimp", i) for i in range(per_pass)]
            self.out["start_at_importers"] = await lanes(
                per_pass, lambda i: self._start(ids[i]), concurrency=IMPORTERS, cap=self.cap / 3
            )
        await settle(self.client)

    async def kind(self, kind: str) -> None:
        ids, passes = self.started, []
        chunk = max(1, len(ids) // PASSES)
        for p in range(PASSES):
            part = ids[p * chunk : (p + 1) * chunk]
            passes.append(await lanes(len(part), lambda i, part=part: self._op(kind, part[i]), cap=self.cap / PASSES))
        self.out[kind] = summary(passes)
        if kind == "update" and IMPORTERS not in (None, CONCURRENCY):
            self.out["update_at_importers"] = await lanes(
                len(ids), lambda i: self._op("update", ids[i]), concurrency=IMPORTERS, cap=self.cap / 3
            )


def summary(passes: list[dict[str, Any]]) -> dict[str, Any]:
    """One raw kind over its passes: the median pass's rate (a stall in one pass does not decide it)."""
    return {
        "n": sum(int(p["n"]) for p in passes),
        "per_s": statistics.median(p["per_s"] for p in passes),
        "p50_ms": statistics.median(p["p50_ms"] for p in passes),
        "p95_ms": max(p["p95_ms"] for p in passes),
        "seconds": round(sum(p["seconds"] for p in passes), 3),
        "passes": passes,
    }


async def history_shape(client: Client, workflow_id: str) -> dict[str, Any]:
    """What one workflow's history holds: events by type and the activities it ran (evidence of what a
    report or a round costs in round trips). Read with the public client API after the step."""
    events: dict[str, int] = {}
    activities: dict[str, int] = {}
    try:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
    except Exception as exc:  # the shape is evidence, not a figure: its absence does not stop the run
        return {"error": str(exc)[:300]}
    for e in history.events:
        name = EventType.Name(e.event_type).removeprefix("EVENT_TYPE_").lower()
        events[name] = events.get(name, 0) + 1
        if e.HasField("activity_task_scheduled_event_attributes"):
            kind = e.activity_task_scheduled_event_attributes.activity_type.name
            activities[kind] = activities.get(kind, 0) + 1
    return {"workflow_id": workflow_id, "events": len(history.events), "by_type": events, "activities": activities}


# ---------------------------------------------------------------- (c) the round


def in_process_evaluation(engine: Engine, year: int) -> dict[str, Any]:
    """The annual evaluation in this process, on the same database, with the functions `towns round
    simulate` runs (towns.audit.simulate): once as its baseline does (one evaluation of every town in
    scope under the current pack), and the whole ``simulate()`` (which evaluates twice: baseline and
    what-if, here the shipped pack itself)."""
    from importlib import resources

    from sqlmodel import Session, select

    from towns.audit.simulate import simulate
    from towns.rules.library import load_pack_file

    as_of = date(year, 12, 31)
    path = resources.files("towns.rules") / "packs" / f"{PACK}.toml"
    t0 = time.perf_counter()
    what_if = load_pack_file(Path(str(path)), as_of)
    sim = simulate(engine, RoundKind.annual, year, what_if, None)
    simulate_s = time.perf_counter() - t0
    out: dict[str, Any] = {
        "simulate_seconds": round(simulate_s, 3),
        "simulate_changes": len(sim.changes),
        "towns": sim.towns,
    }
    try:
        from towns.models.round import load_records
        from towns.models.town import Town
        from towns.rules import annual
        from towns.rules.library import load_pack
        from towns.rules.proposals import evaluate
        from towns.rules.scope import in_scope

        load_pack(PACK, as_of)  # warm, as in a worker that has evaluated the month's reports
        t0 = time.perf_counter()
        pack = load_pack(PACK, as_of)
        with Session(engine) as s:
            towns = s.exec(select(Town).order_by(Town.code)).all()
            codes = [t.code for t in towns if in_scope(t, RoundKind.annual, year, pack)]
            records = load_records(s, codes, year)
        ctx = annual.annual_context(records, year, pack, None)
        proposals = [evaluate(RoundKind.annual, r, year, pack, ctx) for r in records]
        once = time.perf_counter() - t0
    except Exception as exc:  # the simulation's insides changed: half of simulate() (it evaluates twice)
        out.update(seconds=round(simulate_s / 2, 3), how=f"half of simulate() ({type(exc).__name__}: {exc})"[:300])
        out["per_s"] = round(sim.towns / (simulate_s / 2), 1)
        out.update(_records=None, _pack=None)
        return out
    grades: dict[str, int] = {}
    for p in proposals:
        grades[str(p.proposed_grade)] = grades.get(str(p.proposed_grade), 0) + 1
    out.update(
        towns=len(records),
        seconds=round(once, 3),
        per_s=round(len(records) / once, 1),
        grades=grades,
        how="one evaluation of the towns in scope, as simulate()'s baseline",
        _records=records,
        _pack=pack,
    )
    return out


def context_size(records: list[Any] | None, year: int, pack: Any) -> int | None:
    """Bytes of the round's city context (canonical JSON, as the ledger writes it) over these towns."""
    if records is None:
        return None
    try:
        from towns.models.ledger import canonical
        from towns.rules import annual

        ctx = annual.annual_context(records, year, pack, None)
        return len(canonical(ctx.model_dump(mode="json")).encode())
    except Exception:  # an internal changed shape: the figure is left out, not the run
        return None


def ledger_figures(engine: Engine, round_id: str, n_small: int, inproc: dict[str, Any]) -> dict[str, Any]:
    """Bytes of the round's proposal entries; the share of their round context (inline, or the one
    entry they refer to); the same per proposal over N/10 towns, from the context's size over N/10."""
    from sqlmodel import Session, select

    from towns.models.ledger import LedgerEntry, canonical

    with Session(engine) as s:
        rows = s.exec(select(LedgerEntry.kind, LedgerEntry.body).where(LedgerEntry.round_id == round_id)).all()
    proposals = [b for k, b in rows if k == "proposal"]
    others: dict[str, list[int]] = {}
    for k, b in rows:
        others.setdefault(k, []).append(len(b.encode()))
    total = sum(len(b.encode()) for b in proposals)
    inline_ctx = 0
    record = 0
    refs = 0
    for b in proposals:
        inputs = json.loads(b).get("inputs") or {}
        if inputs.get("context") is not None:
            inline_ctx += len(canonical(inputs["context"]).encode())
        if inputs.get("context_ref"):
            refs += 1
        if inputs.get("record") is not None:
            record += len(canonical(inputs["record"]).encode())
    n = len(proposals) or 1
    per = total / n
    ctx_entries = sum(others.get("context", []))
    ctx_full = context_size(inproc["_records"], YEAR, inproc["_pack"])
    small = inproc["_records"][:n_small] if inproc["_records"] is not None else None
    ctx_small = context_size(small, YEAR, inproc["_pack"])
    inline_per = inline_ctx / n
    per_small: float | None
    if inline_ctx and ctx_small is not None:
        per_small = per - inline_per + ctx_small  # the same entries with the context of N/10 towns
    elif refs:
        per_small = per  # a reference of fixed size: nothing in the entry grows with the round
    else:
        per_small = None
    return {
        "proposals": len(proposals),
        "bytes_total": total,
        "bytes_per_proposal": round(per, 1),
        "inline_context_bytes_per_proposal": round(inline_per, 1),
        "context_share": round(inline_ctx / total, 4) if total else None,
        "context_by_reference": refs,
        "context_entry_bytes": ctx_entries,
        "record_share": round(record / total, 4) if total else None,
        "round_entries_bytes_by_kind": {k: sum(v) for k, v in others.items()},
        "round_entries_count_by_kind": {k: len(v) for k, v in others.items()},
        "context_bytes_in_process_n": ctx_full,
        "n_small": n_small,
        "context_bytes_in_process_n_small": ctx_small,
        "bytes_per_proposal_n_small_estimated": round(per_small, 1) if per_small is not None else None,
    }


# ---------------------------------------------------------------- (d) reads


def reads(codes: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for what in ("history", "status"):
        samples = []
        for code in codes:
            proc = subprocess.run(
                [sys.executable, str(BENCH / "read_probe.py"), what, code],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            if proc.returncode != 0:
                with open(log, "a") as fh:
                    fh.write(f"read_probe {what} {code}: {proc.returncode}\n{proc.stdout}\n{proc.stderr}\n")
                continue
            samples.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        ms = [s["ms"] for s in samples]
        out[what] = {
            "samples": len(samples),
            "median_ms": round(statistics.median(ms), 2) if ms else None,
            "p95_ms": round(pct(ms, 0.95), 2) if ms else None,
            "max_ms": round(max(ms), 2) if ms else None,
            "import_median_s": round(statistics.median(s["import_s"] for s in samples), 3) if samples else None,
            "json_chars_median": statistics.median(s["chars"] for s in samples) if samples else None,
            "ms": [round(x, 2) for x in ms],
        }
    return out


def startup(code: str, env: dict[str, str], log: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, args in (("help", ["--help"]), ("status", ["status", code])):
        walls = []
        for _ in range(STARTUP_SAMPLES):
            seconds, rc, _ = run_cli(args, env, log, timeout=120)
            if rc == 0:
                walls.append(seconds)
        out[name] = {
            "median_s": round(statistics.median(walls), 3) if walls else None,
            "min_s": round(min(walls), 3) if walls else None,
            "samples": [round(w, 3) for w in walls],
        }
    return out


# ---------------------------------------------------------------- the run


async def bench(args: argparse.Namespace, folder: Path, result: dict[str, Any]) -> None:
    n = args.towns
    db = Database(args.database_url, folder)
    result["config"]["database"] = {"kind": db.kind, "url": shown(db.url)}
    home = folder / "home"
    home.mkdir()
    engine = make_engine(db.url)
    prepare_database(engine)
    log = folder / "cli.log"
    server = TemporalServer(folder)
    workers: Workers | None = None
    try:
        client = await server.start()
        assert server.proc is not None
        sub_env = {
            **os.environ,
            "TOWNS_HOME": str(home),
            "DATABASE_URL": db.url,
            "TEMPORAL_ADDRESS": server.address,
            "COLUMNS": "200",
            # bytecode cached, as an installed package has it, in the run's folder (not the source tree)
            "PYTHONPYCACHEPREFIX": str(folder / "pycache"),
        }
        sub_env.pop("PYTHONDONTWRITEBYTECODE", None)
        workers = Workers(args.workers, sub_env, folder)
        run_cli(["--help"], sub_env, log)  # compiles the CLI's modules once; never timed
        result["config"]["worker_pids"] = workers.pids
        result["config"]["worker_banner"] = [w.read_text().splitlines()[0] for w in workers.logs]
        cpu = Cpu(workers.pids, [server.proc.pid])
        profiler = Profiler(args.profile, folder, workers.pids)
        result["cpu_seconds"] = cpu.steps  # filled step by step (kept when a later step fails)
        # (a) raw limits: each measured just before the step compared with it
        raw = Raw(client, args.raw, args.raw_seconds)
        result["raw"] = raw.out
        say(
            f"(a) raw limits, each just before its step: up to {args.raw} of each in {PASSES} passes, "
            f"{CONCURRENCY} at a time, at most {args.raw_seconds:.0f} s each; first the no-op starts"
        )
        c0 = cpu.sample()
        await raw.warm_up(args.warmup)
        cpu.step("raw_warm_up", c0)
        c0 = cpu.sample()
        await raw.starts()
        cpu.step("raw_start", c0, raw.out["start"]["n"] + raw.out.get("start_at_importers", {}).get("n", 0))
        workers.check()

        # (b) ingest through the CLI
        towns = town_rows(n)
        towns_csv = write_csv(folder / "towns.csv", towns)
        reports_csv = write_csv(folder / f"reports-{PERIOD}.csv", report_rows(towns))
        say(f"(b) towns import towns ({n} rows)")
        c0 = cpu.sample()
        seconds, rc, out = run_cli(["import", "towns", str(towns_csv), "--json"], sub_env, log)
        cpu.step("register", c0, n)
        result["register"] = {"seconds": round(seconds, 3), "exit": rc, "per_s": round(n / seconds, 1)}
        result["register"].update(import_summary(out, n))
        c0 = cpu.sample()
        result["register"]["settle_after"] = await settle(client)  # the towns' first workflow tasks
        cpu.step("register_settle", c0, n)
        workers.check()
        say("(a) raw no-op Updates, and Updates running one no-op activity")
        c0 = cpu.sample()
        await raw.kind("update")
        raw.out["quiet_after_update"] = await quiet(cpu)  # its workflow tasks ran before the next step
        cpu.step("raw_update", c0, raw.out["update"]["n"] + raw.out.get("update_at_importers", {}).get("n", 0))
        c0 = cpu.sample()
        await raw.kind("update_activity")
        raw.out["quiet_after_update_activity"] = await quiet(cpu)  # its workflow tasks ran before the next step
        cpu.step("raw_update_activity", c0, raw.out["update_activity"]["n"])
        c0 = cpu.sample()
        await raw.kind("update_local_activity")
        raw.out["quiet_after_update_local_activity"] = await quiet(cpu)
        cpu.step("raw_update_local_activity", c0, raw.out["update_local_activity"]["n"])
        say(f"(b) towns import reports ({n} rows, {PERIOD})")
        profiler.start("reports")
        c0 = cpu.sample()
        seconds, rc, out = run_cli(["import", "reports", str(reports_csv), "--json"], sub_env, log)
        cpu.step("reports", c0, n)
        profiler.stop()
        result["reports"] = {"seconds": round(seconds, 3), "exit": rc, "per_s": round(n / seconds, 1)}
        result["reports"].update(import_summary(out, n))
        result["reports"]["town_history"] = await history_shape(client, workflow_id(towns[0]["code"]))
        # every town's workflow is in a worker's cache now (as many as it keeps): memory for the sizing
        result["reports"]["worker_rss_mb"] = [rss_mb(pid) for pid in workers.pids]
        workers.check()

        # (c) the round: in process first (the towns as they are now), then through Temporal
        say("(c) annual round: in-process evaluation, then start → proposed → approve → applied")
        c0 = cpu.sample()
        inproc = in_process_evaluation(engine, YEAR)
        cpu.step("in_process", c0)
        rid = round_id(YEAR, RoundKind.annual.value)
        profiler.start("round_evaluate")
        c0 = cpu.sample()
        t0 = time.perf_counter()
        handle = await client.start_workflow(
            RoundWorkflow.run,
            RoundStart(kind=RoundKind.annual, year=YEAR, pack_id=PACK, started_by="bench"),
            id=rid,
            task_queue=TASK_QUEUE,
        )
        view = await handle.execute_update(RoundWorkflow.proposals_ready)
        proposed_s = time.perf_counter() - t0
        proposals = len(view.proposals)
        cpu.step("round_evaluate", c0, proposals)
        profiler.stop()
        say("(a) raw no-op Signals")
        c0 = cpu.sample()
        await raw.kind("signal")
        raw.out["quiet_after_signal"] = await quiet(cpu)  # its workflow tasks ran before the next step
        raw.out["signal_absorbed"] = absorbed(raw.out["signal"], raw.out["quiet_after_signal"])
        cpu.step("raw_signal", c0, raw.out["signal"]["n"])
        profiler.start("round_apply")
        c0 = cpu.sample()
        t0 = time.perf_counter()
        view = await handle.execute_update(RoundWorkflow.approve, Approval(by="bench"))
        applied_s = time.perf_counter() - t0
        cpu.step("round_apply", c0, proposals)
        raw.out["quiet_after_apply"] = await quiet(cpu)  # the towns' signal tasks (and the profile's)
        profiler.stop()
        result["round"] = {
            "id": rid,
            "proposals": proposals,
            "state": view.state,
            "evaluate_seconds": round(proposed_s, 3),
            "evaluate_per_s": round(proposals / proposed_s, 1),
            "apply_seconds": round(applied_s, 3),
            "apply_per_s": round(proposals / applied_s, 1),
            "apply_absorbed": absorbed({"n": proposals, "seconds": applied_s}, raw.out["quiet_after_apply"]),
            "in_process": {k: v for k, v in inproc.items() if not k.startswith("_")},
        }
        result["round"]["history"] = await history_shape(client, rid)
        result["round"]["town_history"] = await history_shape(client, workflow_id(towns[0]["code"]))
        result["ledger"] = ledger_figures(engine, rid, max(1, n // 10), inproc)
        workers.check()

        # (d) reads
        codes = [t["code"] for t in towns[:: max(1, n // READ_SAMPLES)]][:READ_SAMPLES]
        say(f"(d) reads: {len(codes)} fresh processes each for history and status; CLI start-up")
        c0 = cpu.sample()
        result["reads"] = reads(codes, sub_env, log)
        result["startup"] = startup(codes[0], sub_env, log)
        cpu.step("reads", c0)
    finally:
        if workers is not None:
            workers.stop()
        server.stop()
        engine.dispose()
        db.drop()


def say(text_: str) -> None:
    console.print(f"[dim]{time.strftime('%H:%M:%S')}[/] {text_}", highlight=False)


def machine() -> dict[str, Any]:
    try:
        version = subprocess.run(
            [venv_binary("temporal"), "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout.strip()
    except OSError:
        version = "?"
    cpu_model = ""
    with contextlib.suppress(OSError, StopIteration):
        cpu_model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    import temporalio

    return {
        "cores": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "cpu": cpu_model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "temporal_cli": version.splitlines()[0] if version else "?",
        "temporalio": getattr(temporalio, "__version__", "?"),
    }


# ---------------------------------------------------------------- the report


def targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of the table: step, figure, limit (same run), ratio, target, met."""
    rows: list[dict[str, Any]] = []
    n = r["config"]["towns"]
    raw = r.get("raw", {})

    def row(step: str, figure: str, limit: str = "", ratio: str = "", target: str = "", met: bool | None = None):
        rows.append({"step": step, "figure": figure, "limit": limit, "ratio": ratio, "target": target, "met": met})

    names = {
        "start": "start a no-op workflow",
        "update": "no-op Update",
        "update_activity": "Update running 1 no-op activity",
        "update_local_activity": "Update running 1 no-op local activity",
        "signal": "no-op Signal",
    }
    for key, label in names.items():
        if key in raw:
            x = raw[key]
            row(f"(a) raw: {label}", f"{x['per_s']:.0f}/s ({x['n']} in {PASSES} passes, p50 {x['p50_ms']:.0f} ms)")
        if key == "signal" and raw.get("signal_absorbed", {}).get("per_s"):
            x = raw["signal_absorbed"]
            row("(a) raw: no-op Signal, absorbed (until its workflow tasks have run)", f"{x['per_s']:.0f}/s")
    start_rate = raw.get("start", {}).get("per_s")
    update_rate = raw.get("update", {}).get("per_s")
    signal_rate = raw.get("signal", {}).get("per_s")

    def ratio_row(step: str, key: str, unit: str, limit_rate: float | None, limit_name: str) -> None:
        x = r.get(key)
        if not x:
            return
        ratio = x["per_s"] / limit_rate if limit_rate else None
        ok = ratio is not None and ratio >= 0.7 and x.get("not_accepted") == 0
        row(
            step,
            f"{x['per_s']:.1f} {unit}/s ({x['seconds']:.1f} s; not accepted: {x.get('not_accepted')})",
            f"{limit_rate:.0f}/s {limit_name}" if limit_rate else "",
            f"{ratio:.0%}" if ratio is not None else "",
            "≥ 70 % of the limit",
            ok,
        )

    ratio_row(f"(b) register {n} towns: towns import towns", "register", "towns", start_rate, "raw start")
    settle_s = (r.get("register") or {}).get("settle_after", {}).get("seconds")
    if settle_s is not None:
        row("(b) … then the worker takes the towns' first workflow tasks", f"{settle_s:.1f} s after the import")
    ratio_row(f"(b) one month, {n} reports: towns import reports", "reports", "reports", update_rate, "raw Update")
    rss = [m for m in (r.get("reports") or {}).get("worker_rss_mb") or [] if m]
    if rss:
        row("(b) … worker memory after it (every town's workflow cached)", f"{' + '.join(f'{m:,.0f}' for m in rss)} MB")
    local_rate = raw.get("update_local_activity", {}).get("per_s")
    if r.get("reports") and local_rate:  # beside it: an Update that runs a local activity, as a report's does
        row(
            "(b) … the same against an Update running 1 local activity",
            f"{r['reports']['per_s']:.1f} reports/s",
            f"{local_rate:.0f}/s raw Update + local activity",
            f"{r['reports']['per_s'] / local_rate:.0%}",
        )
    rd = r.get("round")
    if rd:
        ip = rd["in_process"]
        ratio = rd["evaluate_seconds"] / ip["seconds"]
        row(
            "(c) annual round: start → proposed",
            f"{rd['evaluate_seconds']:.1f} s ({rd['evaluate_per_s']:.0f} towns/s)",
            f"{ip['seconds']:.1f} s in process",
            f"{ratio:.1f}×",
            "≤ 2× in process",
            ratio <= 2,
        )
        ratio = rd["apply_per_s"] / signal_rate if signal_rate else None
        row(
            "(c) annual round: approve → applied",
            f"{rd['apply_per_s']:.1f} towns/s ({rd['apply_seconds']:.1f} s)",
            f"{signal_rate:.0f}/s raw Signal" if signal_rate else "",
            f"{ratio:.0%}" if ratio is not None else "",
            "≥ 70 % of the limit",
            ratio is not None and ratio >= 0.7,
        )
        took = rd.get("apply_absorbed") or {}
        absorbed_rate = raw.get("signal_absorbed", {}).get("per_s")
        if took.get("per_s") and absorbed_rate:
            row(
                "(c) … and until the towns have taken their decisions",
                f"{took['per_s']:.1f} towns/s ({took['seconds']:.1f} s)",
                f"{absorbed_rate:.0f}/s raw Signal absorbed",
                f"{took['per_s'] / absorbed_rate:.0%}",
            )
    lg = r.get("ledger")
    if lg:
        small = lg.get("bytes_per_proposal_n_small_estimated")
        ratio = lg["bytes_per_proposal"] / small if small else None
        share = lg.get("context_share")
        how = (
            f"context by reference: one {lg['context_entry_bytes'] / 1000:,.0f} kB entry per round"
            if lg.get("context_by_reference")
            else f"round context {share:.0%} of it"
        )
        row(
            f"(c) ledger bytes per proposal (N = {n})",
            f"{lg['bytes_per_proposal']:,.0f} B ({how})",
            f"{small:,.0f} B at N = {lg['n_small']} (estimated)" if small else "",
            f"{ratio:.2f}×" if ratio is not None else "",
            "independent of N (±5 %)",
            ratio is not None and abs(ratio - 1) <= 0.05,
        )
    rs = r.get("reads")
    if rs:
        h, s = rs["history"], rs["status"]
        row(
            "(d) towns history CODE --json, inside",
            f"median {h['median_ms']} ms, p95 {h['p95_ms']} ms",
            "",
            "",
            "p95 ≤ 50 ms",
            h["p95_ms"] is not None and h["p95_ms"] <= 50,
        )
        row("(d) towns status CODE, inside", f"median {s['median_ms']} ms, p95 {s['p95_ms']} ms")
    st = r.get("startup")
    if st:
        hs, ss = st["help"]["median_s"], st["status"]["median_s"]
        row(
            "(d) towns --help, wall",
            f"{hs} s (median of {STARTUP_SAMPLES})",
            "",
            "",
            "≤ 0.3 s",
            hs is not None and hs <= 0.3,
        )
        row(
            "(d) towns status CODE, wall",
            f"{ss} s (median of {STARTUP_SAMPLES})",
            "",
            "",
            "≤ 0.5 s",
            ss is not None and ss <= 0.5,
        )
    pj = r.get("projection")
    if pj:
        row(f"(e) {PROJECT_N:,} towns: one month of reports ({pj['how']})", f"{pj['month_seconds']:.0f} s")
        row(
            f"(e) {PROJECT_N:,} towns: annual round ({pj['how']})",
            f"{pj['round_seconds']:.0f} s (evaluate {pj['evaluate_seconds']:.0f} s + apply {pj['apply_seconds']:.0f} s)",
        )
    return rows


def notes(r: dict[str, Any]) -> list[str]:
    """What to keep in mind when reading this run's table."""
    out = []
    m, c, raw = r["machine"], r["config"], r.get("raw", {})
    steps = (r.get("cpu_seconds") or {}).values()
    wall = sum(d["wall"] for d in steps)
    others = sum(d.get("others", 0) + d.get("steal", 0) for d in steps)
    if wall and others / wall > 0.2:
        out.append(
            f"other processes (not the bench's) used {others / wall:.2f} of {m['cores']} cores during the run "
            "(column 'others'): figures move between runs; compare the ratios, or run again on a quiet machine"
        )
    if "start_at_importers" in raw and "update_at_importers" in raw:
        out.append(
            f"the importers send {IMPORTERS} rows at a time (towns.intake.service), the raw figures are at "
            f"{CONCURRENCY}: at {IMPORTERS} the server did {raw['start_at_importers']['per_s']:.0f} starts/s and "
            f"{raw['update_at_importers']['per_s']:.0f} no-op Updates/s in this run (JSON raw.*_at_importers)"
        )
    if c.get("database", {}).get("kind") == "sqlite" and c.get("workers", 1) > 1:
        out.append("several worker processes on one SQLite file share its one writer: scale-out is for PostgreSQL")
    if r.get("reports", {}).get("town_history"):
        h = r["reports"]["town_history"]
        out.append(
            f"one town's workflow after its report: {h.get('events')} history events, activities {h.get('activities')} "
            "(JSON reports.town_history; markers are patches and local activities)"
        )
    return out


def projection(r: dict[str, Any]) -> dict[str, Any] | None:
    if "reports" not in r or "round" not in r:
        return None
    n = r["config"]["towns"]
    ran = n >= PROJECT_N
    scale = 1.0 if ran else PROJECT_N / n
    ev = r["round"]["evaluate_seconds"] * scale
    ap = r["round"]["apply_seconds"] * scale
    return {
        "how": "run" if ran else "projected",
        "towns": PROJECT_N if not ran else n,
        "month_seconds": round(r["reports"]["seconds"] * scale, 1),
        "evaluate_seconds": round(ev, 1),
        "apply_seconds": round(ap, 1),
        "round_seconds": round(ev + ap, 1),
        "note": "measured at N" if ran else f"linear from N = {n}; linear is optimistic where a cost grows with N",
    }


def per_item(d: dict[str, float]) -> str:
    """CPU milliseconds per item of a step: the worker(s), the Temporal server, all the bench's processes."""
    items = d.get("items")
    if not items:
        return ""
    ours = sum(d.get(k, 0) for k in ("bench", "cli", "workers", "temporal", "postgres"))
    return f"{d['workers'] / items * 1000:.1f} / {d['temporal'] / items * 1000:.1f} / {ours / items * 1000:.1f}"


def show(r: dict[str, Any]) -> None:
    m, c = r["machine"], r["config"]
    console.print()
    console.print(
        f"[bold]towns bench[/] — {m['cores']} cores ({m['cpu']}), Python {m['python']}, {m['temporal_cli']}, "
        f"temporalio {m['temporalio']}",
        highlight=False,
    )
    db = c.get("database", {})
    console.print(
        f"N = {c['towns']:,} towns; database {db.get('kind')} ({db.get('url')}); {c['workers']} worker process(es)"
        + (
            " — several workers on one SQLite file share its single writer"
            if db.get("kind") == "sqlite" and c["workers"] > 1
            else ""
        )
        + f"; file-backed Temporal dev server; bench wall time {r.get('wall_s', 0):.0f} s",
        highlight=False,
    )
    t = Table(title="figure vs. its limit, measured in the same run", show_lines=False)
    for col, just in (
        ("step", "left"),
        ("figure", "right"),
        ("limit (same run)", "right"),
        ("ratio", "right"),
        ("target", "left"),
        ("met?", "center"),
    ):
        t.add_column(col, justify=just, overflow="fold")  # type: ignore[arg-type]
    for x in r.get("table", []):
        met = "" if x["met"] is None else ("[green]met[/]" if x["met"] else "[red]not met[/]")
        t.add_row(x["step"], x["figure"], x["limit"], x["ratio"], x["target"], met)
    console.print(t)
    steps = r.get("cpu_seconds") or {}
    if steps:
        ct = Table(title="CPU seconds per step (1.0 per wall second = one core saturated)")
        cols = ["step", "wall s", "bench process", "CLI / probes", "worker(s)", "temporal server"]
        keys = ["bench", "cli", "workers", "temporal"]
        if r["config"].get("database", {}).get("kind") == "postgresql":
            cols.append("postgresql")
            keys.append("postgres")
        for col in (*cols, "others", "CPU ms per item: worker / server / all ours"):
            ct.add_column(col, justify="right" if col != "step" else "left")
        for name, d in steps.items():
            w = d["wall"] or 1
            ct.add_row(
                name,
                f"{d['wall']:.1f}",
                *(f"{d.get(k, 0):.1f} ({d.get(k, 0) / w:.2f}/s)" for k in keys),
                f"{d.get('others', 0) + d.get('steal', 0):.1f} ({(d.get('others', 0) + d.get('steal', 0)) / w:.2f}/s)",
                per_item(d),
            )
        console.print(ct)
    for note in r.get("notes", []):
        console.print(f"note: {note}", highlight=False)
    if r.get("error"):
        console.print(f"[red]the bench failed:[/] {r['error']}", highlight=False)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--towns", type=int, default=None, help="N, the number of towns (default 1000; --quick: 200)")
    ap.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    ap.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL to make a fresh database beside, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test "
        "(dropped at the end); default: a SQLite file",
    )
    ap.add_argument("--json", type=Path, default=BENCH / "results.json", help="where to write the JSON results")
    ap.add_argument("--quick", action="store_true", help="N = 200 and fewer raw round trips: a fast check")
    ap.add_argument(
        "--project-run",
        action="store_true",
        help=f"run (e) with N = {PROJECT_N:,} instead of projecting it (takes a long time)",
    )
    ap.add_argument("--raw", type=int, default=None, help="round trips of each raw kind (default 600; --quick: 300)")
    ap.add_argument(
        "--raw-seconds",
        type=float,
        default=None,
        help="at most this long for each raw kind (default 15 s; --quick: 8 s)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the run's folder (logs, files, temporal.db)")
    ap.add_argument(
        "--profile",
        action="store_true",
        help="record the worker(s) with py-spy during the reports, evaluation and apply steps (kept in the run's folder)",
    )
    args = ap.parse_args()
    if args.project_run:
        args.towns = PROJECT_N
    args.towns = args.towns or (200 if args.quick else 1000)
    args.raw = args.raw or (300 if args.quick else 600)
    args.raw_seconds = args.raw_seconds or (8.0 if args.quick else 15.0)
    args.warmup = 48
    folder = Path(tempfile.mkdtemp(prefix="towns-bench-"))
    result: dict[str, Any] = {
        "machine": machine(),
        "config": {
            "towns": args.towns,
            "workers": args.workers,
            "raw_count": args.raw,
            "concurrency": CONCURRENCY,
            "importers_concurrency": IMPORTERS,
            "quick": args.quick,
            "folder": str(folder),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
    }
    t0 = time.perf_counter()
    code = 0
    try:
        asyncio.run(bench(args, folder, result))
    except BaseException as exc:  # the table shows what was measured up to here
        result["error"] = f"{type(exc).__name__}: {exc}"
        result["traceback"] = traceback.format_exc()
        code = 1
    result["wall_s"] = round(time.perf_counter() - t0, 1)
    result["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["projection"] = projection(result)
    result["table"] = targets(result)
    result["notes"] = notes(result)
    show(result)
    if code:
        console.print(result["traceback"], highlight=False, markup=False)
        console.print(f"logs: {folder}", highlight=False)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    console.print(f"JSON: {args.json}", highlight=False)
    if not args.keep and not args.profile and not code:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        console.print(f"the run's folder (logs, files): {folder}", highlight=False)
    return code


if __name__ == "__main__":
    rc = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)  # the Temporal core's threads can crash a normal interpreter exit (see towns.cli.main)

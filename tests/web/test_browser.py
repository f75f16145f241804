"""The web console in a real browser (Debian's Chromium driven by Playwright) against a real
`towns server --demo-if-empty`: a staff member's annual round with an override, a reporter's
upload with a good and a bad row, an auditor who sees nothing that writes, and screenshots of
the main pages (``screenshots/``, gitignored) to look at.

Skipped when Playwright or /usr/bin/chromium is missing (`.ci/run` installs Chromium).
"""

import json
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import playwright.sync_api as playwright_sync  # a test dependency: CI installs it, never skipped
import pytest

from tests.cli.conftest import TOWNS, free_port

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
DEMO_USER = re.compile(r"^\s*(demo-\w+)\s+\w+\s+.*password 密码: (\S+)\s*$")

# Debian's chromium (.ci/run installs it when missing): its absence is a failure, never a skip


class Console:
    """The running server: its web address and the demo users' passwords."""

    def __init__(self, url: str, passwords: dict[str, str]):
        self.url, self.passwords = url, passwords


@pytest.fixture(scope="module")
def console(tmp_path_factory) -> Iterator[Console]:
    """A real `towns server` with the demo loaded, on a web port of ours; Ctrl-C stops it."""
    home = tmp_path_factory.mktemp("browser") / "home"
    web, port, ui = free_port(), free_port(), free_port()
    env = {**os.environ, "TOWNS_HOME": str(home), "COLUMNS": "200"}
    env.pop("TEMPORAL_ADDRESS", None)
    env.pop("DATABASE_URL", None)
    args = ["server", "--demo-if-empty", "--web-port", str(web), "--temporal-port", str(port), "--ui-port", str(ui)]
    proc = subprocess.Popen(
        [*TOWNS, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "Ctrl-C stops" in line:
            break
    else:
        pytest.fail("towns server exited early:\n" + "".join(lines))
    passwords = {m[1]: m[2] for line in lines if (m := DEMO_USER.match(line))}
    assert set(passwords) == {"demo-staff", "demo-reporter", "demo-auditor"}, "".join(lines)
    assert json.loads((home / "server.json").read_text())["temporal_address"] == f"127.0.0.1:{port}"
    try:
        yield Console(f"http://127.0.0.1:{web}", passwords)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert not (home / "server.json").exists()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def new_page(browser, console):
    """Pages of their own browser context (own cookies), logged in as a demo user."""
    contexts = []

    def make(user: str):
        ctx = browser.new_context(base_url=console.url, viewport={"width": 1280, "height": 900}, locale="zh-CN")
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto("/login")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", console.passwords[user])
        page.click("form.login button[type=submit]")
        page.wait_for_url(re.compile(r"/towns$"))
        assert user in page.inner_text("header .who")
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def wait_for_proposals(page, rid: str) -> None:
    """Reload the round's page until its proposals are there (bounded: about 20 s)."""
    for _ in range(80):
        if page.locator("select[name^='grade:']").count() > 0:
            return
        page.wait_for_timeout(250)
        page.goto(f"/rounds/{rid}")
    pytest.fail(f"round {rid} never showed its proposals:\n{page.inner_text('main')}")


def test_staff_starts_a_round_overrides_a_town_and_approves(new_page):
    page = new_page("demo-staff")
    page.goto("/rounds")
    page.select_option("select[name=kind]", "annual")
    page.fill("input[name=year]", "2018")
    page.click("form[action='/rounds'] button[type=submit]")
    page.wait_for_url(re.compile(r"/rounds/[^/]+$"))
    rid = page.url.rsplit("/", 1)[1]
    wait_for_proposals(page, rid)

    town = "SX-SZ-YJ"
    select = page.locator(f"select[name='grade:{town}']")
    offered = [v for v in select.locator("option").evaluate_all("os => os.map(o => o.value)") if v]
    proposed = re.search(r"\((\w+)\)", page.locator("tr", has=select).locator("td").nth(1).inner_text())
    assert proposed, page.inner_text("main")
    grade = next(g for g in ("good", "pass", "warning") if g in offered and g != proposed[1])
    reason = "越剧演出季带动游客，综合考虑后改定"
    grade_zh = select.locator(f"option[value='{grade}']").inner_text().split()[0]  # "良好 good"
    select.select_option(grade)
    page.fill(f"input[name='reason:{town}']", reason)
    page.fill("input[name=note]", "浏览器测试审定")
    page.click(f"form[action='/rounds/{rid}/approve'] button[type=submit]")
    page.wait_for_url(re.compile(rf"/rounds/{re.escape(rid)}$"))
    for _ in range(80):  # the approval is a signal to the round's workflow: it settles shortly after
        if "demo-staff" in page.inner_text("main > p") and page.locator("select[name^='grade:']").count() == 0:
            break
        page.wait_for_timeout(250)
        page.goto(f"/rounds/{rid}")
    row = page.locator("tr", has=page.locator(f"a[href='/towns/{town}']")).inner_text()
    assert f"({grade})" in row and reason in row, row

    page.goto(f"/towns/{town}")
    decision = page.locator("tr.decision", has=page.locator(f"a[href='/rounds/{rid}']"))
    assert decision.count() == 1, page.inner_text("main")
    text = decision.inner_text()
    # the grade by its Chinese name and its code, the reason, and who approved
    assert f"{grade_zh} ({grade})" in text and reason in text and "审定人 demo-staff" in text, text


def test_reporter_uploads_a_good_and_a_bad_row(new_page, tmp_path):
    page = new_page("demo-reporter")
    page.goto("/reports/new")
    assert page.locator("select[name=code] option[value='SX-KQ-KW']").count() == 1
    upload = tmp_path / "reports.csv"
    upload.write_text(
        "code,period,fai,industry_fai,nongov_fai\nSX-KQ-KW,2019-01,1,0.8,0.9\nSX-KQ-KW,2019-02,-1,0.8,0.9\n",
        encoding="utf-8",
    )
    page.set_input_files("form[action='/reports/upload'] input[name=file]", str(upload))
    page.click("form[action='/reports/upload'] button[type=submit]")
    page.wait_for_url(re.compile(r"/reports/upload$"))
    accepted, rejected = page.locator("tbody tr.accepted"), page.locator("tbody tr.rejected")
    assert accepted.count() == 1 and rejected.count() == 1, page.inner_text("main")
    assert "2019-01" in accepted.inner_text() and "已接收" in accepted.inner_text()
    bad = rejected.inner_text()
    assert "2019-02" in bad and "已退回" in bad, bad
    assert "不能为负数" in bad and "cannot be negative" in bad, bad


def test_an_auditor_sees_nothing_that_writes(new_page, console):
    page = new_page("demo-auditor")
    page.goto("/rounds")
    first_round = page.locator("tbody a[href^='/rounds/']").first
    paths = ["/towns", "/towns/SX-KQ-KW", "/rounds", "/audit"]
    if first_round.count():  # the staff test's round, when it ran first
        paths.append(first_round.get_attribute("href"))
    for path in paths:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        actions = page.locator("form").evaluate_all(
            "fs => fs.map(f => [(f.getAttribute('method') || 'get').toLowerCase(), f.getAttribute('action')])"
        )
        assert [a for a in actions if a[0] == "post"] == [["post", "/logout"]], (path, actions)
        # every control belongs to a form that only reads (the towns' filter, a GET) or to the logout form
        owners = page.locator("button, input:not([type=hidden]), select, textarea").evaluate_all(
            "cs => cs.map(c => c.form ? [(c.form.getAttribute('method') || 'get').toLowerCase(),"
            " c.form.getAttribute('action')] : null)"
        )
        assert all(o is not None and (o[0] == "get" or o[1] == "/logout") for o in owners), (path, owners)
        assert owners.count(["post", "/logout"]) == 1, (path, owners)


PAGES = {
    "towns": "/towns",
    "town": "/towns/SX-SZ-YJ",
    "rounds": "/rounds",
    "audit": "/audit",
    "bulletin": "/bulletins/2018Q2",
}


def test_screenshots_of_the_main_pages(browser, console, new_page):
    ctx = browser.new_context(base_url=console.url, viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        login = ctx.new_page()
        login.goto("/login")
        shot(login, "login")
    finally:
        ctx.close()
    page = new_page("demo-staff")
    for name, path in PAGES.items():
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        shot(page, name)
    page.goto("/rounds")
    link = page.locator("tbody a[href^='/rounds/']").first
    if link.count() == 0:  # run alone: start a round of our own
        page.select_option("select[name=kind]", "annual")
        page.fill("input[name=year]", "2018")
        page.click("form[action='/rounds'] button[type=submit]")
        page.wait_for_url(re.compile(r"/rounds/[^/]+$"))
        rid = page.url.rsplit("/", 1)[1]
    else:
        rid = str(link.get_attribute("href")).rsplit("/", 1)[1]
    wait_for_proposals_or_decided(page, rid)
    shot(page, "round")
    reporter = new_page("demo-reporter")
    reporter.goto("/reports/new")
    rows = b"code,period,fai,industry_fai,nongov_fai\nSX-KQ-KW,2019-03,2,1.6,1.8\nSX-KQ-KW,2019-04,-1,0.8,0.9\n"
    reporter.set_input_files(
        "form[action='/reports/upload'] input[name=file]",
        files=[{"name": "reports.csv", "mimeType": "text/csv", "buffer": rows}],
    )
    reporter.click("form[action='/reports/upload'] button[type=submit]")
    reporter.wait_for_url(re.compile(r"/reports/upload$"))
    shot(reporter, "upload_result")
    for name in [*PAGES, "login", "round", "upload_result"]:
        png = SCREENSHOTS / f"{name}.png"
        assert png.exists() and png.stat().st_size > 5_000, png
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png


def wait_for_proposals_or_decided(page, rid: str) -> None:
    for _ in range(80):
        page.goto(f"/rounds/{rid}")
        if page.locator("tbody a[href^='/towns/']").count() > 0:
            return
        page.wait_for_timeout(250)
    pytest.fail(f"round {rid} never showed its towns:\n{page.inner_text('main')}")

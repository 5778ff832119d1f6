"""The dashboard in a real browser (Debian's chromium, driven by Playwright): signing in,
the portfolio, a project, a gate approved from "my work" while the project page, open in
another tab, shows the new phase without a reload; the buttons a person may not use are not
there. Screenshots of the main pages go to test-artifacts/screenshots/."""

from __future__ import annotations

import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from web_support import SCREENSHOTS, Served

from ledger import Ledger
from tests.api.api_support import new_project
from tests.integration.conftest import Cli

pytestmark = pytest.mark.devserver

UNDER_WAY = Path(__file__).parents[2] / "examples" / "prince2-under-way.yaml"
LIVE_TIMEOUT_MS = 15_000
"""The pages poll every 2 s; a vote is recorded within a second or two."""


def sign_in(browser: Browser, web: Served, token: str, *, phone: bool = False) -> BrowserContext:
    viewport = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    context = browser.new_context(base_url=web.base, viewport=viewport)  # type: ignore[arg-type]
    page = context.new_page()
    page.goto("/work")  # not signed in: the login, and back here after it
    expect(page).to_have_url(f"{web.base}/login?next=%2Fwork")
    page.get_by_label("Your personal API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{web.base}/work")
    page.close()
    return context


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def pid(web_cli: Cli, tmp_path: Path) -> str:
    """A project at its first gate, requested by david, bo's approval in: anna decides."""

    def made() -> str:
        project = new_project(web_cli, tmp_path)
        web_cli("gate", "request", project, "--as", "david")
        web_cli("gate", "decide", project, "--as", "bo", "--decision", "approve", "--comment", "ok")
        return project

    # The CLI runs its own event loop: not on the thread where Playwright's runs.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(made).result()


def test_sign_in_see_the_portfolio_and_open_a_project(
    browser: Browser, web: Served, web_tokens: dict[str, str], pid: str
) -> None:
    context = browser.new_context(base_url=web.base, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/")
    shot(page, "login")
    page.get_by_label("Your personal API token").fill(web_tokens["anna"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Portfolio")).to_be_visible()
    card = page.locator("article.pcard", has=page.get_by_role("link", name=pid))
    expect(card).to_contain_text("gate: Beslutspunkt 1: starta förstudie")  # the model's title
    expect(card).not_to_contain_text("idea_gate")
    expect(card).to_contain_text("anna")  # who the gate awaits
    shot(page, "portfolio")
    page.get_by_role("link", name=pid).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(pid)
    expect(page.locator(".step.current")).to_contain_text("Idé")
    expect(page.locator("svg.chart").first).to_be_visible()  # the lifecycle
    expect(page.locator(".timeline")).to_contain_text("bo")
    shot(page, "project")
    context.close()


def test_approve_from_my_work_and_the_project_page_changes_without_a_reload(
    browser: Browser, web: Served, web_tokens: dict[str, str], pid: str
) -> None:
    context = sign_in(browser, web, web_tokens["anna"])
    project = context.new_page()
    project.goto(f"/projects/{pid}")
    expect(project.locator("#phase")).to_have_text("Idé")
    project.evaluate("window.notReloaded = true")
    work = context.new_page()
    work.goto("/work")
    work.evaluate("window.notReloaded = true")
    task = work.locator("li.task", has_text="Decide gate").filter(has_text=pid)
    expect(task.get_by_role("button", name="Approve")).to_be_visible()
    shot(work, "my-work")
    task.get_by_label("Comment").fill("Ser bra ut")
    task.get_by_role("button", name="Approve").click()
    expect(work.locator("#result")).to_contain_text(
        f"{pid}: gate passed: pre_study started", timeout=LIVE_TIMEOUT_MS
    )
    assert work.evaluate("window.notReloaded") is True  # answered in place
    expect(project.locator("#phase")).to_have_text("Förstudie", timeout=LIVE_TIMEOUT_MS)
    expect(project.locator(".step.current")).to_contain_text("Förstudie")
    assert project.evaluate("window.notReloaded") is True  # updated by polling, not reloaded
    shot(project, "project-after-approval")
    context.close()


def test_the_project_manager_requests_the_gate_from_the_project_page(
    browser: Browser, web: Served, web_tokens: dict[str, str], web_cli: Cli, tmp_path: Path
) -> None:
    # The project page's buttons are named "action": the script must still post to the form's
    # own URL (it once posted to "/projects/[object HTMLButtonElement]", a 405).
    with ThreadPoolExecutor(1) as pool:
        project = pool.submit(new_project, web_cli, tmp_path).result()
    context = sign_in(browser, web, web_tokens["david"])
    page = context.new_page()
    page.goto(f"/projects/{project}")
    page.evaluate("window.notReloaded = true")
    page.get_by_role("button", name="Request the gate").click()
    expect(page.locator("#state")).to_have_text("idea_gate", timeout=LIVE_TIMEOUT_MS)
    expect(page.locator(".awaited")).to_contain_text("anna")
    assert page.evaluate("window.notReloaded") is True  # answered in place
    context.close()


def test_a_refusal_stays_on_the_page_while_it_polls(
    browser: Browser, web: Served, web_tokens: dict[str, str], pid: str
) -> None:
    context = sign_in(browser, web, web_tokens["anna"])
    work = context.new_page()
    work.goto("/work")
    task = work.locator("li.task", has_text="Decide gate").filter(has_text=pid)
    task.get_by_role("button", name="Reject").click()  # no comment: refused
    expect(work.locator("#result")).to_contain_text("needs a comment")
    work.wait_for_timeout(4_500)  # two polls: they once blanked the message
    expect(work.locator("#result")).to_contain_text("needs a comment")
    context.close()


def test_a_button_the_person_may_not_use_is_not_shown(
    browser: Browser, web: Served, web_tokens: dict[str, str], pid: str
) -> None:
    # david requested the gate: four eyes, he takes no part in deciding it.
    david = sign_in(browser, web, web_tokens["david"], phone=True)
    page = david.new_page()
    page.goto(f"/projects/{pid}")
    expect(page.locator(".awaited")).to_have_text("anna")
    for name in ("Approve", "Reject", "Rework"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    shot(page, "project-phone")
    page.goto("/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "portfolio-phone")
    # bo has voted: his decide task is done, and no vote is offered to him again.
    bo = sign_in(browser, web, web_tokens["bo"])
    page = bo.new_page()
    page.goto(f"/projects/{pid}")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    # anna, still awaited, gets the three; her review task only "Mark done".
    anna = sign_in(browser, web, web_tokens["anna"])
    page = anna.new_page()
    page.goto(f"/projects/{pid}")
    for name in ("Approve", "Reject", "Rework"):
        expect(page.get_by_role("button", name=name)).to_have_count(1)
    page.goto("/work")
    review = page.locator("li.task", has_text="Bedöm idébeskrivningen").filter(has_text=pid)
    expect(review.get_by_role("button", name="Mark done")).to_be_visible()
    expect(review.get_by_role("button", name="Approve")).to_have_count(0)
    for context in (david, bo, anna):
        context.close()


def test_a_project_under_control_draws_its_earned_value(
    browser: Browser, web: Served, web_cli: Cli, web_ledger: Ledger, tmp_path: Path
) -> None:
    pid = f"web-{uuid.uuid4().hex[:8]}"

    def made() -> str:
        charter = tmp_path / "charter.yaml"
        text = UNDER_WAY.read_text(encoding="utf-8").replace("id: payroll-cutover", f"id: {pid}")
        charter.write_text(text, encoding="utf-8")
        web_cli("project", "start", charter, "--as", "dev")
        today = datetime.now(UTC).date().isoformat()
        web_cli(
            "progress", pid, "--as", "dev", "--as-of", today, "--actual-cost", "312000",
            "--earned-scope", "58",
        )  # fmt: skip
        return web_ledger.create_token("ada", "web tests")[1]

    with ThreadPoolExecutor(1) as pool:
        token = pool.submit(made).result()
    context = sign_in(browser, web, token)
    page = context.new_page()
    page.goto(f"/projects/{pid}")
    chart = page.get_by_role("img", name="Earned value")
    expect(chart).to_be_visible()
    expect(page.get_by_role("heading", name="Open exception: Exception EX-1")).to_be_visible()
    shot(page, "project-under-control")
    context.close()


def test_the_api_docs_render_their_operations_with_nothing_from_another_host(
    browser: Browser, web: Served
) -> None:
    context = browser.new_context(base_url=web.base, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto("/api/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/api/projects").first).to_be_visible()
    shot(page, "api-docs")
    assert asked and all(url.startswith(web.base) for url in asked), asked
    context.close()


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_every_column_of_the_portfolio_is_on_the_page_at_laptop_and_phone_width(
    browser: Browser, web: Served, web_tokens: dict[str, str], pid: str, width: int, height: int
) -> None:
    context = sign_in(browser, web, web_tokens["anna"], phone=width < 640)
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/")
    columns = page.locator("section.column")
    expect(columns.last).to_have_attribute("aria-label", re.compile(r"^Ended: "))
    # No column runs off the right of the page: the board wraps, nothing hides in a scroller.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for i in range(columns.count()):
        box = columns.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, i
    columns.last.scroll_into_view_if_needed()
    expect(columns.last).to_be_in_viewport()
    shot(page, f"portfolio-{width}")
    context.close()

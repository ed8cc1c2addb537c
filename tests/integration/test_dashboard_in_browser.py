"""The dashboard in a real headless browser (Debian's chromium driven by Playwright) against
the local stack: it loads, shows queues, follows a job from PENDING to SUCCESS, and cancels a
long job. The run leaves a screenshot for the README in docs/dashboard.png.

`make test` installs chromium when it is missing (the Makefile's `browser` target).
"""

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from tests.integration.client import submit, upload
from tests.integration.conftest import LocalStack
from tests.integration.workers import stop_every_worker
from tests.samples import slow_pdf

pytestmark = pytest.mark.integration

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"
# Generous waits for a loaded machine; the page polls every 2 s.
WAIT_MS = 90_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("no chromium on PATH: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    # Cancel and redrive ask for confirmation; a user clicks OK.
    opened.on("dialog", lambda dialog: dialog.accept())
    yield opened
    context.close()


def job_state(page: Page, job_id: str) -> Locator:
    return page.locator(f'#jobs tr[data-job-id="{job_id}"] .state-cell')


@pytest.mark.timeout(600)
def test_dashboard_follows_a_job_and_cancels_a_long_one(
    local_stack: LocalStack, page: Page
) -> None:
    stop_every_worker(local_stack)
    page.goto(f"{local_stack.api_url}/dashboard")
    for queue in ("high", "default"):
        row = page.locator(f'#queues tr[data-queue="{queue}"]')
        expect(row).to_be_visible(timeout=WAIT_MS)
        expect(row.locator(".dead-letter")).to_have_text("0")

    # No worker yet: the job waits in the queue, and the page shows it there.
    email = {"email": "user@example.com", "subject": "From the dashboard", "body": "x"}
    job_id = submit(local_stack.api_url, "/send-email", email)
    expect(job_state(page, job_id)).to_have_text("PENDING", timeout=WAIT_MS)
    expect(page.locator('#queues tr[data-queue="default"] .waiting')).to_have_text(
        re.compile(r"^[1-9]\d*$"), timeout=WAIT_MS
    )

    local_stack.start_worker()
    expect(job_state(page, job_id)).to_have_text("SUCCESS", timeout=WAIT_MS)

    # The detail view: inputs and result of the finished job.
    page.locator(f'#jobs tr[data-job-id="{job_id}"] a.job-link').click()
    expect(page.locator("#detail-id")).to_have_text(job_id, timeout=WAIT_MS)
    expect(page.locator("#detail-inputs")).to_contain_text("From the dashboard")
    expect(page.locator("#detail-outcome")).to_contain_text("success")
    # Its log lines, from the local CloudWatch Logs; the polls between searches skip the search.
    accepted = page.locator("#detail-logs li").filter(has_text="job accepted")
    expect(accepted).to_have_count(1, timeout=WAIT_MS)
    with page.expect_request(
        lambda request: f"jobs/{job_id}?logs=false" in request.url, timeout=WAIT_MS
    ):
        pass
    expect(accepted).to_have_count(1)

    # A long job (thousands of PDF pages) runs with a progress bar until cancelled here.
    key = upload(local_stack.api_url, "long.pdf", slow_pdf(), "application/pdf")
    long_job = submit(local_stack.api_url, "/process-document", {"file_path": key})
    long_row = page.locator(f'#jobs tr[data-job-id="{long_job}"]')
    expect(job_state(page, long_job)).to_have_text("PROGRESS", timeout=WAIT_MS)
    expect(long_row.locator("progress")).to_be_visible(timeout=WAIT_MS)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    long_row.locator("button.cancel").click()
    expect(job_state(page, long_job)).to_have_text("REVOKED", timeout=WAIT_MS)
    expect(long_row.locator("button.cancel")).to_have_count(0)
    view = httpx.get(f"{local_stack.api_url}/task/{long_job}", timeout=10).json()
    assert view["state"] == "REVOKED"
    assert SCREENSHOT.stat().st_size > 10_000


def test_filters_narrow_the_list(local_stack: LocalStack, page: Page) -> None:
    if not local_stack.workers:
        local_stack.start_worker()
    email = {"email": "user@example.com", "subject": "Filtered", "body": "x"}
    job_id = submit(local_stack.api_url, "/send-email", email)
    page.goto(f"{local_stack.api_url}/dashboard")
    expect(job_state(page, job_id)).to_have_text("SUCCESS", timeout=WAIT_MS)

    page.select_option("#state-filter", "FAILURE")
    expect(page.locator(f'#jobs tr[data-job-id="{job_id}"]')).to_have_count(0, timeout=WAIT_MS)
    page.select_option("#state-filter", "")
    page.select_option("#task-filter", "skylane.send_email")
    expect(job_state(page, job_id)).to_have_text("SUCCESS", timeout=WAIT_MS)
    # The row was on the page before the filter; the filtered refresh comes a poll later.
    kinds = page.locator("#jobs tbody tr td:nth-child(2)")
    expect(kinds.filter(has_not_text="send_email")).to_have_count(0, timeout=WAIT_MS)
    assert set(kinds.all_inner_texts()) == {"send_email"}

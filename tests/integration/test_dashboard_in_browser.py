"""The dashboard in a real headless browser (Debian's chromium driven by Playwright) against
the local stack: it loads, shows queues, follows a job from PENDING to SUCCESS, and cancels a
long job. It takes a screenshot; SKYLANE_DASHBOARD_SCREENSHOT=docs/dashboard.png keeps it for
the README (a plain run leaves the tree as it was).

Then as a stack with ApiAuth=IAM or JWT would serve it, with a stand-in for API Gateway's auth
in front of the local API (tests/integration/api_gateway_stand_in.py): through
`skylane dashboard` signing every request, and the page asking for a bearer token.

`make test` installs chromium when it is missing (the Makefile's `browser` target).
"""

import json
import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from botocore.credentials import Credentials
from playwright.sync_api import Browser, Locator, Page, Request, expect, sync_playwright

from infra.processes import ChildProcess
from tests.integration.api_gateway_stand_in import GatewayStandIn
from tests.integration.client import submit, upload
from tests.integration.conftest import LocalStack
from tests.integration.workers import stop_every_worker
from tests.samples import slow_pdf

pytestmark = pytest.mark.integration

SCREENSHOT_VARIABLE = "SKYLANE_DASHBOARD_SCREENSHOT"
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
    local_stack: LocalStack, page: Page, tmp_path: Path
) -> None:
    screenshot = Path(os.environ.get(SCREENSHOT_VARIABLE) or tmp_path / "dashboard.png")
    stop_every_worker(local_stack)
    page.goto(f"{local_stack.api_url}/dashboard")
    # The dead letters each queue has now, not none: earlier tests on this stack stop workers
    # with a receive still open, each message such a stop releases counts one receive, and
    # three send it there (MaxReceiveCount 3; a fresh-clone CI run had one).
    sqs = local_stack.client("sqs")
    for queue, dlq_url in (
        ("high", local_stack.high_dlq_url),
        ("default", local_stack.default_dlq_url),
    ):
        row = page.locator(f'#queues tr[data-queue="{queue}"]')
        expect(row).to_be_visible(timeout=WAIT_MS)
        dead = sqs.get_queue_attributes(
            QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        expect(row.locator(".dead-letter")).to_have_text(dead)

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
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot), full_page=True)

    long_row.locator("button.cancel").click()
    expect(job_state(page, long_job)).to_have_text("REVOKED", timeout=WAIT_MS)
    expect(long_row.locator("button.cancel")).to_have_count(0)
    view = httpx.get(f"{local_stack.api_url}/task/{long_job}", timeout=10).json()
    assert view["state"] == "REVOKED"
    assert screenshot.stat().st_size > 10_000


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


def test_dashboard_shows_a_batch_and_links_its_parts(local_stack: LocalStack, page: Page) -> None:
    if not local_stack.workers:
        local_stack.start_worker()
    keys = [upload(local_stack.api_url, f"part-{n}.txt", b"a\nb\n", "text/plain") for n in range(3)]
    answer = httpx.post(
        f"{local_stack.api_url}/process-batch", json={"file_paths": keys}, timeout=30
    )
    assert answer.status_code == 202, answer.text
    batch_id, parts = answer.json()["task_id"], answer.json()["parts"]
    page.goto(f"{local_stack.api_url}/dashboard")
    expect(job_state(page, batch_id)).to_have_text("SUCCESS", timeout=WAIT_MS)
    # Each part's row links to its batch.
    for part_id in parts:
        expect(job_state(page, part_id)).to_have_text("SUCCESS", timeout=WAIT_MS)
        parent = page.locator(f'#jobs tr[data-job-id="{part_id}"] a.parent-link')
        expect(parent).to_have_attribute("title", batch_id)

    # The batch's detail lists its parts; a part's detail links back to the batch.
    page.locator(f'#jobs tr[data-job-id="{batch_id}"] a.job-link').click()
    expect(page.locator("#detail-id")).to_have_text(batch_id, timeout=WAIT_MS)
    expect(page.locator("#detail-parts-done")).to_have_text("3 of 3 done", timeout=WAIT_MS)
    links = page.locator("#detail-parts a.part-link")
    expect(links).to_have_count(3)
    assert [links.nth(n).get_attribute("title") for n in range(3)] == parts
    expect(page.locator("#detail-outcome")).to_contain_text('"files": 3')
    links.nth(0).click()
    expect(page.locator("#detail-id")).to_have_text(parts[0], timeout=WAIT_MS)
    expect(page.locator("#detail-parts-section")).to_be_hidden()
    page.locator("#detail-fields a.parent-link").click()
    expect(page.locator("#detail-id")).to_have_text(batch_id, timeout=WAIT_MS)


def test_the_schedules_panel_pauses_resumes_and_runs_a_schedule(
    local_stack: LocalStack, page: Page
) -> None:
    if not local_stack.workers:
        local_stack.start_worker()
    name = "dashboard-nightly"
    created = httpx.post(
        f"{local_stack.api_url}/schedules",
        json={"name": name, "task": "skylane.sync_data", "expression": "cron(0 3 * * ? *)"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    page.goto(f"{local_stack.api_url}/dashboard")
    row = page.locator(f'#schedules tr[data-schedule="{name}"]')
    expect(row.locator(".schedule-state")).to_have_text("active", timeout=WAIT_MS)
    expect(row.locator(".next-run")).not_to_have_text("none")
    # The template's schedules are listed too, and offer no pause.
    template = page.locator("#schedules tr").filter(has_text="(template)")
    expect(template).to_have_count(3, timeout=WAIT_MS)
    expect(template.locator("button.schedule-pause")).to_have_count(0)

    row.locator("button.schedule-pause").click()
    expect(row.locator(".schedule-state")).to_have_text("paused", timeout=WAIT_MS)
    assert httpx.get(f"{local_stack.api_url}/schedules/{name}").json()["state"] == "DISABLED"
    expect(row.locator(".next-run")).to_have_text("none")
    row.locator("button.schedule-resume").click()
    expect(row.locator(".schedule-state")).to_have_text("active", timeout=WAIT_MS)

    row.locator("button.schedule-fire").click()
    expect(page.locator("#problem")).to_contain_text(f"{name}: job", timeout=WAIT_MS)
    expect(row.locator(".run-count")).to_have_text("1", timeout=WAIT_MS)
    runs = httpx.get(f"{local_stack.api_url}/schedules/{name}").json()["runs"]
    assert len(runs) == 1
    assert httpx.delete(f"{local_stack.api_url}/schedules/{name}").status_code == 204


def test_the_schedules_panel_shows_a_held_run_and_the_templates_run_counts(
    local_stack: LocalStack, page: Page
) -> None:
    name = "dashboard-buffered"
    created = httpx.post(
        f"{local_stack.api_url}/schedules",
        json={
            "name": name,
            "task": "skylane.sync_data",
            "expression": "cron(0 0 1 1 ? 2199)",
            "overlap": "buffer_one",
        },
        timeout=30,
    )
    assert created.status_code == 201, created.text
    fire = f"{local_stack.api_url}/schedules/{name}/fire"
    # No worker: the first run is still queued when the second comes, which is held.
    stop_every_worker(local_stack)
    try:
        first = httpx.post(fire, timeout=30).json()
        held = httpx.post(fire, timeout=30).json()
        assert held["held_for"] == first["job_id"], held
        page.goto(f"{local_stack.api_url}/dashboard")
        row = page.locator(f'#schedules tr[data-schedule="{name}"]')
        expect(row).to_contain_text("buffer_one", timeout=WAIT_MS)
        expect(row.locator(".held-run")).to_contain_text(f"behind {first['job_id']}")
        # The every-minute cleanup (the template's) has run since the stack started.
        cleanup = page.locator("#schedules tr").filter(has_text="cleanup_temp_files")
        expect(cleanup.locator(".run-count")).not_to_have_text("0", timeout=WAIT_MS)
    finally:
        local_stack.start_worker()
    # Once the first run ends, the worker starts the held one, and the panel says so.
    expect(row.locator(".run-count")).to_have_text("2", timeout=WAIT_MS)
    expect(row.locator(".held-run")).to_have_count(0)
    assert httpx.delete(f"{local_stack.api_url}/schedules/{name}").status_code == 204


# The signer's AWS credentials (`skylane dashboard` finds them in its environment, as boto3's
# chain would) and what the stand-in verifies its signatures with.
SIGNER = Credentials("AKIDSKYLANETEST", "c2t5bGFuZS1zZWNyZXQta2V5LWZvci10ZXN0cw", "session-1")
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0LXVzZXIifQ.c2lnbmF0dXJlLXN0YW5kLWlu"


@pytest.fixture
def stand_in() -> Iterator[list[GatewayStandIn]]:
    started: list[GatewayStandIn] = []
    yield started
    for gateway in started:
        gateway.close()


def signer_env() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    return env | {
        "AWS_ACCESS_KEY_ID": SIGNER.access_key,
        "AWS_SECRET_ACCESS_KEY": SIGNER.secret_key,
        "AWS_SESSION_TOKEN": SIGNER.token or "",
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.mark.timeout(300)
def test_skylane_dashboard_signs_every_request_of_the_page(
    local_stack: LocalStack, page: Page, stand_in: list[GatewayStandIn], tmp_path: Path
) -> None:
    """ApiAuth=IAM: the page through `skylane dashboard`, in front of an API that lets only
    requests with a valid SigV4 signature through."""
    if not local_stack.workers:
        local_stack.start_worker()
    state = json.loads(local_stack.state_path.read_text())
    gateway = GatewayStandIn(local_stack.api_url, "IAM", credentials=SIGNER, region=state["region"])
    stand_in.append(gateway)
    # The local stack, its API behind the stand-in: `skylane dashboard --api-auth IAM` signs.
    (tmp_path / "stack.json").write_text(json.dumps(state | {"api_url": gateway.url}))
    argv = [sys.executable, "-m", "skylane_cli.main", "dashboard", "--api-auth", "IAM"]
    proxy = ChildProcess(
        "skylane-dashboard",
        [*argv, "--state", str(tmp_path / "stack.json")],
        signer_env(),
        local_stack.logs,
    )
    try:
        url = proxy.wait_for_output(r"^http://127\.0\.0\.1:\d+/dashboard$", timeout=60)
        job_id = submit(
            local_stack.api_url,
            "/send-email",
            {"email": "user@example.com", "subject": "Signed", "body": "x"},
        )
        page.goto(url)
        expect(page.locator('#queues tr[data-queue="default"]')).to_be_visible(timeout=WAIT_MS)
        expect(job_state(page, job_id)).to_have_text("SUCCESS", timeout=WAIT_MS)
        page.locator(f'#jobs tr[data-job-id="{job_id}"] a.job-link').click()
        expect(page.locator("#detail-inputs")).to_contain_text("Signed", timeout=WAIT_MS)
        expect(page.locator("#problem")).to_be_hidden()
    finally:
        proxy.stop(grace=5)

    seen = gateway.requests()
    paths = {request.target.partition("?")[0] for request in seen}
    assert {
        "/dashboard",
        "/dashboard/assets/dashboard.js",
        "/queues",
        "/jobs",
        f"/jobs/{job_id}",
    } <= paths
    refused = [(request.target, request.verdict) for request in seen if request.verdict != "passed"]
    assert refused == []
    for request in seen:
        assert request.headers["authorization"].startswith(
            f"AWS4-HMAC-SHA256 Credential={SIGNER.access_key}/"
        )
        assert request.headers["host"] == gateway.url.removeprefix("http://")
        assert "cookie" not in request.headers


@pytest.mark.timeout(300)
def test_the_page_asks_for_a_bearer_token_and_keeps_it_in_memory(
    local_stack: LocalStack, page: Page, stand_in: list[GatewayStandIn]
) -> None:
    """ApiAuth=JWT: the API's /dashboard straight in the browser, every other path answering
    401 without the token."""
    if not local_stack.workers:
        local_stack.start_worker()
    gateway = GatewayStandIn(local_stack.api_url, "JWT", token=TOKEN)
    stand_in.append(gateway)
    job_id = submit(
        local_stack.api_url,
        "/send-email",
        {"email": "user@example.com", "subject": "Bearer", "body": "x"},
    )
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))

    page.goto(f"{gateway.url}/dashboard")
    form = page.locator("#token-form")
    expect(form).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#token-reason")).to_contain_text("bearer token")
    asked = gateway.requests()
    assert {request.verdict for request in asked if request.target.startswith("/queues")} == {
        "no valid token"
    }
    assert all("authorization" not in request.headers for request in asked)

    # A token the API refuses: asked again, saying so.
    page.fill("#token", "not-the-token")
    page.locator("#token-form button").click()
    expect(page.locator("#token-reason")).to_contain_text("refused", timeout=WAIT_MS)
    expect(form).to_be_visible()

    page.fill("#token", f"Bearer {TOKEN}")
    with page.expect_request(_polls_queues, timeout=WAIT_MS):
        page.press("#token", "Enter")
    expect(form).to_be_hidden(timeout=WAIT_MS)
    expect(job_state(page, job_id)).to_have_text("SUCCESS", timeout=WAIT_MS)
    # A later poll carries it too.
    with page.expect_request(_polls_queues, timeout=WAIT_MS) as later:
        pass
    assert later.value.headers["authorization"] == f"Bearer {TOKEN}"
    expect(page.locator("#token")).to_have_value("")

    after = gateway.requests("passed")
    assert {request.target.partition("?")[0] for request in after} >= {"/queues", "/jobs"}
    assert all(request.headers["authorization"] == f"Bearer {TOKEN}" for request in after)
    # Never in a URL, in storage or in a cookie.
    assert all(TOKEN not in url for url in [page.url, *urls])
    assert all(TOKEN not in request.target for request in gateway.requests())
    kept = page.evaluate(
        "() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage), document.cookie])"
    )
    assert TOKEN not in kept
    assert kept == '[[],[],""]'
    assert page.context.cookies() == []

    # Held in memory only: a reload asks again.
    page.reload()
    expect(form).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#token-reason")).to_contain_text("bearer token")


def _polls_queues(request: Request) -> bool:
    return request.url.endswith("/queues") and "authorization" in request.headers

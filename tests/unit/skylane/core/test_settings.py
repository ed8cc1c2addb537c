"""Settings come from the template's environment; unsafe combinations are refused."""

import pytest
from pydantic import ValidationError

from skylane.broker.celery_app import create_celery_app
from skylane.core.settings import Settings, apply_localstack_host

REQUIRED = {
    "JOBS_TABLE": "t",
    "UPLOADS_BUCKET": "u",
    "REPORTS_BUCKET": "r",
    "HIGH_QUEUE_URL": "h",
    "DEFAULT_QUEUE_URL": "d",
}


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "LOCALSTACK_HOST", "SKYLANE_STAGE"):
        # Set, then removed: monkeypatch then also undoes what apply_localstack_host writes to
        # os.environ itself, which would point every later test's boto3 at that endpoint.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    for key, value in REQUIRED.items():
        monkeypatch.setenv(key, value)


def test_an_emulator_endpoint_is_refused_outside_the_local_stage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SKYLANE_STAGE", "prod")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4599")
    with pytest.raises(ValidationError, match="only allowed in the local stage"):
        Settings.from_environ()


def test_a_missing_resource_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOBS_TABLE")
    with pytest.raises(ValidationError, match="jobs_table"):
        Settings.from_environ()


@pytest.mark.parametrize(
    ("host", "endpoint"),
    [("localhost", "http://localhost:4566"), ("10.0.0.5:4510", "http://10.0.0.5:4510")],
)
def test_localstack_host_becomes_the_endpoint(
    monkeypatch: pytest.MonkeyPatch, host: str, endpoint: str
) -> None:
    monkeypatch.setenv("LOCALSTACK_HOST", host)
    apply_localstack_host()
    assert Settings.from_environ().aws_endpoint_url == endpoint


def test_an_explicit_endpoint_wins_over_localstack_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALSTACK_HOST", "localhost")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4599")
    apply_localstack_host()
    assert Settings.from_environ().aws_endpoint_url == "http://127.0.0.1:4599"


def test_names_match_without_regard_to_case_and_numbers_are_parsed() -> None:
    settings = Settings.from_environ(
        {**REQUIRED, "retry_countdown_seconds": "5", "Progress_Min_Interval_Seconds": "0.5"}
    )
    assert settings.retry_countdown_seconds == 5
    assert settings.progress_min_interval_seconds == 0.5
    assert settings.jobs_table == "t"


def test_a_value_out_of_range_is_refused() -> None:
    with pytest.raises(ValidationError, match="retry_countdown_seconds"):
        Settings.from_environ({**REQUIRED, "RETRY_COUNTDOWN_SECONDS": "100000"})


def test_the_worker_prefetch_multiplier_reaches_celery_and_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One message per process unless asked: long jobs must not wait behind held ones.
    assert create_celery_app(Settings.from_environ()).conf.worker_prefetch_multiplier == 1
    monkeypatch.setenv("WORKER_PREFETCH_MULTIPLIER", "4")
    assert create_celery_app(Settings.from_environ()).conf.worker_prefetch_multiplier == 4
    monkeypatch.setenv("WORKER_PREFETCH_MULTIPLIER", "0")
    with pytest.raises(ValidationError):
        Settings.from_environ()

"""Every endpoint x every kind of bad input, through the Mangum handler (payloads 2.0 and 1.0).

Each answer must be a 4xx whose body says what was wrong; never a 500, never a queued job.
One test per endpoint walks its whole table (the moto fixture costs seconds per test) and
reports every case that misbehaved at once.
"""

import json
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import pytest

from tests.unit.conftest import UPLOADS
from tests.unit.functions.api.conftest import Answer, Invoke
from tests.unit.functions.api.test_endpoints import queued_messages

OVERSIZED = 300 * 1024  # past SQS's 256 KiB message limit
HUGE = 100_000  # under the body limit, over every field's own limit


@dataclass(frozen=True)
class Endpoint:
    path: str
    valid: dict[str, Any]
    # Field name -> what it holds, which decides the bad values it is given.
    fields: dict[str, str]
    optional: frozenset[str] = frozenset()
    # Job-creating endpoints take an Idempotency-Key header.
    idempotent: bool = True


ENDPOINTS = [
    Endpoint(
        "/uploads",
        {"filename": "a.txt", "content_type": "text/plain"},
        {"filename": "filename", "content_type": "text"},
        optional=frozenset({"content_type"}),
        idempotent=False,
    ),
    Endpoint("/process-file", {"file_path": "uploads/x/a.txt"}, {"file_path": "path"}),
    Endpoint(
        "/send-email",
        {"email": "user@example.com", "subject": "Hi", "body": "Hello"},
        {"email": "email", "subject": "text", "body": "body"},
    ),
    Endpoint("/process-document", {"file_path": "uploads/x/a.pdf"}, {"file_path": "path"}),
    Endpoint(
        "/generate-report",
        {"user_id": 42, "report_type": "summary"},
        {"user_id": "id", "report_type": "choice"},
    ),
    Endpoint(
        "/process-video",
        {"video_path": "uploads/x/clip.mp4", "user_id": 9},
        {"video_path": "path", "user_id": "id"},
    ),
    Endpoint(
        "/user-action",
        {"user_id": 3, "action": "login"},
        {"user_id": "id", "action": "text"},
        idempotent=False,
    ),
]

WRONG_TYPES: dict[str, list[Any]] = {
    "text": [5, 1.5, True, None, [], {}, ["a"]],
    "filename": [5, True, None, [], {}],
    "body": [5, True, None, [], {}],
    "path": [5, True, None, [], {"key": "uploads/x"}],
    "email": [5, True, None, [], ["user@example.com"]],
    "choice": [5, None, [], "Summary", "everything"],
    "id": ["42", 42.0, 4.2, True, None, [], {}, "", "1e3"],
}
# Values of the right type that the field must still refuse.
BAD_VALUES: dict[str, list[Any]] = {
    "text": ["", "   ", "x" * HUGE, "a\x00b", "two\nlines", "\x1b[31mred", "\ud800", "\udfff tail"],
    # A message body may be empty and may have line breaks, but no other control characters.
    "body": ["x" * HUGE, "a\x00b", "bell\x07", "\ud800"],
    # A filename is reduced to safe characters (path parts, NUL, surrogates dropped), so only
    # what cannot be reduced is refused.
    "filename": ["", "x" * HUGE],
    "path": [
        "",
        "x" * HUGE,
        "../../etc/passwd",
        "uploads/../../secret",
        "uploads/./x",
        "uploads//x",
        "/etc/passwd",
        "uploads\\..\\x",
        "uploads/a\x00b",
        "uploads/\ud800",
        "s3://someone-elses-bucket/uploads/x",
        f"s3://{UPLOADS}-evil/uploads/x",
        "s3://",
        f"s3://{UPLOADS}",
        f"s3://{UPLOADS}/../x",
        "http://example.com/x",
        "file:///etc/passwd",
    ],
    "email": [
        "",
        "not-an-email",
        "user@",
        "@example.com",
        "a@@example.com",
        "user@example..com",
        "user@-example.com",
        "x" * 300 + "@example.com",
        "user@" + "x" * HUGE + ".com",
        "us\x00er@example.com",
        "us\ud800er@example.com",
        "user@example.com\r\nBcc: victim@example.com",
    ],
    "choice": ["", "x" * HUGE, "summary\x00", "\ud800"],
    "id": [0, -1, 2**53 + 1, 2**63, 2**64, 10**30, -(10**30), int("9" * 4000)],
}
BAD_IDS = [
    "not-a-job-id",
    "1",
    "0" * 5000,
    "..%2F..%2Fetc%2Fpasswd",
    "%00",
    "%F0%9F%92%A9",
    "7d9b7c8e-0000-4000-8000-00000000000g",
    "7d9b7c8e-0000-4000-8000-000000000000-extra",
]


def bad_bodies(endpoint: Endpoint) -> list[tuple[str, Any, dict[str, str]]]:
    """(case, body, headers) for every kind of bad input the endpoint can be sent."""
    valid = endpoint.valid
    cases: list[tuple[str, Any, dict[str, str]]] = [
        ("malformed JSON", '{"a": ', {}),
        ("truncated JSON", json.dumps(valid)[:-1], {}),
        ("empty body", "", {}),
        ("JSON null", "null", {}),
        ("JSON array", json.dumps([valid]), {}),
        ("JSON string", '"text"', {}),
        ("JSON number", "1e999", {}),
        ("huge integer literal", '{"user_id": ' + "9" * 5000 + "}", {}),
        ("deeply nested", "[" * 10_000 + "]" * 10_000, {}),
        ("not UTF-8", b"\xff\xfe{}".decode("latin-1"), {}),
        ("missing fields", {}, {}),
        ("extra field", {**valid, "extra": 1}, {}),
        ("oversized body", {**valid, "padding": "x" * OVERSIZED}, {}),
        ("form instead of JSON", "a=1&b=2", {"content-type": "application/x-www-form-urlencoded"}),
    ]
    if endpoint.idempotent:
        cases += [
            ("Idempotency-Key too long", valid, {"Idempotency-Key": "x" * 300}),
            ("Idempotency-Key with spaces", valid, {"Idempotency-Key": "a b\tc"}),
            ("Idempotency-Key empty", valid, {"Idempotency-Key": ""}),
        ]
    for name, kind in endpoint.fields.items():
        if name not in endpoint.optional:
            missing = {k: v for k, v in valid.items() if k != name}
            cases.append((f"missing {name}", missing, {}))
        for value in WRONG_TYPES[kind]:
            cases.append((f"{name} = {value!r:.40}", {**valid, name: value}, {}))
        for value in BAD_VALUES[kind]:
            cases.append((f"{name} = {value!r:.40}", {**valid, name: value}, {}))
    return cases


def problem(answer: Answer, *, expected: int | None = None) -> str | None:
    """What is wrong with an answer to bad input, or None when it is a clear 4xx."""
    if expected is not None and answer.status != expected:
        return f"status {answer.status}, expected {expected}: {str(answer.body)[:200]}"
    if not 400 <= answer.status < 500:
        return f"status {answer.status}: {str(answer.body)[:200]}"
    detail = answer.body.get("detail") if isinstance(answer.body, dict) else None
    if isinstance(detail, str) and detail:
        return None
    if isinstance(detail, list) and detail and all(e.get("msg") and e.get("loc") for e in detail):
        return None
    return f"status {answer.status} without a clear detail: {str(answer.body)[:200]}"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.path)
def test_bad_bodies_are_a_clear_4xx_and_queue_nothing(
    invoke: Invoke, aws: dict[str, Any], endpoint: Endpoint
) -> None:
    failures = []
    for case, body, headers in bad_bodies(endpoint):
        answer = invoke("POST", endpoint.path, body, headers)
        expected = 413 if case == "oversized body" else None
        if (found := problem(answer, expected=expected)) is not None:
            failures.append(f"{case}: {found}")
    assert failures == [], "\n".join(failures)
    for queue in ("HIGH_QUEUE_URL", "DEFAULT_QUEUE_URL"):
        assert queued_messages(aws[queue]) == []


@pytest.mark.parametrize(
    ("method", "template"),
    [
        ("GET", "/task/{}"),
        ("GET", "/job/{}"),
        ("POST", "/task/{}/cancel"),
        ("POST", "/job/{}/cancel"),
    ],
)
def test_bad_job_ids_are_a_clear_4xx(invoke: Invoke, method: str, template: str) -> None:
    failures = []
    for job_id in [*BAD_IDS, str(uuid4())]:
        answer = invoke(method, template.format(job_id))
        if (found := problem(answer)) is not None:
            failures.append(f"{job_id[:40]}: {found}")
    # A body where none is expected changes nothing either.
    answer = invoke(method, template.format(uuid4()), {"state": "SUCCESS"})
    if (found := problem(answer, expected=404)) is not None:
        failures.append(f"unexpected body: {found}")
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/health"), ("GET", "/queues"), ("POST", "/health"), ("DELETE", "/queues")],
)
def test_read_only_endpoints_ignore_or_refuse_what_they_are_sent(
    invoke: Invoke, method: str, path: str
) -> None:
    answer = invoke(method, path, '{"not": "used"')
    if method == "GET":
        assert answer.status == 200
    else:
        assert problem(answer, expected=405) is None


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/send-email", {"email": "a@example.com", "subject": "Hi\x00", "body": "b"}, "subject"),
        (
            "/send-email",
            {"email": "a@example.com", "subject": "Hi\r\nBcc: x", "body": ""},
            "subject",
        ),
        ("/send-email", {"email": "a@example.com", "subject": "Hi", "body": "b\x00"}, "body"),
        ("/user-action", {"user_id": 1, "action": "log\x00in"}, "action"),
    ],
)
def test_control_characters_in_text_are_refused_with_the_field_named(
    invoke: Invoke, aws: dict[str, Any], path: str, body: dict[str, Any], field: str
) -> None:
    # Regression: these were accepted, and a NUL in a subject fails only at SES, in the worker.
    answer = invoke("POST", path, body)
    assert answer.status == 422
    assert answer.body["detail"][0]["loc"] == ["body", field]
    assert "control characters" in answer.body["detail"][0]["msg"]
    assert queued_messages(aws["DEFAULT_QUEUE_URL"]) == []


def test_a_message_body_keeps_its_line_breaks(invoke: Invoke) -> None:
    body = {"email": "a@example.com", "subject": "Hi", "body": "line one\r\n\tline two\n"}
    assert invoke("POST", "/send-email", body).status == 202

"""``skylane submit``: its arguments, the endpoint and body of each kind, the API's refusals."""

import json
from pathlib import Path

import httpx
import pytest

from functions.api.app import app
from infra.emulator import free_port
from skylane_cli import main as cli
from skylane_cli.stack_api import ApiError, StackApi
from skylane_cli.submit import KINDS, job_request, submit

ARGUMENTS = {
    "process-file": ["./big.bin"],
    "process-document": ["./contract.pdf"],
    "process-video": ["./clip.mp4", "--user-id", "9"],
    "send-email": ["--to", "user@example.com", "--subject", "Hi", "--body", "Hello"],
    "generate-report": ["--user-id", "42", "--type", "detailed"],
}


def test_every_kind_posts_to_an_endpoint_of_the_api_with_exactly_its_fields() -> None:
    schema = app.openapi()
    assert set(ARGUMENTS) == set(KINDS)
    for kind, arguments in ARGUMENTS.items():
        args = cli.parse_args(["submit", kind, *arguments])
        endpoint, body = job_request(args, input_key="uploads/1/x")
        operation = schema["paths"][endpoint]["post"]
        reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        model = schema["components"]["schemas"][reference.rsplit("/", 1)[-1]]
        assert set(body) == set(model["properties"]), kind
        assert set(model.get("required", [])) <= set(body), kind


def test_arguments_become_the_body() -> None:
    args = cli.parse_args(["submit", "generate-report", "--user-id", "42"])
    assert job_request(args, None) == (
        "/generate-report",
        {"user_id": 42, "report_type": "summary"},
    )
    args = cli.parse_args(["submit", "process-video", "./clip.mp4", "--user-id", "9"])
    assert job_request(args, "uploads/1/clip.mp4") == (
        "/process-video",
        {"video_path": "uploads/1/clip.mp4", "user_id": 9},
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["submit", "bake-cake"], "invalid choice: 'bake-cake'"),
        (["submit", "send-email", "--to", "a@b.c"], "required: --subject, --body"),
        (["submit", "process-video", "./clip.mp4"], "required: --user-id"),
        (["submit", "generate-report", "--user-id", "x"], "invalid int value: 'x'"),
        (["submit", "generate-report", "--user-id", "1", "--type", "huge"], "invalid choice"),
    ],
)
def test_bad_arguments_are_refused_with_the_reason(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.parse_args(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


class FakeApi:
    """The API's answers, recorded requests; S3's PUT included."""

    def __init__(self, answers: dict[str, httpx.Response]) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers[f"{request.method} {request.url.path}"]


def api_with(
    answers: dict[str, httpx.Response], token: str | None = None
) -> tuple[StackApi, FakeApi]:
    fake = FakeApi(answers)
    return StackApi("http://api.test", token=token, transport=httpx.MockTransport(fake)), fake


def test_a_local_file_is_uploaded_then_named_in_the_job(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("one\ntwo\n")
    key = "uploads/u1/notes.txt"
    api, fake = api_with(
        {
            "POST /uploads": httpx.Response(
                201,
                json={"key": key, "upload_url": "http://s3.test/b/put?sig=1", "expires_in": 900},
            ),
            "PUT /b/put": httpx.Response(200),
            "POST /process-file": httpx.Response(
                202, json={"message": "Task submitted", "task_id": "job-1", "status": "pending"}
            ),
        },
        token="secret",
    )
    args = cli.parse_args(["submit", "process-file", str(path), "--idempotency-key", "k-1"])

    assert submit(args, api) == "job-1"

    ticket, put, job = fake.requests
    assert json.loads(ticket.content) == {"filename": "notes.txt", "content_type": "text/plain"}
    assert put.content == b"one\ntwo\n"
    assert put.headers["Content-Type"] == "text/plain"
    assert "Authorization" not in put.headers  # the presigned URL is S3's authorization
    assert json.loads(job.content) == {"file_path": key}
    assert job.headers["Idempotency-Key"] == "k-1"
    assert job.headers["Authorization"] == "Bearer secret"
    assert f"as {key}" in capsys.readouterr().err


def test_a_video_job_also_names_its_notification_job(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api, _ = api_with(
        {
            "POST /process-video": httpx.Response(
                202,
                json={"message": "m", "task_id": "video-1", "notification_task_id": "note-1"},
            )
        }
    )
    args = cli.parse_args(["submit", "process-video", "s3://uploads/v.mp4", "--user-id", "9"])
    assert submit(args, api) == "video-1"
    assert "notification job: note-1" in capsys.readouterr().err


def test_a_missing_local_file_is_named(tmp_path: Path) -> None:
    api, fake = api_with({})
    args = cli.parse_args(["submit", "process-file", str(tmp_path / "absent.bin")])
    with pytest.raises(cli.CommandError, match=r"absent\.bin is not a file"):
        submit(args, api)
    assert fake.requests == []


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            httpx.Response(
                422,
                json={
                    "detail": [
                        {"loc": ["body", "email"], "msg": "not an email", "type": "value_error"}
                    ]
                },
            ),
            "POST /send-email answered 422: email: not an email",
        ),
        (
            httpx.Response(
                503, json={"detail": "SQS is unavailable right now. No job was accepted."}
            ),
            "answered 503: SQS is unavailable right now. No job was accepted.",
        ),
        (httpx.Response(403, text="Forbidden"), "answered 403: Forbidden"),
    ],
)
def test_the_apis_refusal_is_one_line_with_its_message(
    answer: httpx.Response, message: str
) -> None:
    api, _ = api_with({"POST /send-email": answer})
    args = cli.parse_args(["submit", *["send-email"], *ARGUMENTS["send-email"]])
    with pytest.raises(ApiError) as refused:
        submit(args, api)
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_an_unreachable_api_is_named() -> None:
    api = StackApi(f"http://127.0.0.1:{free_port()}", timeout=5)
    with pytest.raises(ApiError, match=r"the API at http://127\.0\.0\.1:\d+ does not answer"):
        api.post("/send-email", {})


def test_the_command_prints_the_one_line_error_and_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from skylane_cli import submit as submit_cli
    from skylane_cli.stack_target import StackTarget

    port = free_port()
    target = StackTarget(
        name="s", region="us-east-1", outputs={}, api_url=f"http://127.0.0.1:{port}"
    )
    monkeypatch.setattr(submit_cli, "target_from", lambda args: target)
    assert cli.main(["submit", "generate-report", "--user-id", "1"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"skylane: the API at http://127.0.0.1:{port} does not answer")

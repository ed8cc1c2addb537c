"""``skylane submit KIND ...``: submit any job kind through the stack's HTTP API.

A local PATH is uploaded first (POST /uploads, then a presigned PUT), as any client would;
``s3://<uploads bucket>/<key>`` names an object already uploaded. The job id alone goes to
stdout, so ``skylane watch $(skylane submit ...)`` works; everything else goes to stderr.
"""

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skylane_cli.common import CommandError, add_target_arguments, stack_api_for, target_from
from skylane_cli.stack_api import ApiError, StackApi


@dataclass(frozen=True)
class JobKind:
    endpoint: str
    help: str
    # The body field that names the input file in the uploads bucket, if the job reads one.
    input_field: str | None = None
    # Body fields taken as they are from the parsed arguments of the same name.
    fields: tuple[str, ...] = ()


KINDS: dict[str, JobKind] = {
    "process-file": JobKind(
        "/process-file", "size, SHA-256 and lines of a file", input_field="file_path"
    ),
    "process-document": JobKind(
        "/process-document", "pages and text of a PDF (or text statistics)", "file_path"
    ),
    "process-video": JobKind(
        "/process-video", "facts of an MP4 video, and a notification", "video_path", ("user_id",)
    ),
    "send-email": JobKind("/send-email", "mail through SES", fields=("email", "subject", "body")),
    "generate-report": JobKind(
        "/generate-report", "a user's report (high queue)", fields=("user_id", "report_type")
    ),
}


def _user_id(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--user-id", type=int, required=required, help="the user's numeric id")


def add_submit_parser(commands: Any) -> None:
    submit = commands.add_parser("submit", help="submit a job through the stack's API")
    kinds = submit.add_subparsers(dest="kind", required=True, metavar="KIND")
    for name, kind in KINDS.items():
        parser = kinds.add_parser(name, help=kind.help, description=kind.help)
        if kind.input_field is not None:
            parser.add_argument(
                "path", help="a local file (uploaded first) or s3://<uploads bucket>/<key>"
            )
        if name == "process-video":
            _user_id(parser, required=True)
        elif name == "send-email":
            parser.add_argument(
                "--to", dest="email", metavar="ADDRESS", required=True, help="the recipient"
            )
            parser.add_argument("--subject", required=True)
            parser.add_argument("--body", required=True, help="the text of the mail")
        elif name == "generate-report":
            _user_id(parser, required=True)
            parser.add_argument(
                "--type", dest="report_type", choices=("summary", "detailed"), default="summary"
            )
        parser.add_argument(
            "--idempotency-key",
            default=None,
            help="the same key (and input) again answers the same job, enqueued once",
        )
        parser.add_argument(
            "--wait", action="store_true", help="then watch the job (as skylane watch)"
        )
        parser.add_argument(
            "--token", default=None, help="a bearer token, for a deployed stack with JWT auth"
        )
        add_target_arguments(parser)


def job_request(args: argparse.Namespace, input_key: str | None) -> tuple[str, dict[str, Any]]:
    """The endpoint and JSON body for a parsed ``submit``; input_key is the uploaded input."""
    kind = KINDS[args.kind]
    body = {field: getattr(args, field) for field in kind.fields}
    if kind.input_field is not None:
        body[kind.input_field] = input_key
    return kind.endpoint, body


def _input_key(api: StackApi, path: str) -> str:
    if path.startswith("s3://"):
        return path  # the API checks the bucket and that the object exists
    local = Path(path)
    if not local.is_file():
        raise CommandError(f"{path} is not a file")
    key = api.upload(local)
    print(f"uploaded {path} ({local.stat().st_size:,} bytes) as {key}", file=sys.stderr)
    return key


def submit(args: argparse.Namespace, api: StackApi) -> str:
    """Submits the job; answers its id."""
    kind = KINDS[args.kind]
    key = _input_key(api, args.path) if kind.input_field is not None else None
    endpoint, body = job_request(args, key)
    answer = api.post(endpoint, body, args.idempotency_key)
    job_id: str = answer.get("task_id") or answer["job_id"]
    if "notification_task_id" in answer:
        notification = answer["notification_task_id"] or "not queued (non-critical)"
        print(f"notification job: {notification}", file=sys.stderr)
    return job_id


def run_submit(args: argparse.Namespace) -> int:
    from skylane_cli.watch import watch_job

    api = stack_api_for(target_from(args), args.token)
    try:
        job_id = submit(args, api)
    except ApiError as error:
        raise CommandError(str(error)) from error
    print(job_id, flush=True)
    if not args.wait:
        return 0
    return watch_job(api, job_id)

"""AWS clients, created lazily once per process and shared (cheap warm Lambda invocations).

The endpoint comes from AWS_ENDPOINT_URL, which boto3 reads itself: the same code talks to
AWS, to moto's server, or to LocalStack.
"""

from functools import cache
from typing import Any

from skylane.core.settings import get_settings


@cache
def client(service: str) -> Any:
    # Imported on first use: boto3 takes ~0.2 s to import, which /health and every cold start
    # that needs no AWS call would otherwise pay (see `make bench`).
    import boto3
    from botocore.config import Config

    settings = get_settings()
    config = Config(
        region_name=settings.aws_region,
        connect_timeout=settings.aws_connect_timeout_seconds,
        read_timeout=settings.aws_read_timeout_seconds,
        retries={"mode": "standard", "max_attempts": 3},
        # Presigned S3 URLs must name the bucket in the path so they work on emulators too.
        s3={"addressing_style": "path"},
        signature_version="s3v4" if service == "s3" else None,
    )
    return boto3.client(service, config=config)  # type: ignore[call-overload]


def reset_clients() -> None:
    """Forget cached clients (tests that change the environment call this)."""
    client.cache_clear()

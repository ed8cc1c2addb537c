"""AWS cost per million jobs, from the requests counted per job (bench.jobs) and bench.prices.

DynamoDB is priced from the units the meter computed from item sizes and index definitions
(bench.dynamodb_meter): the table's and each index's write units, and the read units. Each
SQS request is one 64 KB chunk; the API runs as a 512 MB arm64 Lambda function for
``API_MS_PER_SUBMISSION`` per submission. Worker compute (Fargate) is left out: it does the
same work in both systems (bench.capacity prices it for bursts).
"""

from typing import Any

from bench import prices

API_MEMORY_GB = 0.5
API_MS_PER_SUBMISSION = 50.0
S3_WRITES = {"PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"}


def request_cost(key: str, count: int) -> tuple[str, float]:
    """Dollars of ``count`` requests of one service:operation; DynamoDB is priced by units."""
    service, operation = key.split(":", 1)
    if service == "sqs":
        return "sqs", count * prices.SQS_PER_REQUEST
    if service == "ses" and operation in {"SendEmail", "SendRawEmail"}:
        return "ses", count * prices.SES_PER_EMAIL
    if service == "s3":
        unit = prices.S3_PER_PUT if operation in S3_WRITES else prices.S3_PER_GET
        return "s3", count * unit
    return service, 0.0


def units_cost(units: dict[str, dict[str, float]]) -> float:
    """Dollars of DynamoDB units: {"write": {"table": n, "by_day": n}, "read": {...}}."""
    write = sum(units.get("write", {}).values())
    read = sum(units.get("read", {}).values())
    return write * prices.DYNAMODB_PER_WRITE_UNIT + read * prices.DYNAMODB_PER_READ_UNIT


def dynamodb_units(case: dict[str, Any]) -> dict[str, dict[str, float]]:
    """The case's units, API and worker added up."""
    total: dict[str, dict[str, float]] = {}
    for part in case.get("dynamodb_units", {}).values():
        for kind, targets in part.items():
            for target, units in targets.items():
                into = total.setdefault(kind, {})
                into[target] = round(into.get(target, 0.0) + units, 2)
    return total


def per_million_jobs(case: dict[str, Any]) -> dict[str, float]:
    """Dollars per million jobs of one case, by service, plus the API Lambda and the total."""
    by_service: dict[str, float] = {"dynamodb": units_cost(dynamodb_units(case)) * 1_000_000}
    for part in ("api", "worker"):
        for key, count in case[part].items():
            service, dollars = request_cost(key, count)
            if service != "dynamodb":
                by_service[service] = by_service.get(service, 0.0) + dollars * 1_000_000
    by_service["lambda"] = 1_000_000 * (
        prices.LAMBDA_PER_REQUEST
        + prices.LAMBDA_ARM_PER_GB_SECOND * API_MEMORY_GB * API_MS_PER_SUBMISSION / 1000
    )
    rounded = {service: round(dollars, 2) for service, dollars in sorted(by_service.items())}
    rounded["total"] = round(sum(by_service.values()), 2)
    return rounded


def idle_per_month(requests_per_hour: float) -> float:
    """Dollars per month (730 h) one idle worker's polling costs."""
    return round(requests_per_hour * 730 * prices.SQS_PER_REQUEST, 2)

"""The job table's records as the emulator's DynamoDB holds them, read without the API."""

from typing import Any

from tests.integration.conftest import LocalStack

# BatchGetItem's limit of keys a request.
BATCH_GET_KEYS = 100


def records(local_stack: LocalStack, job_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The raw DynamoDB items of the jobs found, by job id (strongly consistent reads)."""
    dynamodb = local_stack.client("dynamodb")
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(job_ids), BATCH_GET_KEYS):
        keys = [{"job_id": {"S": job_id}} for job_id in job_ids[start : start + BATCH_GET_KEYS]]
        response = dynamodb.batch_get_item(
            RequestItems={local_stack.table: {"Keys": keys, "ConsistentRead": True}}
        )
        for item in response["Responses"][local_stack.table]:
            found[item["job_id"]["S"]] = item
    return found

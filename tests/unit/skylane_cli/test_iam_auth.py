"""`skylane submit` / `watch` against a stack deployed with ApiAuth=IAM: every API request is
SigV4-signed for execute-api with the caller's credentials; the presigned S3 upload is not."""

import json
from typing import Any

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto import mock_aws

from skylane_cli.common import stack_api_for
from skylane_cli.stack_api import ApiError, StackApi
from skylane_cli.stack_target import StackTarget, deployed_target

REGION = "eu-west-1"
API_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com"


@pytest.fixture
def caller(monkeypatch: pytest.MonkeyPatch) -> Credentials:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "token-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials.secret_key)
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials.token)
    return credentials


def capturing_api(sent: list[httpx.Request], **options: Any) -> StackApi:
    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(202, json={"job_id": "job-1", "task_id": "job-1"})

    return StackApi(API_URL, transport=httpx.MockTransport(answer), **options)


def expected_signature(request: httpx.Request, credentials: Credentials) -> str:
    """The signature SigV4 gives the request as it reached the wire (what API Gateway checks)."""
    authorization = request.headers["Authorization"]
    signed_names = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    again = AWSRequest(
        method=request.method,
        url=str(request.url),
        data=request.content,
        headers={name: request.headers[name] for name in signed_names},
    )
    again.context["timestamp"] = request.headers["X-Amz-Date"]
    auth = SigV4Auth(credentials, "execute-api", REGION)
    return auth.signature(auth.string_to_sign(again, auth.canonical_request(again)), again)


def test_iam_requests_are_signed_over_what_is_sent(caller: Credentials) -> None:
    sent: list[httpx.Request] = []
    api = capturing_api(sent, sigv4_region=REGION)

    api.post("/send-email", {"email": "a@example.com", "subject": "s", "body": "b"}, "key-1")

    (request,) = sent
    authorization = request.headers["Authorization"]
    assert authorization.startswith(
        f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{request.headers['X-Amz-Date'][:8]}/"
        f"{REGION}/execute-api/aws4_request, SignedHeaders="
    )
    signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert {"host", "x-amz-date", "content-type", "idempotency-key"} <= set(signed)
    assert request.headers["X-Amz-Security-Token"] == "token-1"
    assert json.loads(request.content)["email"] == "a@example.com"
    assert authorization.endswith(f"Signature={expected_signature(request, caller)}")


def test_a_get_is_signed_too(caller: Credentials) -> None:
    sent: list[httpx.Request] = []
    capturing_api(sent, sigv4_region=REGION).task("job-1")

    (request,) = sent
    assert request.url.path == "/task/job-1"
    assert request.headers["Authorization"].endswith(
        f"Signature={expected_signature(request, caller)}"
    )


def test_without_credentials_the_user_is_told(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    sent: list[httpx.Request] = []

    with pytest.raises(ApiError, match=r"IAM auth .* no AWS credentials"):
        capturing_api(sent, sigv4_region=REGION).task("job-1")
    assert sent == []


def target(api_auth: str) -> StackTarget:
    return StackTarget("skylane-prod", REGION, {}, API_URL, api_auth=api_auth)


def test_the_stacks_auth_chooses_how_the_cli_authenticates() -> None:
    assert stack_api_for(target("IAM"), None).sigv4_region == REGION
    assert stack_api_for(target("NONE"), None).sigv4_region is None
    jwt = stack_api_for(target("JWT"), "a-token")
    assert (jwt.token, jwt.sigv4_region) == ("a-token", None)


STACK_TEMPLATE = {
    "Parameters": {"ApiAuth": {"Type": "String", "Default": "NONE"}},
    "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
    "Outputs": {"ApiUrl": {"Value": f"{API_URL}/"}},
}


def test_a_deployed_stack_says_its_api_auth(caller: Credentials) -> None:
    with mock_aws():
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        cloudformation.create_stack(
            StackName="skylane-prod",
            TemplateBody=json.dumps(STACK_TEMPLATE),
            Parameters=[{"ParameterKey": "ApiAuth", "ParameterValue": "IAM"}],
        )

        found = deployed_target("skylane-prod", REGION)

    assert (found.api_url, found.api_auth) == (API_URL, "IAM")

"""The stack's HTTP API as a command-line client sees it: uploads, submissions, job views.

Failures become ApiError with one line a person can act on: the API's own message for a 4xx
or a 503, or where the API could not be reached. httpx is imported inside the calls, so the
commands that never call the API do not load it.
"""

import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

# Statuses worth asking again about: the API or a service behind it is briefly unavailable.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


class ApiError(RuntimeError):
    """The API refused or could not be reached; the message is one line for the user."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status in RETRYABLE_STATUSES


def describe_detail(detail: Any) -> str:
    """FastAPI's ``detail``: a sentence, or a list of field errors, as one line."""
    if isinstance(detail, list):
        parts = []
        for error in detail:
            if not isinstance(error, Mapping):
                parts.append(str(error))
                continue
            # ["body", "email"] -> "email"; the header of an idempotency conflict keeps its name.
            location = [str(part) for part in error.get("loc", []) if part != "body"]
            where = ".".join(location)
            parts.append(f"{where}: {error.get('msg', '')}" if where else str(error.get("msg")))
        return "; ".join(parts)
    return str(detail)


def _refusal(response: "httpx.Response") -> ApiError:
    try:
        detail = describe_detail(response.json().get("detail", response.text))
    except ValueError:
        detail = response.text.strip()[:200] or response.reason_phrase
    return ApiError(
        f"{response.request.method} {response.request.url.path} answered "
        f"{response.status_code}: {detail}",
        response.status_code,
    )


def caller_credentials() -> Any:
    """The caller's AWS credentials as boto3 finds them (environment, profile, SSO, instance
    role...), looked up afresh so that refreshed ones are used; ApiError when there are none."""
    import boto3

    credentials = boto3.Session().get_credentials()
    if credentials is None:
        raise ApiError(
            "the stack's API takes IAM auth (ApiAuth=IAM), and no AWS credentials "
            "were found to sign with"
        )
    return credentials


def sign_for_execute_api(request: "httpx.Request", region: str) -> None:
    """Adds SigV4 headers (Authorization, X-Amz-Date, the session token) for API Gateway's
    IAM auth, signed with the caller's AWS credentials as boto3 finds them.

    Signed over the request as it will be sent: its method, URL, body and headers.
    """
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    credentials = caller_credentials()
    signed = AWSRequest(
        method=request.method,
        url=str(request.url),
        data=request.content,
        headers={
            name: value
            for name, value in request.headers.items()
            # Headers a proxy may change are left out of the signature.
            if name.lower() in ("host", "content-type", "idempotency-key")
        },
    )
    SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(signed)
    for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
        if name in signed.headers:
            request.headers[name] = signed.headers[name]


@dataclass(frozen=True)
class StackApi:
    base_url: str
    # A bearer token for a deployed stack with JWT auth (ApiAuth=JWT).
    token: str | None = None
    # The API's region, for a deployed stack with IAM auth (ApiAuth=IAM): every request is
    # SigV4-signed for execute-api with the caller's own AWS credentials.
    sigv4_region: str | None = None
    timeout: float = 30.0
    # An httpx transport in place of the network (tests).
    transport: Any = None

    def _client(self, timeout: float) -> "httpx.Client":
        import httpx

        return httpx.Client(transport=self.transport, timeout=timeout)

    def _request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> "httpx.Response":
        import httpx

        sent = dict(headers or {})
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        try:
            with self._client(self.timeout) as http:
                request = http.build_request(
                    method, f"{self.base_url}{path}", json=body, headers=sent
                )
                if self.sigv4_region:
                    sign_for_execute_api(request, self.sigv4_region)
                return http.send(request)
        except httpx.HTTPError as error:
            raise ApiError(f"the API at {self.base_url} does not answer: {error}") from error

    def post(
        self, path: str, body: Mapping[str, Any], idempotency_key: str | None = None
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        response = self._request("POST", path, body, headers)
        if response.status_code >= 400:
            raise _refusal(response)
        answer: dict[str, Any] = response.json()
        return answer

    def call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Any endpoint: its JSON answer ({} for a 204), ApiError for a 4xx or 5xx."""
        response = self._request(method, path, body)
        if response.status_code >= 400:
            raise _refusal(response)
        if response.status_code == 204 or not response.content:
            return {}
        answer: dict[str, Any] = response.json()
        return answer

    def task(self, job_id: str) -> dict[str, Any] | None:
        """Celery's view of a job (GET /task/{id}), or None when the API knows no such job."""
        response = self._request("GET", f"/task/{job_id}")
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise _refusal(response)
        view: dict[str, Any] = response.json()
        return view

    def upload(self, path: Path) -> str:
        """Uploads a local file the way the API expects (POST /uploads, then a presigned PUT);
        answers the key to name it by in a job."""
        import httpx

        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        ticket = self.post("/uploads", {"filename": path.name, "content_type": content_type})
        try:
            with path.open("rb") as data, self._client(max(self.timeout, 300.0)) as http:
                # Straight to S3: the presigned URL is the authorization, so no bearer token,
                # and the signed Content-Type must match. httpx sends the file's length, as S3
                # requires (it refuses chunked uploads to presigned URLs).
                put = http.put(
                    ticket["upload_url"], content=data, headers={"Content-Type": content_type}
                )
        except httpx.HTTPError as error:
            raise ApiError(f"uploading {path} failed: {error}") from error
        if put.status_code >= 300:
            raise ApiError(
                f"uploading {path} failed: S3 answered {put.status_code}: {put.text[:200]}",
                put.status_code,
            )
        key: str = ticket["key"]
        return key

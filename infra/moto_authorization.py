"""Two gaps in moto's IAM enforcement, closed for the embedded server in this process.

Presigned S3 requests carry no Authorization header, which moto's enforcement reads (it fails
them with a 500): their key and token are read from the query and checked against the signer's
policies. Lambda's and Scheduler's calls fail moto's signature check (it hashes their headers
as the body): they are authorized against the caller's policies, their signature unchecked.
"""

from typing import Any
from urllib.parse import parse_qs, urlparse

from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.iam.access_control import IAMRequestBase

UNVERIFIABLE_SIGNATURES = frozenset({"lambda", "scheduler"})

_original = ActionAuthenticatorMixin._authenticate_and_authorize_action
_original_check_signature = IAMRequestBase.check_signature


def _presigned_headers(self: Any) -> dict[str, str] | None:
    """The headers a header-signed request by the same identity would carry, if presigned."""
    if "Authorization" in self.headers:
        return None
    query = {name.lower(): values for name, values in parse_qs(urlparse(self.uri).query).items()}
    if "x-amz-credential" in query:  # SigV4
        credential = query["x-amz-credential"][0]
    elif "awsaccesskeyid" in query:  # SigV2: the key alone
        credential = f"{query['awsaccesskeyid'][0]}/00000000/{self.region}/s3/aws4_request"
    else:
        return None
    headers = dict(self.headers)
    headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=presigned"
    )
    if "x-amz-security-token" in query:
        headers["X-Amz-Security-Token"] = query["x-amz-security-token"][0]
    return headers


def _authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
    headers = _presigned_headers(self)
    enforcing = ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT
    if headers is None or not enforcing:
        _original(self, iam_request_cls, resource)
        return
    path = self.raw_path
    query = urlparse(self.uri).query
    iam_request = iam_request_cls(
        account_id=self.current_account,
        method=self.method,
        path=f"{path}?{query}" if query else path,
        data=self.data,
        body=self.raw_body,
        headers=headers,
        action=self._get_action(),
    )
    iam_request.check_action_permitted(resource)


def _check_signature(self: Any) -> None:
    if self._service in UNVERIFIABLE_SIGNATURES:
        return
    _original_check_signature(self)


def install() -> None:
    """Apply to moto's servers in this process (idempotent)."""
    ActionAuthenticatorMixin._authenticate_and_authorize_action = _authorize
    IAMRequestBase.check_signature = _check_signature

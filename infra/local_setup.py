"""Setup the template leaves to the account on AWS, done by hand on the emulator."""

from typing import TYPE_CHECKING

from infra.emulator import AwsEndpoint
from infra.template import DeployedStack

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient


def verify_email_sender(endpoint: AwsEndpoint, stack: DeployedStack) -> str:
    """Verify the worker's sender address; SES refuses mail from an unverified identity.

    On AWS the identity is verified once per account by a person clicking a link, which is why
    the template cannot create it.
    """
    sender = stack.worker_env["EMAIL_SENDER"]
    ses: SESClient = endpoint.client("ses")
    ses.verify_email_identity(EmailAddress=sender)
    return sender


def prepare(endpoint: AwsEndpoint, stack: DeployedStack) -> None:
    verify_email_sender(endpoint, stack)

"""send_email's and send_notification's work: one SES message, one SNS publication."""

from skylane.core.aws import client


class NotConfigured(Exception):
    """A setting the job needs is empty: a retry in the same process would see it empty too."""


def send_email(sender: str, recipient: str, subject: str, body: str) -> str:
    """Send a plain-text email; returns SES's message id."""
    if not sender:
        raise NotConfigured("EMAIL_SENDER is not set: no SES identity to send from")
    response = client("ses").send_email(
        Source=sender,
        Destination={"ToAddresses": [recipient]},
        Message={
            "Subject": {"Data": subject, "Charset": "UTF-8"},
            "Body": {"Text": {"Data": body, "Charset": "UTF-8"}},
        },
    )
    return str(response["MessageId"])


def send_notification(topic_arn: str, user_id: int, message: str) -> str:
    """Publish to the notifications topic; returns SNS's message id.

    user_id travels as a Number attribute so subscriptions can filter on it.
    """
    if not topic_arn:
        raise NotConfigured("NOTIFICATIONS_TOPIC_ARN is not set: no topic to publish to")
    response = client("sns").publish(
        TopicArn=topic_arn,
        Message=message,
        MessageAttributes={"user_id": {"DataType": "Number", "StringValue": str(user_id)}},
    )
    return str(response["MessageId"])

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from functions.tasks.messaging import NotConfigured, send_email, send_notification
from functions.tasks.retries import is_transient


def test_email_goes_out_through_ses(worker_aws: dict[str, str]) -> None:
    message_id = send_email(worker_aws["EMAIL_SENDER"], "user@example.com", "Hi", "Body text")

    assert message_id
    assert boto3.client("ses").get_send_quota()["SentLast24Hours"] == 1


def test_unverified_sender_is_rejected_as_retryable(worker_aws: dict[str, str]) -> None:
    with pytest.raises(ClientError) as caught:
        send_email("unverified@example.com", "user@example.com", "Hi", "Body text")

    assert caught.value.response["Error"]["Code"] == "MessageRejected"
    assert is_transient(caught.value)


def test_email_without_a_sender_is_a_configuration_error() -> None:
    with pytest.raises(NotConfigured, match="EMAIL_SENDER is not set"):
        send_email("", "user@example.com", "Hi", "Body text")


def test_notification_reaches_subscribers_with_the_user_id(worker_aws: dict[str, str]) -> None:
    topic_arn = worker_aws["NOTIFICATIONS_TOPIC_ARN"]
    sqs = boto3.client("sqs")
    inbox = sqs.create_queue(QueueName="notification-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    boto3.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=inbox_arn)

    message_id = send_notification(topic_arn, 42, "Video processing has started")

    delivered = sqs.receive_message(QueueUrl=inbox, WaitTimeSeconds=0)["Messages"]
    envelope = json.loads(delivered[0]["Body"])
    assert envelope["MessageId"] == message_id
    assert envelope["Message"] == "Video processing has started"
    assert envelope["MessageAttributes"]["user_id"] == {"Type": "Number", "Value": "42"}


def test_notification_without_a_topic_is_a_configuration_error() -> None:
    with pytest.raises(NotConfigured, match="NOTIFICATIONS_TOPIC_ARN is not set"):
        send_notification("", 42, "hello")

from infra.local_iam import _document, adapt_statement, enforcement_wanted

QUEUE = "arn:aws:sqs:us-east-1:123456789012:skylane-high"
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/skylane-jobs"


def test_resources_stay_where_moto_checks_them_and_widen_where_it_cannot() -> None:
    statement = {
        "Effect": "Allow",
        "Action": ["sqs:GetQueueAttributes", "dynamodb:PutItem"],
        "Resource": [QUEUE, TABLE],
    }
    assert adapt_statement(statement) == [
        {"Effect": "Allow", "Action": ["sqs:GetQueueAttributes"], "Resource": [QUEUE, TABLE]},
        {"Effect": "Allow", "Action": ["dynamodb:PutItem"], "Resource": "*"},
    ]


def test_sqs_batch_calls_are_granted_with_their_single_message_permission() -> None:
    [adapted] = adapt_statement(
        {
            "Effect": "Allow",
            "Action": ["sqs:DeleteMessage", "sqs:ReceiveMessage"],
            "Resource": QUEUE,
        }
    )
    assert adapted["Action"] == [
        "sqs:DeleteMessage",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessageBatch",
    ]
    assert adapted["Resource"] == QUEUE


def test_a_single_action_string_and_a_statement_without_actions() -> None:
    assert adapt_statement({"Effect": "Allow", "Action": "sns:Publish", "Resource": "arn:t"}) == [
        {"Effect": "Allow", "Action": ["sns:Publish"], "Resource": "*"}
    ]
    not_action = {"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"}
    assert adapt_statement(not_action) == [not_action]


def test_policy_documents_as_moto_returns_them() -> None:
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}
    assert _document(document) == document
    assert _document('{"Version": "2012-10-17", "Statement": []}')["Statement"] == []
    # CloudFormation-created roles: moto keeps a Python object and returns its repr.
    assert _document(str(document)) == document


def test_enforcement_is_on_unless_turned_off() -> None:
    assert enforcement_wanted({})
    assert enforcement_wanted({"SKYLANE_ENFORCE_IAM": "1"})
    for off in ("0", "false", "OFF", "no"):
        assert not enforcement_wanted({"SKYLANE_ENFORCE_IAM": off})

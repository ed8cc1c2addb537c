import json

from infra.policy_lint import analyze, resolve, unjustified

RESOURCES = {
    "HighQueue": {"Type": "AWS::SQS::Queue"},
    "UploadsBucket": {"Type": "AWS::S3::Bucket"},
    "Topic": {"Type": "AWS::SNS::Topic"},
}


def test_intrinsics_resolve_to_arns_of_the_right_shape() -> None:
    assert resolve({"Fn::GetAtt": ["HighQueue", "Arn"]}, RESOURCES) == (
        "arn:aws:sqs:us-east-1:123456789012:highqueue"
    )
    assert (
        resolve({"Fn::Sub": "${UploadsBucket.Arn}/*"}, RESOURCES) == "arn:aws:s3:::uploadsbucket/*"
    )
    assert resolve({"Ref": "Topic"}, RESOURCES) == "arn:aws:sns:us-east-1:123456789012:topic"
    assert resolve({"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:x"}, RESOURCES) == (
        "arn:aws:ses:us-east-1:x"
    )


def test_parliament_reports_an_action_on_the_wrong_kind_of_resource() -> None:
    wrong = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:sqs:us-east-1:123456789012:q",
            }
        ],
    }
    findings = analyze({"WorkerTaskRole/probe": json.dumps(wrong)})
    assert [finding["issue"] for finding in findings] == ["RESOURCE_MISMATCH"]
    assert unjustified(findings) == findings

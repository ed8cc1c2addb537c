"""AWS list prices used by the cost model, in one place, each with its source.

us-east-1, on demand. Checked on 2026-12-01 against the pages in SOURCES; prices change, so
check them before relying on these. DynamoDB's on-demand throughput prices were halved on
2024-11-01 (from $1.25 and $0.25 per million write and read request units).
"""

PRICES_AS_OF = "2026-12-01"
REGION = "us-east-1"
SOURCES = {
    "sqs": "https://aws.amazon.com/sqs/pricing/",
    "dynamodb": "https://aws.amazon.com/dynamodb/pricing/on-demand/ (reduced 2024-11-01)",
    "lambda": "https://aws.amazon.com/lambda/pricing/",
    "lambda_snapstart": "https://aws.amazon.com/lambda/pricing/ (SnapStart, Python and .NET)",
    "fargate": "https://aws.amazon.com/fargate/pricing/",
    "ses": "https://aws.amazon.com/ses/pricing/",
    "s3": "https://aws.amazon.com/s3/pricing/",
}

# SQS standard queues: per request; each 64 KB chunk of a payload is one request.
SQS_PER_REQUEST = 0.40 / 1_000_000
# DynamoDB on-demand: one write request unit per started KB written (table and each index
# entry apart), one read request unit per started 4 KB read strongly consistent (half for an
# eventually consistent read). bench.dynamodb_units computes the units.
DYNAMODB_PER_WRITE_UNIT = 0.625 / 1_000_000
DYNAMODB_PER_READ_UNIT = 0.125 / 1_000_000
# Lambda on arm64: per request and per GB-second of duration.
LAMBDA_PER_REQUEST = 0.20 / 1_000_000
LAMBDA_ARM_PER_GB_SECOND = 0.0000133334
# Lambda SnapStart (Python): the snapshot cached per GB-second of memory while the version
# is active (at least 3 hours), and each restore per GB of memory.
SNAPSTART_CACHE_PER_GB_SECOND = 0.0000015046
SNAPSTART_RESTORE_PER_GB = 0.0001397998
# Fargate on Linux/arm64: per vCPU-hour and per GB-hour of a running task.
FARGATE_ARM_PER_VCPU_HOUR = 0.03238
FARGATE_ARM_PER_GB_HOUR = 0.00356
# SES: per email sent (outside the EC2 free allowance).
SES_PER_EMAIL = 0.10 / 1000
# S3 Standard: PUT/COPY/POST/LIST per 1,000, GET/HEAD and others per 1,000.
S3_PER_PUT = 0.005 / 1000
S3_PER_GET = 0.0004 / 1000

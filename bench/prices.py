"""AWS list prices used by the cost model, in one place.

us-east-1 on-demand list prices as published on the services' pricing pages, as assumed on
2025-06-01. Prices change: check https://aws.amazon.com/<service>/pricing/ before relying on these.
"""

PRICES_AS_OF = "2025-06-01"
REGION = "us-east-1"
SOURCES = {
    "sqs": "https://aws.amazon.com/sqs/pricing/",
    "dynamodb": "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "lambda": "https://aws.amazon.com/lambda/pricing/",
    "ses": "https://aws.amazon.com/ses/pricing/",
    "s3": "https://aws.amazon.com/s3/pricing/",
}

# SQS standard queues: per request; each 64 KB chunk of a payload is one request.
SQS_PER_REQUEST = 0.40 / 1_000_000
# DynamoDB on-demand: one write request unit per write of up to 1 KB, one read request unit per
# strongly consistent read of up to 4 KB (an eventually consistent read is half a unit).
DYNAMODB_PER_WRITE_UNIT = 1.25 / 1_000_000
DYNAMODB_PER_READ_UNIT = 0.25 / 1_000_000
# Lambda on arm64: per request and per GB-second of duration.
LAMBDA_PER_REQUEST = 0.20 / 1_000_000
LAMBDA_ARM_PER_GB_SECOND = 0.0000133334
# SES: per email sent (outside the EC2 free allowance).
SES_PER_EMAIL = 0.10 / 1000
# S3 Standard: PUT/COPY/POST/LIST per 1,000, GET/HEAD and others per 1,000.
S3_PER_PUT = 0.005 / 1000
S3_PER_GET = 0.0004 / 1000

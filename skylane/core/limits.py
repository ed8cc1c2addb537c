"""AWS service limits the code sizes its requests by (AWS's published quotas, not settings)."""

# Messages per ReceiveMessage, and entries per SendMessageBatch, DeleteMessageBatch and
# ChangeMessageVisibilityBatch.
SQS_BATCH_LIMIT = 10
# Keys per BatchGetItem request.
DYNAMODB_BATCH_GET_LIMIT = 100

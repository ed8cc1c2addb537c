"""Errors the API turns into clear HTTP answers."""


class DependencyUnavailable(Exception):
    """An AWS service skylane needs (SQS, DynamoDB, S3) could not be reached or refused the call.

    The API answers 503 with Retry-After; the message names the service, never internals.
    """

    def __init__(self, service: str, detail: str) -> None:
        super().__init__(f"{service} is unavailable: {detail}")
        self.service = service
        self.detail = detail

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        # Celery pickles errors between worker processes; keep the message intact.
        return (type(self), (self.service, self.detail))


class InvalidInput(Exception):
    """Input that is well-formed but refers to something that does not exist or is not allowed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return (type(self), (self.field, self.message))


class PermissionMissing(Exception):
    """AWS refused a call for want of a permission: a fault of the deployment, not an outage.

    Retrying cannot help, so the API answers 500 (not 503) and a job fails at once. The
    message names the operation and gives AWS's own words, which name the action and the role.
    """

    def __init__(self, service: str, operation: str, detail: str) -> None:
        super().__init__(f"{service} denied {operation}: {detail}")
        self.service = service
        self.operation = operation
        self.detail = detail

    def __reduce__(self) -> tuple[type, tuple[str, str, str]]:
        return (type(self), (self.service, self.operation, self.detail))

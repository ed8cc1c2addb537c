"""Property-based run over the OpenAPI schema: no input, valid or not, may cause a 5xx.

schemathesis generates requests for every operation (positive and negative data) and sends
them to the ASGI app in-process; AWS is moto's in-process mock (the `aws` fixture), so
nothing leaves the process. Bounded per operation so the whole run takes well under a minute.
"""

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from functions.api.app import app

schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.mark.usefixtures("aws")
@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    # The moto mock is per test (one per operation) and shared by its examples on purpose.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_request_causes_a_server_error(case: Any) -> None:
    case.call_and_validate(checks=[not_a_server_error])

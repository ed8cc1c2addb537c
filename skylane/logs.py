"""The one structured logger (Powertools JSON lines), shared by the API, scheduler and worker.

Keys such as job_id, task, queue and attempt go in `extra=` so one job id finds every line.
"""

import os

from aws_lambda_powertools import Logger

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "skylane"))

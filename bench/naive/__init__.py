"""The naive port: a textbook FastAPI + Celery app (celery_app.py, tasks.py, main.py) moved to
AWS by changing URLs only. The broker is SQS (kombu finds or creates the queue by name) and
results go to Celery's built-in DynamoDB backend (which creates its own table); every other
setting is as a first Celery app sets it (JSON, UTC, a 5-minute time limit). ``time.sleep`` is replaced by the equivalent real work skylane does: the
file job reads the uploaded object from S3 in 1 MiB chunks, reporting progress after each, and
the email job sends through SES.
"""

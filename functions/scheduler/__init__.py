"""The scheduler Lambda: EventBridge schedules (replacing Celery Beat) become jobs."""

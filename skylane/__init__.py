"""skylane: the shared package (settings, Celery app, job store, contracts, AWS clients, logging)."""

"""The worker container's entry point (`python -m functions.worker`); its tasks are functions/tasks."""

"""Schedules as data: EventBridge expressions, runtime schedules and their runs."""

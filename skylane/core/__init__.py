"""Settings, AWS clients, outages and the errors every component raises."""

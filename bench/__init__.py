"""make bench: skylane measured against the naive port (see bench/__main__.py)."""

"""Container images: the Docker engine, Debian-built stand-in bases, the Lambda runtime stand-in
and the worker image."""

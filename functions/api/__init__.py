"""The API Lambda: FastAPI app served through Mangum."""

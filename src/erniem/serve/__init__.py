"""`erniem serve`: extraction and the task models over HTTP (FastAPI and uvicorn; the `serve` extra)."""

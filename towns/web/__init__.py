"""The web console and the REST API (FastAPI), served by `towns server` beside the worker."""

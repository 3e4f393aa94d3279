"""Ringway's composition root: configuration, the FastAPI service, the CLI."""

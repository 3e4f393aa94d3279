"""Ringway's composition root: configuration, the FastAPI service, the CLI."""

from router._native import use_native

use_native(__path__, __name__)  # the call's service side may load compiled (docs/native-build.md)

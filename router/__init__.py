"""The routing core. Its hot modules may load from the compiled build (`router._native`)."""

from router._native import use_native

use_native(__path__, __name__)

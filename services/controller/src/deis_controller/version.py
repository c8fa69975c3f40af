"""The API version the v2 clients check (major.minor) and the full platform version."""

PLATFORM_VERSION = "2.3.0"
API_VERSION = ".".join(PLATFORM_VERSION.split(".")[:2])

"""The service runtime: ordered start/stop, health and metrics endpoints, signal handling."""

from deis_common.service.main import run_service
from deis_common.service.runtime import Service

__all__ = ["Service", "run_service"]

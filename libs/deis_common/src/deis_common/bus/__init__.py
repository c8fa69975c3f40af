"""The platform bus: events over NATS JetStream, handler routers, request/reply and app logs."""

from deis_common.bus.consumers import ConsumerRunner, HandlerMetrics, StartPositions, backoff
from deis_common.bus.jetstream import Bus
from deis_common.bus.router import Context, HandlerSpec, Router

__all__ = [
    "Bus",
    "ConsumerRunner",
    "Context",
    "HandlerMetrics",
    "HandlerSpec",
    "Router",
    "StartPositions",
    "backoff",
]

"""The platform bus: events over NATS JetStream, handler routers, request/reply, app logs and typed waits."""

from deis_common.bus.consumers import ConsumerRunner, HandlerMetrics, StartPositions, backoff
from deis_common.bus.jetstream import Bus
from deis_common.bus.router import Context, HandlerSpec, Router
from deis_common.bus.watch import Deadline, Watch, WatchTimeout

__all__ = [
    "Bus",
    "ConsumerRunner",
    "Context",
    "Deadline",
    "HandlerMetrics",
    "HandlerSpec",
    "Router",
    "StartPositions",
    "Watch",
    "WatchTimeout",
    "backoff",
]

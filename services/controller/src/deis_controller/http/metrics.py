"""API metrics (requests by route, method and status; latency) and the request's correlation id.

The correlation id (``X-Correlation-ID`` when the caller sends one, else a new one) is set for the
duration of the request, so the events a request causes can be traced back to it.
"""

from __future__ import annotations

import time
import uuid

from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import CollectorRegistry, Counter, Histogram

from deis_controller.controller import CORRELATION
from deis_controller.http.context import Handler


def metrics_middleware(registry: CollectorRegistry) -> Middleware:
    requests = Counter(
        "deis_controller_http_requests",
        "API requests answered",
        ["method", "route", "status"],
        registry=registry,
    )
    latency = Histogram(
        "deis_controller_http_request_seconds",
        "time to answer an API request",
        ["method", "route"],
        registry=registry,
        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0),
    )

    @web.middleware
    async def measure(request: web.Request, handler: Handler) -> web.StreamResponse:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        token = CORRELATION.set(request.headers.get("X-Correlation-ID") or str(uuid.uuid4()))
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as e:
            status = e.status
            raise
        finally:
            CORRELATION.reset(token)
            latency.labels(request.method, route).observe(time.perf_counter() - started)
            requests.labels(request.method, route, str(status)).inc()

    return measure

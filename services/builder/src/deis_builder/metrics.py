"""The builder's Prometheus metrics, on the service's registry (``deis_`` prefix)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class BuilderMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.pushes = Counter(
            "deis_builder_pushes",
            "git pushes, by outcome (deployed, failed, locked, refused)",
            ["outcome"],
            registry=registry,
        )
        self.builds = Counter(
            "deis_builder_builds", "Builds run, by kind and outcome", ["kind", "outcome"], registry=registry
        )
        self.duration = Histogram(
            "deis_builder_build_seconds",
            "Time from a build's start to its artifact being stored",
            ["kind"],
            buckets=(1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 900),
            registry=registry,
        )
        self.queued = Gauge(
            "deis_builder_queue_depth",
            "Pushes received by this builder whose build has not started yet",
            registry=registry,
        )
        self.running = Gauge(
            "deis_builder_builds_running", "Builds running in this process", registry=registry
        )

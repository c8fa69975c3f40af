"""The scheduler's Prometheus metrics (``deis_scheduler_*``), registered on the service's registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

DEPLOY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class SchedulerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.deploy_seconds = Histogram(
            "deis_scheduler_deploy_seconds",
            "Seconds from taking on a desired state to containers.healthy or deploys.failed",
            ["outcome"],
            buckets=DEPLOY_BUCKETS,
            registry=registry,
        )
        self.desired_states = Counter(
            "deis_scheduler_desired_states_total",
            "Desired states taken on, by outcome (healthy, failed, stale)",
            ["outcome"],
            registry=registry,
        )
        self.crashes = Counter(
            "deis_scheduler_process_crashes_total",
            "App processes that exited on their own",
            registry=registry,
        )

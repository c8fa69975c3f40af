"""The scheduler's settings: which backend runs apps, where the local backend keeps its state, deploy timing.

Read once from ``DEIS_``-prefixed environment variables in ``__main__`` (``DEIS_SCHEDULER__BACKEND``,
``DEIS_SCHEDULER__DATA_DIR``, ...) and passed down; nothing here is read at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from deis_common.settings import RegistrySettings, ServiceSettings

__all__ = ["KubernetesSettings", "RegistrySettings", "SchedulerGroup", "SchedulerSettings"]


class KubernetesSettings(BaseModel):
    api_server: str = Field(
        "",
        description="URL of the Kubernetes API server (e.g. http://127.0.0.1:8001 through kubectl proxy); "
        "empty: the cluster's own (service account), else the current kubeconfig context",
    )
    slugrunner_image: str = Field(
        "deis/slugrunner:latest",
        description="image that fetches a slug from the store and runs a process type",
    )
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = Field(
        "IfNotPresent", description="imagePullPolicy of app containers"
    )
    termination_grace_seconds: int = Field(30, description="terminationGracePeriodSeconds of app pods")
    store_secret: str = Field(
        "objectstorage-keyfile",
        description="Secret (in each app namespace) with the object store credentials",
    )
    poll_interval: float = Field(
        5.0,
        description="longest wait in seconds between checks of a rollout (Deployment changes are watched)",
    )


class SimulatedSettings(BaseModel):
    delay: float = Field(
        0.05, description="seconds a deploy's new processes take to report ready (nothing actually runs)"
    )
    adopt: bool = Field(
        False,
        description="pretend the first desired state seen of each app already runs, as the local and "
        "kubernetes backends find their processes after a scheduler restart (a resync starts nothing)",
    )


class SchedulerGroup(BaseModel):
    backend: Literal["local", "kubernetes", "simulated"] = Field(
        "local", description="where app processes run ('simulated': nowhere, for benchmarks)"
    )
    data_dir: Path = Field(
        Path.home() / ".deis-platform" / "scheduler",
        description="local backend: unpacked releases, process state (for re-adoption) and logs",
    )
    deploy_timeout: float = Field(
        120.0,
        description="seconds a new release's processes may take to become ready before the deploy fails",
    )
    routes_timeout: float = Field(
        30.0, description="seconds to wait for routes.updated before stopping the previous processes anyway"
    )
    drain_delay: float = Field(
        1.0,
        description="seconds between routes.updated and stopping the replaced processes, for requests the "
        "router had already sent them to finish",
    )
    min_ready_seconds: float = Field(
        0.25,
        description="seconds a new process must stay up once ready before the previous release is retired; "
        "a crash inside the window fails the deploy (per app: config DEIS_MIN_READY_SECONDS)",
    )
    crash_limit: int = Field(
        3, description="a deploy fails early once one of its new processes has crashed this many times"
    )
    stop_grace: float = Field(
        30.0, description="seconds between SIGTERM and SIGKILL when a process is stopped (Kubernetes: 30)"
    )
    restart_backoff: float = Field(1.0, description="seconds before the first restart of a crashed process")
    restart_backoff_max: float = Field(
        60.0, description="longest wait between restarts of a crashing process"
    )
    output_rotate_bytes: int = Field(
        8 * 1024 * 1024,
        description="bytes of a process's output file before it is rotated (one old file kept)",
    )
    sandbox_user: int = Field(
        65534, description="unprivileged uid (and gid) app processes run as when the scheduler runs as root"
    )
    network: Literal["isolated", "host"] = Field(
        "isolated",
        description="local backend: 'isolated' gives every process, run and probe its own network namespace "
        "and address (needs root); 'host' shares the scheduler's network (no isolation between apps)",
    )
    network_cidr: str = Field(
        "10.213.0.0/16", description="local backend: addresses of sandbox networks (a /30 per process)"
    )
    router_ports: list[int] = Field(
        default_factory=list,
        description="local backend: the router's ports on this host, which apps may reach (where the router "
        "listens beyond loopback): the only way from one app to another",
    )
    snapshot_retry: float = Field(2.0, description="seconds between snapshot requests while nobody answers")
    resync_interval: float = Field(
        10.0, description="seconds between checks that every app runs what it should (self-healing)"
    )
    autoscale_sync_period: float = Field(
        15.0, description="local backend: seconds between CPU measurements of autoscaled types (HPA: 15)"
    )
    autoscale_downscale_stabilization: float = Field(
        300.0,
        description="local backend: seconds of recommendations a scale-down considers; it goes only as low "
        "as the highest of them (HPA: 300)",
    )
    autoscale_tolerance: float = Field(
        0.1,
        description="local backend: relative distance from the CPU target within which nothing changes "
        "(HPA: 0.1)",
    )
    autoscale_cpu_request: float = Field(
        1.0,
        description="local backend: cores a process counts as requesting when its app set no "
        "`limits:set --cpu` (utilization is CPU use over the request)",
    )
    kubernetes: KubernetesSettings = Field(default_factory=KubernetesSettings)
    simulated: SimulatedSettings = Field(default_factory=SimulatedSettings)


class SchedulerSettings(ServiceSettings):
    scheduler: SchedulerGroup = Field(default_factory=SchedulerGroup)
    registry: RegistrySettings = Field(default_factory=RegistrySettings)

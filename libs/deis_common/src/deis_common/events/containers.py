"""Events of the ``containers`` family: the scheduler's view of running processes."""

from __future__ import annotations

from pydantic import Field

from deis_common.events.base import Event
from deis_common.events.state import ProcessInfo


class ContainersHealthy(Event):
    """Every process of ``generation`` is ready; ``endpoints`` are the routable ones (host:port)."""

    subject = "deis.v1.containers.healthy"

    app: str
    generation: int
    version: int
    endpoints: list[str] = Field(default_factory=list, description="host:port of ready web/cmd processes")
    processes: list[ProcessInfo] = Field(default_factory=list)


class ContainersCrashed(Event):
    subject = "deis.v1.containers.crashed"

    app: str
    process: str
    type: str
    exit_code: int | None = None
    restarts: int = 0
    log_tail: list[str] = Field(default_factory=list)


class ContainersAutoscaled(Event):
    """The local autoscaler wants ``replicas`` processes of ``type`` (the HPA's rules on measured CPU).

    A recommendation, not a fact: the controller owns the structure and applies it like a ``ps:scale``
    (as ``apps.scaled``) while the app still autoscales that type and still runs ``current`` of it.
    """

    subject = "deis.v1.containers.autoscaled"

    app: str
    type: str
    current: int = Field(description="replicas of the type the recommendation was computed from")
    replicas: int = Field(description="recommended replicas, already within the autoscale min and max")
    cpu_percent: int | None = Field(
        None,
        description="measured CPU use, percent of the processes' CPU request; None: not measured (the count "
        "was outside the min and max)",
    )
    target_percent: int = Field(description="the autoscale setting's target CPU percent")

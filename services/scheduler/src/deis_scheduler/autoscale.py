"""The Kubernetes HorizontalPodAutoscaler's rules for one process type, as pure functions.

The local autoscaler (:mod:`deis_scheduler.autoscaler`) measures; this module decides, the way the HPA
controller does for a CPU utilization target (``replica_calculator.go`` and ``horizontal.go``, default
behaviour of ``autoscaling/v2``):

- utilization is CPU use relative to the CPU *request*; the ratio is the mean utilization over the target;
- within the tolerance (0.1) of the target nothing changes; otherwise ``ceil(ratio * processes)``;
- processes that are not ready count as using nothing when scaling up; processes not measured yet count as
  using nothing when scaling up and their whole request when scaling down; a change of direction caused by
  those assumptions cancels the change;
- a type below ``min`` goes to ``min`` and one above ``max`` to ``max`` before any measurement; a type
  scaled to 0 is left alone (the HPA does not scale from zero);
- scale-up goes at most to ``max(2 * current, current + 4)`` per sync; scale-down is stabilized: the
  recommendation is the highest one of the stabilization window;
- the result is clamped to ``[min, max]``.

Nothing here reads clocks, cgroups or the bus.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

TOLERANCE = 0.1


@dataclass(frozen=True)
class Measured:
    """One process of the type, as the autoscaler saw it in this sync."""

    ready: bool
    utilization: float | None  # CPU use / CPU request (1.0 = the whole request); None: not measured yet


@dataclass(frozen=True)
class Target:
    min: int
    max: int
    cpu_percent: int


def usage_replicas(
    current: int, processes: list[Measured], target: float, tolerance: float = TOLERANCE
) -> tuple[int, float | None]:
    """The replica count the measurements call for, and the measured mean utilization (None: unmeasured).

    ``target`` is a fraction of the request (0.5 for 50 %).
    """
    measured = [p.utilization for p in processes if p.ready and p.utilization is not None]
    unready = sum(1 for p in processes if not p.ready)
    missing = sum(1 for p in processes if p.ready and p.utilization is None)
    if not measured:
        return current, None
    mean = sum(measured) / len(measured)
    ratio = mean / target
    scale_up_with_unready = unready > 0 and ratio > 1.0
    if not scale_up_with_unready and missing == 0:
        if abs(1.0 - ratio) <= tolerance:
            return current, mean
        return math.ceil(ratio * len(measured)), mean
    values = list(measured)
    values += [1.0 if ratio < 1.0 else 0.0] * missing  # the whole request when going down, nothing when up
    if scale_up_with_unready:
        values += [0.0] * unready
    new_ratio = sum(values) / len(values) / target
    if abs(1.0 - new_ratio) <= tolerance or (ratio < 1.0 < new_ratio) or (ratio > 1.0 > new_ratio):
        return current, mean
    replicas = math.ceil(new_ratio * len(values))
    if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
        return current, mean
    return replicas, mean


@dataclass
class Stabilizer:
    """The recommendations of one process type over the scale-down stabilization window."""

    window: float
    history: list[tuple[float, int]] = field(default_factory=list)

    def stabilize(self, now: float, current: int, recommended: int) -> int:
        """Scale up at once; scale down only to the highest recommendation within the window."""
        self.history = [(t, r) for t, r in self.history if now - t < self.window]
        self.history.append((now, recommended))
        highest = max(r for _, r in self.history)
        return recommended if recommended >= current else min(current, highest)


def scale_up_limit(current: int) -> int:
    """The HPA's default scale-up policies: +100 % or +4 processes per period, whichever is more."""
    return max(2 * current, current + 4)


def desired_replicas(
    current: int,
    processes: list[Measured],
    target: Target,
    stabilizer: Stabilizer,
    now: float,
    tolerance: float = TOLERANCE,
) -> tuple[int, float | None]:
    """What one sync of the HPA makes of a type running ``current`` replicas, and the measured utilization."""
    if current == 0:
        return 0, None
    if current > target.max:
        return target.max, None
    if current < target.min:
        return target.min, None
    recommended, mean = usage_replicas(current, processes, target.cpu_percent / 100, tolerance)
    stabilized = stabilizer.stabilize(now, current, recommended)
    limited = min(stabilized, scale_up_limit(current))
    return max(target.min, min(target.max, limited)), mean

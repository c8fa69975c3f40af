"""The HPA's rules as the local autoscaler applies them (numbers from Kubernetes' replica calculator)."""

from __future__ import annotations

from deis_scheduler.autoscale import Measured, Stabilizer, Target, desired_replicas, usage_replicas
from deis_scheduler.limits import cpu_request

TARGET = Target(min=1, max=3, cpu_percent=50)


def up(*utilizations: float | None) -> list[Measured]:
    return [Measured(ready=True, utilization=u) for u in utilizations]


def test_replicas_follow_the_ratio_of_mean_utilization_to_the_target() -> None:
    assert usage_replicas(1, up(1.0), 0.5) == (2, 1.0)
    assert usage_replicas(2, up(0.9, 0.7), 0.5) == (4, 0.8)
    assert usage_replicas(3, up(0.1, 0.0, 0.05), 0.5)[0] == 1


def test_within_the_tolerance_nothing_changes() -> None:
    assert usage_replicas(2, up(0.54, 0.54), 0.5)[0] == 2
    assert usage_replicas(2, up(0.46, 0.46), 0.5)[0] == 2
    assert usage_replicas(2, up(0.6, 0.6), 0.5)[0] == 3


def test_unmeasured_processes_count_as_idle_going_up_and_busy_going_down() -> None:
    # one busy and one just started: going up, the new one counts as using nothing
    assert usage_replicas(2, up(1.0, None), 0.5)[0] == 2
    assert usage_replicas(3, up(1.0, 1.0, None), 0.5)[0] == 4
    # going down, it counts as using its whole request, which cancels the scale-down here
    assert usage_replicas(2, up(0.1, None), 0.5)[0] == 2
    # nothing measured at all: no change
    assert usage_replicas(2, up(None, None), 0.5) == (2, None)


def test_unready_processes_count_as_idle_when_scaling_up() -> None:
    processes = [*up(1.0), Measured(ready=False, utilization=None)]
    assert usage_replicas(2, processes, 0.5)[0] == 2
    processes = [*up(1.0, 1.0), Measured(ready=False, utilization=None)]
    assert usage_replicas(3, processes, 0.5)[0] == 4


def test_counts_stay_within_min_and_max_and_zero_is_left_alone() -> None:
    stabilizer = Stabilizer(window=300)
    assert desired_replicas(3, up(1.0, 1.0, 1.0), TARGET, stabilizer, now=0)[0] == 3
    assert desired_replicas(5, up(0.0), TARGET, stabilizer, now=0)[0] == 3
    assert desired_replicas(0, [], TARGET, stabilizer, now=0)[0] == 0
    assert desired_replicas(1, up(0.0), Target(min=2, max=4, cpu_percent=50), stabilizer, now=0)[0] == 2


def test_scale_up_is_immediate_but_scale_down_waits_out_the_window() -> None:
    stabilizer = Stabilizer(window=300)
    assert desired_replicas(1, up(1.0), TARGET, stabilizer, now=0)[0] == 2
    assert desired_replicas(2, up(1.0, 1.0), TARGET, stabilizer, now=15)[0] == 3
    # idle now: the recommendations of the last 300 s still say 3
    assert desired_replicas(3, up(0.0, 0.0, 0.0), TARGET, stabilizer, now=30)[0] == 3
    assert desired_replicas(3, up(0.0, 0.0, 0.0), TARGET, stabilizer, now=314)[0] == 3
    assert desired_replicas(3, up(0.0, 0.0, 0.0), TARGET, stabilizer, now=316)[0] == 1


def test_scale_up_grows_at_most_by_the_default_policies() -> None:
    wide = Target(min=1, max=100, cpu_percent=10)
    assert desired_replicas(1, up(1.0), wide, Stabilizer(window=0), now=0)[0] == 5  # +4
    assert desired_replicas(10, up(*[1.0] * 10), wide, Stabilizer(window=0), now=0)[0] == 20  # +100 %


def test_the_cpu_request_is_the_request_part_of_a_limit() -> None:
    assert cpu_request("250m") == 0.25
    assert cpu_request("250m/1") == 0.25
    assert cpu_request("2") == 2.0
    assert cpu_request(None) is None

"""`deis logs -f` prints exactly the lines it has not shown yet, whatever the log buffer dropped."""

from __future__ import annotations

from deis_cli.logstream import new_lines


def test_appended_lines_are_new() -> None:
    assert new_lines(["a", "b"], ["a", "b", "c", "d"]) == ["c", "d"]


def test_lines_dropped_from_the_front_of_a_full_buffer_are_not_repeated() -> None:
    previous = [f"line {i}" for i in range(1000)]
    current = [*previous[2:], "line 1000", "line 1001"]
    assert new_lines(previous, current) == ["line 1000", "line 1001"]


def test_repeated_identical_lines_are_counted() -> None:
    assert new_lines(["same", "same"], ["same", "same", "same"]) == ["same"]


def test_nothing_new_prints_nothing_and_a_cleared_log_starts_over() -> None:
    assert new_lines(["a", "b"], ["a", "b"]) == []
    assert new_lines(["a", "b"], ["x"]) == ["x"]
    assert new_lines([], ["a"]) == ["a"]

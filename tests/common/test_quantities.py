"""The one size and duration grammar the builder, the scheduler and the backup read their settings with."""

from __future__ import annotations

import pytest

from deis_common.quantities import parse_duration, parse_size


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("268435456", 268435456),
        ("512m", 512 * 2**20),
        ("512M", 512 * 2**20),
        ("256Mi", 256 * 2**20),
        ("2GiB", 2 * 2**30),
        ("2gb", 2 * 2**30),
        ("1.5g", int(1.5 * 2**30)),
        (" 1 T ", 2**40),
        ("0", 0),
    ],
)
def test_sizes_are_read_in_binary_units_whatever_their_case(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "12X", "-1M", "1 g b", "1e6", "1.g", "128M/256M"])
def test_anything_else_is_not_a_size(text: str) -> None:
    with pytest.raises(ValueError, match=r"not a size: .* \(use e\.g\. 512m or 2g\)"):
        parse_size(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("4h", 14400.0), ("1h30m", 5400.0), ("90s", 90.0), ("2d", 172800.0), (" 1.5H ", 5400.0), ("30", 30.0),
     (0.5, 0.5), (7, 7.0)],
)
def test_durations_are_read_in_seconds(value: str | float, expected: float) -> None:
    assert parse_duration(value) == expected


@pytest.mark.parametrize("value", ["often", "1h 30m", "h", "5x", "1h30"])
def test_a_nonsense_duration_names_the_accepted_forms(value: str) -> None:
    with pytest.raises(ValueError, match=r"invalid duration .*: use e\.g\. '4h', '30m', '1h30m', '90s'"):
        parse_duration(value)


@pytest.mark.parametrize("value", ["0", "0s", 0, -5, "-1"])
def test_a_duration_must_be_positive(value: str | float) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        parse_duration(value)

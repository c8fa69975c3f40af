"""Release summaries: what changed since the current release, in the words ``deis releases`` shows."""

from __future__ import annotations

from typing import Any

from deis_controller.records import Build


def _diff(new: dict[str, Any], old: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    added = sorted(k for k in new if k not in old)
    changed = sorted(k for k in new if k in old and new[k] != old[k])
    deleted = sorted(k for k in old if k not in new)
    return added, changed, deleted


def _changes(new: dict[str, Any], old: dict[str, Any], noun: str) -> str:
    added, changed, deleted = _diff(new, old)
    parts = [
        f"{verb} {noun}{', '.join(keys)}"
        for verb, keys in (("added", added), ("changed", changed), ("deleted", deleted))
        if keys
    ]
    return ", ".join(parts)


def _append(summary: str, part: str) -> str:
    return f"{summary} and {part}" if summary else part


def build_summary(owner: str, build: Build) -> str:
    return f"{owner} deployed {build.sha[:7] if build.sha else build.image}"


def config_summary(owner: str, new: dict[str, Any], old: dict[str, Any] | None, summary: str = "") -> str:
    """Append the config changes (values, limits, tags, registry, healthchecks) to ``summary``."""
    old = old or {}

    def section(name: str, which: dict[str, Any]) -> dict[str, Any]:
        return dict(which.get(name) or {})

    changes = _changes(section("values", new), section("values", old), "")
    if changes:
        summary = _append(summary, f"{owner} {changes}")
    limits = [name for name in ("memory", "cpu") if any(_diff(section(name, new), section(name, old)))]
    if limits:
        # no separator before the limits part: the original API's summaries read this way
        summary += f"{owner} changed limits for {', '.join(limits)}"
    for name, noun in (
        ("tags", "tag "),
        ("registry", "registry info "),
        ("healthcheck", "healthcheck info for proc type "),
    ):
        changes = _changes(section(name, new), section(name, old), noun)
        if changes:
            summary = _append(summary, f"{owner} {changes}")
    return summary

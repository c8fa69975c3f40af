"""Config sections: validation of a POST and merging it into the current config.

A POST may carry each section as an object or as a string holding JSON (the HTTP layer decodes those,
``http.inputs``); a ``null`` value unsets a key (unsetting a missing key is a 422). Legacy
``HEALTHCHECK_*`` values become a ``web/cmd`` healthcheck.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from deis_controller.domain.changes import apply as apply_changes
from deis_controller.errors import BadRequest, FieldErrors, Unprocessable
from deis_controller.records import CONFIG_SECTIONS

CONFIG_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PROCTYPE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MEMORY = re.compile(r"^(\d+(B|K|M|G|KB|MB|GB)|0)(/\d+(B|K|M|G|KB|MB|GB))?$", re.IGNORECASE)
CPU = re.compile(r"^([+-]?\d*\.?\d+m?)(/[+-]?\d*\.?\d+m?)?$")
TAG = re.compile(r"^([A-Za-z0-9][-.\w]{0,61})?[A-Za-z0-9]$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
PROBES = ("livenessProbe", "readinessProbe")

KEY_MESSAGE = "Config keys must start with a letter or underscore and only contain [A-z0-9_]"
PROCTYPE_MESSAGE = "Process types can only contain lowercase alphanumeric characters"
MEMORY_MESSAGE = (
    "Memory limit format: <number><unit> or <number><unit>/<number><unit>, where unit = B, K, M or G"
)
CPU_MESSAGE = "CPU limit format: <value> or <value>/<value>, where value must be a numeric"


def _section(name: str, raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise FieldErrors.one(name, f"{name} must be a JSON object")
    return raw


def _values(data: dict[str, Any]) -> None:
    for key, value in data.items():
        if not CONFIG_KEY.match(key):
            raise FieldErrors.one("values", KEY_MESSAGE)
        if value is None:
            continue
        text = str(value)
        if key == "PORT":
            if not text.isdigit():
                raise FieldErrors.one("values", "PORT can only be a numeric value")
            if not 1 <= int(text) <= 65535:
                raise FieldErrors.one("values", "PORT needs to be between 1 and 65535")
        elif key == "HEALTHCHECK_URL":
            url = urlparse(text)
            if not url.path:
                raise FieldErrors.one("values", f"{key} is missing a URI path (such as /healthz)")
            if url.scheme or url.netloc or url.query or url.fragment or url.params:
                raise FieldErrors.one("values", f"{key} can only be a URI path (such as /healthz)")
        elif key.startswith("HEALTHCHECK_") and not text.isdigit():
            raise FieldErrors.one("values", f"{key} can only be a numeric value")


def _limits(name: str, data: dict[str, Any], pattern: re.Pattern[str], message: str) -> None:
    for key, value in data.items():
        if not PROCTYPE.match(key):
            raise FieldErrors.one(name, PROCTYPE_MESSAGE)
        if value is not None and not pattern.match(str(value)):
            raise FieldErrors.one(name, message)


def _tags(data: dict[str, Any]) -> None:
    for key, value in data.items():
        prefix, _, name = key.rpartition("/")
        if "/" in prefix:
            raise FieldErrors.one("tags", "Tag keys may contain at most one '/'.")
        if prefix:
            if len(prefix) > 253:
                raise FieldErrors.one("tags", "Tag key prefixes must 253 characters or less.")
            if not DNS_SUBDOMAIN.match(prefix):
                raise FieldErrors.one("tags", "Tag key prefixes must be DNS subdomains.")
        if not TAG.match(name):
            raise FieldErrors.one("tags", 'Tag keys must be alphanumeric or "-_.", and 1-63 characters.')
        if value is not None and str(value) and not TAG.match(str(value)):
            raise FieldErrors.one("tags", 'Tag values must be alphanumeric or "-_.", and 1-63 characters.')


def _probe(kind: str, probe: dict[str, Any]) -> None:
    def fail(why: str) -> FieldErrors:
        return FieldErrors.one("healthcheck", f"could not validate {probe}: {why}")

    for field in (
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ):
        if field in probe and (not isinstance(probe[field], int) or isinstance(probe[field], bool)):
            raise fail(f"{field} must be an integer")
    handlers = {"exec", "httpGet", "tcpSocket"}
    for field in probe:
        if field not in handlers and not field.endswith(("Seconds", "Threshold")):
            raise fail(f"unknown field {field}")
    if "exec" in probe:
        command = probe["exec"].get("command") if isinstance(probe["exec"], dict) else None
        if not isinstance(command, list) or not command or not all(isinstance(c, str) for c in command):
            raise fail("exec.command must be a non-empty list of strings")
    for handler in ("httpGet", "tcpSocket"):
        if handler in probe:
            spec = probe[handler]
            if (
                not isinstance(spec, dict)
                or not isinstance(spec.get("port"), int)
                or isinstance(spec.get("port"), bool)
            ):
                raise fail(f"{handler}.port must be an integer")
    if kind == "livenessProbe" and probe.get("successThreshold", 1) != 1:
        raise FieldErrors.one("healthcheck", "livenessProbe successThreshold can only be 1")


def _healthcheck(data: dict[str, Any]) -> None:
    for proctype, probes in data.items():
        if proctype in PROBES:  # the legacy shape, {"livenessProbe": null}, may only unset
            if probes is not None:
                raise FieldErrors.one(
                    "healthcheck", "Healthcheck keys must be either livenessProbe or readinessProbe"
                )
            continue
        if proctype != "web/cmd" and not PROCTYPE.match(proctype):
            raise FieldErrors.one("healthcheck", PROCTYPE_MESSAGE)
        if probes is None:
            continue
        if not isinstance(probes, dict):
            raise FieldErrors.one("healthcheck", f"healthcheck for {proctype} must be an object")
        for kind, probe in probes.items():
            if kind not in PROBES:
                raise FieldErrors.one(
                    "healthcheck", "Healthcheck keys must be either livenessProbe or readinessProbe"
                )
            if probe is None:
                continue
            if not isinstance(probe, dict):
                raise FieldErrors.one("healthcheck", f"could not validate {probe}: not an object")
            _probe(kind, probe)


def parse_request(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The sections a config POST changes, validated; sections absent from the request are left out."""
    sections: dict[str, dict[str, Any]] = {}
    for name in CONFIG_SECTIONS:
        section = _section(name, data.get(name))
        if section is None:
            continue
        if name == "values":
            _values(section)
        elif name == "memory":
            _limits(name, section, MEMORY, MEMORY_MESSAGE)
        elif name == "cpu":
            _limits(name, section, CPU, CPU_MESSAGE)
        elif name == "tags":
            _tags(section)
        elif name == "registry":
            if any(not CONFIG_KEY.match(k) for k in section):
                raise FieldErrors.one("registry", KEY_MESSAGE)
            section = {k.lower(): v for k, v in section.items()}
        elif name == "healthcheck":
            _healthcheck(section)
        sections[name] = section
    return sections


def _merge_healthcheck(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    # Legacy top-level probes (stored, or an old CLI's unset) apply to web and cmd.
    if any(k in base for k in PROBES):
        base = {"web/cmd": {k: v for k, v in base.items() if k in PROBES}}
    if any(k in changes for k in PROBES):
        legacy = {k: v for k, v in changes.items() if k in PROBES}
        changes = {k: v for k, v in changes.items() if k not in PROBES}
        changes["web/cmd"] = {**(changes.get("web/cmd") or {}), **legacy}
    merged = {k: dict(v) for k, v in base.items()}
    for proctype, probes in changes.items():
        # Unsetting what is not there names the process type, whichever probe was asked for
        # (Workflow's text, which its CLI prints).
        missing = f"{proctype} does not exist under healthcheck"
        if probes is None:
            if proctype not in merged:
                raise Unprocessable(missing)
            del merged[proctype]
            continue
        entry = merged.setdefault(proctype, {})
        for kind, probe in probes.items():
            if probe is None:
                if kind not in entry:
                    raise Unprocessable(missing)
                del entry[kind]
            else:
                entry[kind] = probe
    return merged


def _legacy_healthcheck(values: dict[str, Any], healthcheck: dict[str, Any]) -> None:
    if "HEALTHCHECK_URL" not in values:
        return

    def number(key: str, default: int) -> int:
        return int(values.get(key, default))

    probe = {
        "httpGet": {"path": values["HEALTHCHECK_URL"]},
        "initialDelaySeconds": number("HEALTHCHECK_INITIAL_DELAY", 50),
        "timeoutSeconds": number("HEALTHCHECK_TIMEOUT", 50),
        "periodSeconds": number("HEALTHCHECK_PERIOD_SECONDS", 10),
        "successThreshold": number("HEALTHCHECK_SUCCESS_THRESHOLD", 1),
        "failureThreshold": number("HEALTHCHECK_FAILURE_THRESHOLD", 3),
    }
    healthcheck["web/cmd"] = {"livenessProbe": probe, "readinessProbe": dict(probe)}
    for key in [k for k in values if k.startswith("HEALTHCHECK_")]:
        del values[key]


def merge(
    base: Mapping[str, Mapping[str, Any]],
    changes: Mapping[str, Mapping[str, Any]],
    default_tags: Mapping[str, str],
) -> dict[str, dict[str, Any]]:
    """The new config sections: ``base`` with ``changes`` applied."""
    merged: dict[str, Any] = {}
    for name in CONFIG_SECTIONS:
        current = dict(base.get(name) or {})
        if name not in changes:
            merged[name] = current
        elif name == "healthcheck":
            merged[name] = _merge_healthcheck(current, changes[name])
        else:
            merged[name] = apply_changes(name, current, changes[name], str)
    _legacy_healthcheck(merged["values"], merged["healthcheck"])
    if merged["registry"] and "PORT" not in merged["values"]:
        raise BadRequest("PORT needs to be set in the config when using a private registry")
    if not merged["tags"] and default_tags:
        merged["tags"] = dict(default_tags)
    return merged

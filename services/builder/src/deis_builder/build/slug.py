"""Slugs: the built ``/app`` directory as a gzip tarball, and the Procfile that goes with it.

``.slugignore`` patterns (one glob per line, ``#`` comments; a leading ``/`` anchors to the root, a bare
name matches at any depth) and ``.git`` are left out of the slug (spec §2.7).
"""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path
from typing import Any

import yaml

from deis_builder.errors import BuildError
from deis_builder.process import run_streaming

PROCFILE = "Procfile"


def slugignore_patterns(app_dir: Path) -> list[str]:
    path = app_dir / ".slugignore"
    if not path.is_file():
        return []
    patterns = []
    for raw in path.read_text(errors="replace").splitlines():
        line = raw.strip()
        if line and not line.startswith("#") and ".." not in line.split("/"):
            patterns.append(line)
    return patterns


def apply_slugignore(app_dir: Path) -> list[Path]:
    """Remove what ``.slugignore`` names from the build dir; returns the removed paths."""
    removed: list[Path] = []
    root = app_dir.resolve()
    for pattern in slugignore_patterns(app_dir):
        pattern = pattern.rstrip("/")
        if pattern.startswith("/"):
            matches = list(app_dir.glob(pattern.lstrip("/")))
        elif "/" in pattern:
            matches = list(app_dir.glob(pattern))
        else:
            matches = list(app_dir.rglob(pattern))
        for match in matches:
            if not match.resolve().is_relative_to(root) or match.resolve() == root:
                continue
            if match.is_dir() and not match.is_symlink():
                shutil.rmtree(match, ignore_errors=True)
            elif match.exists() or match.is_symlink():
                match.unlink(missing_ok=True)
            removed.append(match)
    return removed


GZIP = "gzip -1"  # a third of the time of the default level for ~15% more bytes, on every push


async def pack(source_dir: Path, dest: Path, compressor: str = GZIP) -> int:
    """Tar ``source_dir``'s contents (without ``.git``) into ``dest``, compressed by ``compressor`` (gzip
    unless told); returns its size."""
    await asyncio.to_thread(dest.parent.mkdir, parents=True, exist_ok=True)
    code, output = await run_streaming(
        [
            "tar",
            "-C",
            str(source_dir),
            "--exclude=./.git",
            # the build user's numbers mean nothing where the slug runs
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            f"--use-compress-program={compressor}",
            "-cf",
            str(dest),
            ".",
        ],
        timeout=600,
    )
    if code != 0:
        raise BuildError(f"Cannot pack the slug: {output.strip()[-300:]}")
    return (await asyncio.to_thread(dest.stat)).st_size


async def unpack(archive: Path, dest_dir: Path) -> None:
    """Extract a tarball, gzip or zstd alike (GNU tar tells them apart by their first bytes)."""
    await asyncio.to_thread(dest_dir.mkdir, parents=True, exist_ok=True)
    code, output = await run_streaming(
        ["tar", "-C", str(dest_dir), "--no-same-owner", "-xf", str(archive)], timeout=600
    )
    if code != 0:
        raise BuildError(f"Cannot unpack {archive.name}: {output.strip()[-300:]}")


def human_size(size: int) -> str:
    """``1.7M`` style sizes, as slugbuilder prints them."""
    value = float(size)
    for unit in ("B", "K", "M", "G"):
        if value < 1024 or unit == "G":
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}G"


def read_procfile(app_dir: Path) -> dict[str, str] | None:
    """The repo's Procfile as a map of process type to command, or None when there is none."""
    path = app_dir / PROCFILE
    if not path.is_file():
        return None
    return parse_procfile(path.read_text(errors="replace"))


_PROCFILE_LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.*)$")


def parse_procfile(text: str) -> dict[str, str]:
    """A Procfile is read as YAML (a map of type to command) as the original builder does; lines YAML
    cannot read (a command containing ``: ``) are read the Heroku way, ``<type>: <command>`` per line."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None
    if isinstance(data, dict) and all(isinstance(v, str | int | float) for v in data.values()):
        return {str(k): str(v) for k, v in data.items()}
    procfile: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _PROCFILE_LINE.match(line)
        if match is None:
            raise BuildError(f"Procfile line {number} is not '<process type>: <command>': {line[:80]}")
        procfile[match.group(1)] = match.group(2).strip()
    return procfile


def default_process_types(release: dict[str, Any]) -> dict[str, str]:
    types = release.get("default_process_types") or {}
    if not isinstance(types, dict):
        return {}
    return {str(k): str(v) for k, v in types.items() if v is not None}


def dump_procfile(procfile: dict[str, str]) -> str:
    if not procfile:
        return "{}\n"
    return yaml.safe_dump(procfile, default_flow_style=False, sort_keys=False)

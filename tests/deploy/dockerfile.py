"""Reading Dockerfiles without Docker: instructions (continuation lines joined, comments dropped, leading
--flags split off, ``${ARG}`` references expanded from the build args), grouped by build stage, the stages
one image is made of, and the build-context filter beside each Dockerfile."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Instruction:
    keyword: str
    flags: dict[str, str]
    args: str


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)


def parse(path: Path, build_args: dict[str, str] | None = None) -> list[Stage]:
    """Stages of a Dockerfile: comments dropped, continuation lines joined, leading --flags split off, and
    ``${NAME}`` replaced by ``build_args[NAME]`` (other references are left as they are)."""
    args = build_args or {}
    logical: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(_expand(pending + line, args))
        pending = ""
    assert not pending, f"{path}: the last instruction ends with a line continuation"
    stages: list[Stage] = []
    for line in logical:
        if line.upper().startswith("ARG ") and not stages:
            continue  # a global ARG, for the FROM lines
        keyword, _, rest = line.partition(" ")
        flags: dict[str, str] = {}
        while rest.startswith("--"):
            flag, _, rest = rest.partition(" ")
            name, _, value = flag[2:].partition("=")
            flags[name] = value
            rest = rest.lstrip()
        keyword = keyword.upper()
        if keyword == "FROM":
            words = rest.split()
            stage_name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=stage_name))
        else:
            assert stages, f"{path}: {keyword} before the first FROM"
            stages[-1].instructions.append(Instruction(keyword, flags, rest))
    return stages


def _expand(line: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda m: args.get(m[1], m[0]), line)


def image_stage(path: Path, build_args: dict[str, str] | None = None) -> Stage:
    """What the image built from ``path`` with ``build_args`` is made of, as one stage: the last stage and
    the stages of this file it starts from (``FROM <stage>``), their instructions in order, the base of the
    first of them, the name of the last one that has a name."""
    stages = parse(path, build_args)
    by_name = {stage.name: stage for stage in stages if stage.name}
    lineage = [stages[-1]]
    while lineage[0].base in by_name:
        lineage.insert(0, by_name[lineage[0].base])
    named = [stage.name for stage in lineage if stage.name]
    instructions = [instruction for stage in lineage for instruction in stage.instructions]
    return Stage(base=lineage[0].base, name=named[-1] if named else None, instructions=instructions)


def ignored_patterns(dockerfile: Path) -> list[str]:
    ignore = dockerfile.with_name(dockerfile.name + ".dockerignore")
    lines = ignore.read_text().splitlines() if ignore.exists() else []
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def is_ignored(relative: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        bare = pattern.removeprefix("**/")
        parts = relative.split("/")
        if fnmatch.fnmatch(relative, pattern) or any(fnmatch.fnmatch(part, bare) for part in parts):
            return True
        if relative == pattern or relative.startswith(pattern.rstrip("/") + "/"):
            return True
    return False


def command_of(instruction: Instruction) -> list[str]:
    args = instruction.args.strip()
    if args.startswith("["):
        words: list[str] = json.loads(args)
        return words
    return shlex.split(args)

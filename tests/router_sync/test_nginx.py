"""The nginx adapter's own pieces: private files, finding workers, explaining a refused config."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from deis_router_sync.nginx import _children, _children_by_parent, _explain, write_private
from deis_router_sync.render import Paths


def test_private_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    target = tmp_path / "site.key"
    target.write_text("old")
    target.chmod(0o644)

    write_private(target, "secret")

    assert target.read_text() == "secret"
    assert target.stat().st_mode & 0o777 == 0o600


async def test_workers_are_found_with_and_without_the_children_file() -> None:
    child = await asyncio.create_subprocess_exec("sleep", "30")
    try:
        assert child.pid in _children(os.getpid())
        assert child.pid in _children_by_parent(os.getpid())
    finally:
        child.kill()
        await child.wait()


def test_a_refusal_names_the_live_config_not_the_candidate(tmp_path: Path) -> None:
    paths = Paths(tmp_path)
    output = (
        f'nginx: [emerg] unknown directive "bogus" in {paths.candidate}:3\n'
        f"nginx: configuration file {paths.candidate} test failed\n"
    )

    assert _explain(output, paths) == 'nginx: [emerg] unknown directive "bogus" in nginx.conf:3'

"""The bare git repositories the builder receives pushes into (``<data dir>/repos/<app>.git``).

Each repository's ``hooks/pre-receive`` is rewritten before every push: it hands the ref updates to
the builder over the hook socket (:mod:`deis_builder.push.hookclient`) and fails when the build or deploy
fails, so git leaves the refs untouched.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from deis_builder.errors import BuildError
from deis_builder.process import run_streaming

PRE_RECEIVE = """#!/bin/sh
# Written by the builder before every push: builds run before git updates any ref.
exec {python} -m deis_builder.push.hookclient
"""


class Repos:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, app: str) -> Path:
        return self.root / f"{app}.git"

    def exists(self, app: str) -> bool:
        return (self.path(app) / "HEAD").is_file()

    async def ensure(self, app: str) -> Path:
        """Create the bare repository if it is missing and (re)write its pre-receive hook."""
        repo = self.path(app)
        if not self.exists(app):
            self.root.mkdir(parents=True, exist_ok=True)
            code, output = await run_streaming(["git", "init", "--quiet", "--bare", str(repo)], timeout=60)
            if code != 0:
                raise BuildError(f"cannot create the repository for {app}: {output.strip()}")
        hook = repo / "hooks" / "pre-receive"
        hook.parent.mkdir(parents=True, exist_ok=True)
        hook.write_text(PRE_RECEIVE.format(python=shlex.quote(sys.executable)))
        hook.chmod(0o755)
        return repo

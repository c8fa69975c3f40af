"""buildah as the builder uses it: its own image storage under the data dir, image configs, and image root
filesystems exported as tarballs the scheduler can run without Docker.

Shared by Dockerfile builds (:mod:`deis_builder.dockerfile`) and image pulls (:mod:`deis_builder.pull`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deis_builder import slug
from deis_builder.errors import BuildError
from deis_builder.sandbox import LineSink, run_streaming
from deis_common.events.state import ImageConfig


def image_config(inspect: dict[str, Any]) -> ImageConfig:
    """What ``buildah inspect --type image`` says about running the image."""
    config = (inspect.get("OCIv1") or {}).get("config") or {}
    env: dict[str, str] = {}
    for item in config.get("Env") or []:
        key, _, value = str(item).partition("=")
        env[key] = value
    ports = []
    for spec in config.get("ExposedPorts") or {}:
        port = str(spec).split("/", 1)[0]
        if port.isdigit():
            ports.append(int(port))
    return ImageConfig(
        entrypoint=list(config.get("Entrypoint") or []),
        cmd=list(config.get("Cmd") or []),
        env=env,
        workdir=str(config.get("WorkingDir") or ""),
        user=str(config.get("User") or ""),
        exposed_ports=sorted(ports),
    )


class Buildah:
    def __init__(self, data_dir: Path, storage_driver: str) -> None:
        self._root = data_dir / "buildah"
        self._driver = storage_driver

    def command(self, *args: str) -> list[str]:
        return [
            "buildah",
            "--root",
            str(self._root / "storage"),
            "--runroot",
            str(self._root / "run"),
            "--storage-driver",
            self._driver,
            *args,
        ]

    async def run(
        self, *args: str, on_line: LineSink | None = None, failure: str | None = None, timeout: float = 120
    ) -> str:
        """Run ``buildah <args>``; a failure raises :class:`BuildError` with ``failure`` (or buildah's
        own last words) as the reason."""
        code, output = await run_streaming(self.command(*args), on_line=on_line, timeout=timeout)
        if code != 0:
            if failure is not None:
                raise BuildError(failure.format(code=code))
            raise BuildError(f"buildah {args[0]} failed: {output.strip()[-300:]}")
        return output

    async def inspect(self, image: str) -> ImageConfig:
        return image_config(json.loads(await self.run("inspect", "--type", "image", image)))

    async def export_rootfs(self, image: str, dest: Path) -> int:
        """The image's root filesystem as a gzip tarball of ``/``; returns its size."""
        container = (await self.run("from", "--pull-never", image)).strip().splitlines()[-1]
        try:
            mount = (await self.run("mount", container)).strip().splitlines()[-1]
            return await slug.pack(Path(mount), dest)
        finally:
            await run_streaming(self.command("umount", container), timeout=60)
            await run_streaming(self.command("rm", container), timeout=60)

    async def remove(self, image: str) -> None:
        await run_streaming(self.command("rmi", "--force", image), timeout=120)

    async def pull(self, reference: str, creds: str | None = None) -> str:
        """Pull ``reference`` (any transport buildah knows); returns the local image id."""
        args = ["pull", "--quiet", *(["--creds", creds] if creds else []), reference]
        code, output = await run_streaming(self.command(*args), timeout=900)
        lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
        if code != 0 or not lines:
            reason = lines[-1].removeprefix("Error: ") if lines else f"buildah exited with code {code}"
            raise BuildError(f"Cannot pull the image {reference}: {reason}")
        return lines[-1]

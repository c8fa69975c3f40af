"""Small but real image root filesystems for tests: Debian's python3 and bash with their libraries, and one
with nothing but a POSIX sh (like alpine or busybox images: no bash).

Image releases (Dockerfile builds and ``deis pull``) reach the local backend as a root filesystem tarball in
the store plus the image's config. This builds such a tarball from this machine's own binaries (resolved
with ``ldd``) and standard library, without the parts no test needs, once per test session.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
from pathlib import Path

BINARIES = ("/usr/bin/python3.11", "/usr/bin/bash", "/usr/bin/cat", "/usr/bin/ls", "/usr/bin/sleep")
STDLIB = Path("/usr/lib/python3.11")
SKIP = {"test", "idlelib", "tkinter", "ensurepip", "lib2to3", "pydoc_data", "turtledemo", "__pycache__",
        "site-packages", "dist-packages", "distutils", "unittest"}  # fmt: skip

SERVER = """
import http.server, os

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"{os.environ['GREETING']} in {os.getcwd()} on {os.environ['PORT']}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

print("image server up", flush=True)
http.server.HTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
"""


def _libraries(binary: str) -> set[str]:
    output = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"(/\S+\.so[.\d]*)", output))


def build_rootfs(target: Path) -> Path:
    """Write ``rootfs.tar`` under ``target`` and return its path."""
    root = target / "rootfs"
    files: set[str] = set(BINARIES)
    for binary in BINARIES:
        files |= _libraries(binary)
    for name in sorted(files):
        destination = root / name.lstrip("/")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(Path(name).resolve(), destination)
    shutil.copytree(
        STDLIB,
        root / STDLIB.relative_to("/"),
        symlinks=True,
        ignore=lambda d, names: SKIP.intersection(names),
    )
    (root / "usr/bin/python3").symlink_to("python3.11")
    (root / "bin").mkdir(exist_ok=True)
    (root / "bin/bash").symlink_to("/usr/bin/bash")
    for mountpoint in ("proc", "dev", "tmp", "srv/app", "etc", "run", "var/cache"):
        (root / mountpoint).mkdir(parents=True, exist_ok=True)
    (root / "srv/app/server.py").write_text(SERVER)
    archive = target / "rootfs.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(root, arcname=".")
    shutil.rmtree(root)
    return archive


SH_ONLY = {"/bin/sh": "/usr/bin/dash", "/usr/bin/env": "/usr/bin/env", "/bin/sleep": "/usr/bin/sleep"}


def build_sh_rootfs(target: Path) -> Path:
    """Write ``sh-rootfs.tar`` (``/bin/sh``, ``env`` and ``sleep``, no bash) under ``target``; its path."""
    root = target / "sh-rootfs"
    libraries: set[str] = set()
    for inside, host in SH_ONLY.items():
        destination = root / inside.lstrip("/")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(Path(host).resolve(), destination)
        libraries |= _libraries(host)
    for name in sorted(libraries):
        destination = root / name.lstrip("/")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(Path(name).resolve(), destination)
    assert not (root / "bin/bash").exists()
    archive = target / "sh-rootfs.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(root, arcname=".")
    shutil.rmtree(root)
    return archive

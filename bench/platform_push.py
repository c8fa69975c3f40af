"""The embedded platform as a user feels it: `git push` until the new version answers through the router.

Starts a platform with the launcher in a temporary data dir, registers a user, creates an app and measures:
- first push of a Python (Flask + gunicorn) app: push start -> page served by the router;
- a code-only second push (the dependency cache is warm): push start -> new code served;
- requests per second through the router to that app (wrk, 4 connections, 10 s).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.e2e.platform import Platform, User, started_platform, wait_until


def timed_push(user: User, platform: Platform, repo: Path, expect: str) -> float:
    started = time.monotonic()
    result = user.push(repo)
    assert result.code == 0, result.text
    wait_until(lambda: expect in platform.get("bench.localhost")[1], timeout=120, interval=0.05, what=expect)
    return time.monotonic() - started


@contextlib.contextmanager
def bench_platform() -> Iterator[tuple[Platform, User, Path]]:
    """A platform started by the launcher in a temporary data dir, with a registered user who has a key."""
    root = Path(tempfile.mkdtemp(prefix="deis-bench-"))
    try:
        with started_platform("deis-bench-platform-") as platform:
            user = User("bench", root / "home", platform)
            user.ok(
                "register",
                platform.controller,
                "--username=bench",
                "--password=bench-pass",
                "--email=b@example.com",
            )
            user.ok("keys:add", str(user.key) + ".pub")
            yield platform, user, root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    with bench_platform() as (platform, user, root):
        repo = user.checkout("python-web", root)
        user.ok("create", "bench", cwd=repo)

        first = timed_push(user, platform, repo, "code=one")
        (repo / "app.py").write_text((repo / "app.py").read_text().replace('"one"', '"two"'))
        user.commit_all(repo, "code only")
        second = timed_push(user, platform, repo, "code=two")

        print(f"first push -> served through the router:     {first:6.1f} s")
        print(f"code-only push -> served through the router:  {second:6.1f} s")
        rps = router_rps(platform)
        if rps is not None:
            print(f"requests/s through the router (wrk -c4 10s):  {rps:8.0f}")


def router_rps(platform: Platform) -> float | None:
    if shutil.which("wrk") is None:
        print("wrk not installed (make deps installs it); skipping throughput")
        return None
    port = platform.ports["router_http"]
    out = subprocess.run(
        ["wrk", "-t2", "-c4", "-d10s", "-H", f"Host: bench.localhost:{port}", f"http://127.0.0.1:{port}/"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(match.group(1)) if match else None


if __name__ == "__main__":
    main()

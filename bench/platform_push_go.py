"""Workflow's example-go on the embedded platform: `git push` until the new version answers (router).

Starts a platform with the launcher (as ``platform_push`` does), creates an app from
``tests/builder/apps/example-go`` (Godeps, ``web: example-go``) and measures:
- the first push: the Go buildpack compiles the standard library into the app's empty build cache;
- a code-only second push (the build cache is reused as it is, neither packed nor uploaded):
  push start -> new code served. Target: at most 2 s.

Run: ``uv run python -m bench platform_push_go`` (env BENCH_ROUNDS: code-only pushes to time, default 3).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from bench.platform_push import bench_platform, timed_push

EXAMPLE_GO = Path(__file__).parents[1] / "tests" / "builder" / "apps" / "example-go"


def main() -> None:
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    with bench_platform() as (platform, user, root):
        repo = root / "example-go"
        shutil.copytree(EXAMPLE_GO, repo)
        web = repo / "web.go"
        web.write_text(web.read_text().replace("Powered by Deis", "Powered by Deis, round 0"))
        user.git("init", "-q", "-b", "main", cwd=repo)
        user.commit_all(repo, "first version")
        user.ok("create", "bench", cwd=repo)

        first = timed_push(user, platform, repo, "round 0")
        print(f"first push -> served through the router:     {first:6.1f} s", flush=True)
        times = []
        for n in range(1, rounds + 1):
            web.write_text(web.read_text().replace(f"round {n - 1}", f"round {n}"))
            user.commit_all(repo, f"code only, round {n}")
            times.append(timed_push(user, platform, repo, f"round {n}"))
        listed = ", ".join(f"{t:.2f}" for t in times)
        print(f"code-only push -> served through the router:  {min(times):6.2f} s best ({listed})")

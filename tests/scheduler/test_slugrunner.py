"""The slugrunner image's init script: fetches a slug from a real S3 server (signed), then runs a process."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from deis_common.settings import S3Settings, StoreSettings
from deis_common.store import open_store
from deis_common.testing.s3 import ACCESS_KEY, SECRET_KEY
from tests.scheduler.apps import slug_bytes

INIT = Path(__file__).parents[2] / "deploy" / "images" / "slugrunner" / "init"

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap"),
]


async def run_init(
    tmp_path: Path, endpoint: str, *args: str, slug: str = "home/runme:git-1a2b3c4d/push/slug.tgz"
) -> tuple[int, str]:
    """Run /runner/init in a sandbox shaped like the slugrunner container (empty writable /app)."""
    app, creds = tmp_path / "app", tmp_path / "creds"
    app.mkdir(exist_ok=True)
    creds.mkdir(exist_ok=True)
    (creds / "accesskey").write_text(ACCESS_KEY)
    (creds / "secretkey").write_text(SECRET_KEY)
    argv = [
        "bwrap", "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
        "--symlink", "usr/lib64", "/lib64", "--ro-bind", "/etc", "/etc", "--proc", "/proc", "--dev", "/dev",
        "--tmpfs", "/tmp", "--bind", str(app), "/app", "--ro-bind", str(INIT), "/runner/init",
        "--ro-bind", str(creds), "/creds", "--unshare-pid", "--die-with-parent", "/runner/init", *args,
    ]  # fmt: skip
    env = {
        "PATH": "/usr/bin:/bin",
        "SLUG_URL": slug,
        "DEIS_STORE_ENDPOINT": endpoint,
        "DEIS_STORE_BUCKET": "acme-builder",
        "DEIS_STORE_REGION": "us-east-1",
        "DEIS_STORE_CREDS": "/creds",
        "GREETING": "bonjour",
    }
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


@pytest.fixture
async def stored_slug(s3_endpoint: str) -> str:
    settings = StoreSettings(
        driver="s3",
        s3=S3Settings(
            endpoint=s3_endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY, bucket_prefix="acme-"
        ),
    )
    store = open_store(settings)
    files = {
        "Procfile": 'web: echo "web says $GREETING from $(pwd) as $PROFILE_SOURCED"\n',
        ".profile.d/setup.sh": "export PROFILE_SOURCED=profiled\n",
    }
    await store.put("builder", "home/runme:git-1a2b3c4d/push/slug.tgz", slug_bytes(files))
    await store.close()
    return s3_endpoint


async def test_init_fetches_the_slug_and_starts_the_procfile_type(stored_slug: str, tmp_path: Path) -> None:
    code, output = await run_init(tmp_path, stored_slug, "start", "web")

    assert code == 0, output
    assert "web says bonjour from /app as profiled" in output
    assert (tmp_path / "app" / "Procfile").exists()


async def test_init_runs_a_one_off_command_and_passes_its_exit_code(stored_slug: str, tmp_path: Path) -> None:
    code, output = await run_init(tmp_path, stored_slug, "echo $PROFILE_SOURCED; exit 4")

    assert code == 4 and "profiled" in output


async def test_init_fails_clearly_for_a_missing_process_type(stored_slug: str, tmp_path: Path) -> None:
    code, output = await run_init(tmp_path, stored_slug, "start", "worker")

    assert code == 1 and "the Procfile has no 'worker' process type" in output


async def test_init_fails_clearly_when_the_slug_is_missing(s3_endpoint: str, tmp_path: Path) -> None:
    code, output = await run_init(tmp_path, s3_endpoint, "start", "web", slug="home/gone:git-0/push/slug.tgz")

    assert code != 0 and "cannot fetch the slug" in output
    assert os.listdir(tmp_path / "app") == []

"""Test apps and releases: real slugs of a tiny Python web app, stored in a real fs store."""

from __future__ import annotations

import io
import tarfile
import textwrap
from datetime import UTC, datetime
from typing import Any

from deis_common.events.state import AppState, BuildArtifact
from deis_common.store import ObjectStore
from deis_common.testing import reach

SERVER = textwrap.dedent(
    """
    import http.server, os, socket, sys, urllib.parse

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            if url.path == "/read":
                try:
                    with open(query["path"]) as f:
                        body = "read:" + f.read(200)
                except OSError as e:
                    body = "denied:" + type(e).__name__
            elif url.path == "/alloc":
                hog = bytearray(int(query["mb"]) * 1024 * 1024)
                for i in range(0, len(hog), 4096):
                    hog[i] = 1
                body = "allocated"
            elif url.path == "/exit":
                print("exiting on request", flush=True)
                os._exit(3)
            elif url.path == "/connect":
                try:
                    socket.create_connection((query["host"], int(query["port"])), timeout=1).close()
                    body = "connected"
                except OSError as e:
                    body = "failed:" + type(e).__name__
            elif url.path == "/whoami":
                body = f"uid={os.getuid()} pid={os.getpid()} tmp={os.listdir('/tmp')}"
            else:
                body = f"{os.environ.get('GREETING', 'hello')} from {os.environ['WORKFLOW_RELEASE']}"
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, fmt, *args):
            print("request " + fmt % args, flush=True)

    print(f"listening on {os.environ['PORT']}", flush=True)
    http.server.ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
    """
)

# Like gunicorn whose worker cannot import the app: the port is bound (connections are accepted), nothing
# ever answers, and the master exits soon after.
BIND_THEN_DIE = """
import os, socket, sys, time
listener = socket.create_server(("0.0.0.0", int(os.environ["PORT"])))
print("Listening at", os.environ["PORT"], flush=True)
time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 0.5)
print("Worker failed to boot.", flush=True)
sys.exit(3)
"""

# Answers HTTP for a moment (with whatever status), then falls over.
ANSWER_THEN_DIE = """
import http.server, os, sys, threading
status = int(os.environ.get("STATUS", "200"))

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

server = http.server.ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler)
lifetime = float(os.environ.get("LIFETIME", "0"))
if lifetime:
    threading.Timer(lifetime, lambda: (print("crashing now", flush=True), os._exit(4))).start()
server.serve_forever()
"""

WORKER = "import time\nprint('worker up', flush=True)\nwhile True: time.sleep(1)\n"


def slug_bytes(files: dict[str, str]) -> bytes:
    """A slug: a gzipped tarball of /app's contents."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(data)
            info.mode = 0o755 if name.startswith("bin/") else 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


PROCFILE = {"web": "python3 server.py", "worker": "python3 worker.py"}


async def web_release(
    store: ObjectStore,
    app: str,
    *,
    version: int = 2,
    generation: int | None = None,
    structure: dict[str, int] | None = None,
    env: dict[str, str] | None = None,
    procfile: dict[str, str] | None = None,
    memory: dict[str, str] | None = None,
    healthchecks: dict[str, dict[str, Any]] | None = None,
    sha: str = "1a2b3c4d",
) -> AppState:
    """Store a slug of the test web app and return the desired state of a release running it."""
    procfile = procfile or PROCFILE
    key = f"home/{app}:git-{sha}/push/slug.tgz"
    files = {
        "server.py": SERVER,
        "worker.py": WORKER,
        "probe.py": reach.PROBE,
        "bind_then_die.py": BIND_THEN_DIE,
        "answer_then_die.py": ANSWER_THEN_DIE,
        "Procfile": "".join(f"{k}: {v}\n" for k, v in procfile.items()),
        ".profile.d/greeting.sh": "export PROFILE_SOURCED=yes\n",
    }
    await store.put("builder", key, slug_bytes(files))
    return AppState(
        app=app,
        generation=generation if generation is not None else version,
        version=version,
        build=BuildArtifact(kind="buildpack", location=key, sha=sha, procfile=procfile),
        env=env or {},
        structure=structure if structure is not None else {"web": 1},
        memory=memory or {},
        healthchecks=healthchecks or {},
        summary=f"tester deployed {sha[:7]}",
        created_at=datetime.now(UTC),
    )

"""The pre-receive hook process: hands the push to the builder and prints what it says.

git runs this (through ``hooks/pre-receive``) with the ref updates on stdin. It connects to the
builder's hook socket, sends the updates, the push token and the quarantine environment, prints every
line it gets back (stdout lines start with ESC[1G so they overwrite the client's ``remote:`` prefix)
and exits with the builder's verdict. Standard library only: it starts for every push.
"""

from __future__ import annotations

import json
import os
import socket
import sys

GIT_ENV = ("GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_QUARANTINE_PATH")


def _write(stream: object, text: str) -> None:
    try:
        stream.write(text + "\n")  # type: ignore[attr-defined]
        stream.flush()  # type: ignore[attr-defined]
    except (BrokenPipeError, OSError):
        pass  # the client went away; the build goes on and its outcome still decides the refs


def main() -> int:
    socket_path = os.environ.get("DEIS_BUILDER_HOOK_SOCKET")
    token = os.environ.get("DEIS_PUSH_TOKEN")
    if not socket_path or not token:
        _write(sys.stderr, "This repository only accepts pushes through the builder.")
        return 1
    updates = [line.split() for line in sys.stdin.read().splitlines() if line.strip()]
    request = {
        "token": token,
        "updates": updates,
        "env": {name: os.environ[name] for name in GIT_ENV if name in os.environ},
    }
    try:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(socket_path)
    except OSError as e:
        _write(sys.stderr, f"The builder is not answering: {e}")
        return 1
    with conn:
        conn.sendall(json.dumps(request).encode() + b"\n")
        for raw in conn.makefile("rb"):
            message = json.loads(raw)
            if "exit" in message:
                return int(message["exit"])
            if message.get("fd") == 2:
                _write(sys.stderr, message.get("line", ""))
            else:
                _write(sys.stdout, "\x1b[1G" + message.get("line", ""))
    _write(sys.stderr, "The builder stopped answering before the build finished.")
    return 1


if __name__ == "__main__":
    sys.exit(main())

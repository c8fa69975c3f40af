"""On a terminal `deis` adds colour and a progress spinner; piped output stays plain."""

from __future__ import annotations

import asyncio
import shlex

from conftest import DEIS


async def on_terminal(workspace, *args: str) -> str:
    """Run `deis` under a pseudo-terminal (util-linux `script`) and return what the terminal got."""
    command = " ".join(shlex.quote(a) for a in (DEIS, *args))
    proc = await asyncio.create_subprocess_exec(
        "script",
        "-qec",
        command,
        "/dev/null",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=workspace.cwd,
        env={**workspace.env, "TERM": "xterm-256color"},
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return out.decode()


async def test_headers_are_coloured_and_slow_calls_spin_only_on_a_terminal(deis, admin, workspace) -> None:
    assert (await deis("create", "shiny", "--no-remote")).ok
    listed = await on_terminal(workspace, "apps")
    assert "\x1b[" in listed and "=== Apps" in listed
    assert "\x1b[" not in (await deis("apps")).stdout

    configured = await on_terminal(workspace, "config:set", "A=1", "-a", "shiny")
    assert "Creating config... ...\b\b\b" in configured
    piped = await deis("config:set", "B=2", "-a", "shiny")
    assert piped.stdout.startswith("Creating config... done\n")

    failed = await on_terminal(workspace, "info", "-a", "missing")
    assert "\x1b[1;31mError: \x1b[0m" in failed


async def test_config_pull_writes_dotenv_on_a_terminal_and_keeps_an_existing_one(
    deis, admin, workspace
) -> None:
    assert (await deis("create", "pully", "--no-remote")).ok
    assert (await deis("config:set", "FOO=bar", "HELLO=world", "-a", "pully")).ok
    await on_terminal(workspace, "config:pull", "-a", "pully")
    dotenv = workspace.cwd / ".env"
    assert dotenv.read_text() == "FOO=bar\nHELLO=world\n"

    dotenv.write_text("FOO=local\n")
    refused = await on_terminal(workspace, "config:pull", "-a", "pully")
    assert ".env already exists, pass -o to overwrite" in refused
    assert dotenv.read_text() == "FOO=local\n"
    await on_terminal(workspace, "config:pull", "-a", "pully", "-o")
    assert dotenv.read_text() == "FOO=bar\nHELLO=world\n"

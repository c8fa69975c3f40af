"""config and .env files, driven through the installed `deis` against a real controller."""

from __future__ import annotations


async def test_config_set_list_and_unset(deis, admin) -> None:
    assert (await deis("create", "conf", "--no-remote")).ok
    result = await deis("config:set", "FOO=bar", "GREETING=hello world", "-a", "conf")
    assert result.ok, result
    assert result.stdout.startswith("Creating config... done")
    assert result.stdout.endswith("=== conf Config\nFOO           bar\nGREETING      hello world\n")

    assert (await deis("config", "-a", "conf", "--oneline")).stdout == "FOO=bar GREETING=hello world\n"
    assert (await deis("config:list", "-a", "conf", "--diff")).stdout == "FOO=bar\nGREETING=hello world\n"

    unset = await deis("config:unset", "FOO", "-a", "conf")
    assert unset.stdout == "Removing config... done\n\n=== conf Config\nGREETING      hello world\n", unset
    missing = await deis("config:unset", "FOO", "-a", "conf")
    assert missing.returncode == 1
    assert missing.stderr == "Error: 422 Unprocessable Entity\nFOO does not exist under values\n"


async def test_config_set_rejects_malformed_pairs_before_calling_the_controller(deis, admin) -> None:
    result = await deis("config:set", "NOEQUALS", "-a", "whatever")
    assert result.returncode == 1
    assert result.stderr == "Error: 'NOEQUALS' does not match the pattern 'key=var', ex: MODE=test\n"
    bad_port = await deis("create", "ports", "--no-remote")
    assert bad_port.ok
    refused = await deis("config:set", "PORT=http", "-a", "ports")
    assert refused.returncode == 1
    assert "PORT can only be a numeric value" in refused.stderr


async def test_config_push_reads_dotenv_and_pull_prints_it_when_piped(deis, admin, workspace) -> None:
    assert (await deis("create", "envy", "--no-remote")).ok
    (workspace.cwd / ".env").write_text("# comment\r\nDATABASE_URL=postgres://db/envy\r\nWORKERS=4\r\n\r\n")
    pushed = await deis("config:push", "-a", "envy")
    assert pushed.ok, pushed
    assert "DATABASE_URL      postgres://db/envy" in pushed.stdout

    (workspace.cwd / "other.env").write_text("MODE=test\n")
    assert (await deis("config:push", "-a", "envy", "--path=other.env")).ok
    pulled = await deis("config:pull", "-a", "envy")
    assert pulled.stdout == "DATABASE_URL=postgres://db/envy\nMODE=test\nWORKERS=4\n"

    from_stdin = await deis("config:push", "-a", "envy", cwd=workspace.home, input="FROM_STDIN=yes\n")
    assert from_stdin.ok, from_stdin
    assert "FROM_STDIN=yes" in (await deis("config", "-a", "envy", "--diff")).stdout

    missing = await deis("config:push", "-a", "envy", "--path=nope.env")
    assert missing.returncode == 1
    assert missing.stderr == "Error: Could not read nope.env: No such file or directory\n"

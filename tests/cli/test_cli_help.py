"""Help reads well for every command: `deis --help`, `deis help <group>`, `deis <cmd> --help`."""

from __future__ import annotations

import pytest

from deis_cli.cli import ALL_GROUPS
from deis_cli.commands import GROUPS
from deis_cli.shortcuts_table import SHORTCUTS

COMMANDS = [c.name for g in ALL_GROUPS for c in g.commands]
GROUP_NAMES = [g.name for g in ALL_GROUPS if g.name not in COMMANDS]
TARGET_SUMMARY = {c.name: (c.help or "").splitlines()[0] for g in ALL_GROUPS for c in g.commands}


def test_the_cli_has_24_groups_78_subcommands_and_18_shortcuts() -> None:
    assert len(GROUPS) == 24
    assert sum(len(g.commands) for g in GROUPS) == 78
    assert len(SHORTCUTS) == 18


@pytest.mark.parametrize("command", COMMANDS)
async def test_every_command_explains_itself_with_help(deis, command: str) -> None:
    result = await deis(command, "--help")
    assert result.ok, result
    assert f"Usage: deis {command}" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("group", GROUP_NAMES)
async def test_every_group_lists_its_commands(deis, group: str) -> None:
    result = await deis("help", group)
    assert result.ok, result
    assert f"Valid commands for {group}:" in result.stdout


async def test_a_bare_group_help_is_the_group_listing_and_short_h_works(deis) -> None:
    assert "Valid commands for apps:" in (await deis("apps", "--help")).stdout
    assert "Usage: deis apps:create" in (await deis("apps:create", "-h")).stdout


async def test_the_main_help_lists_every_command(deis) -> None:
    result = await deis("--help")
    assert result.ok
    for command in COMMANDS:
        assert command in result.stdout
    assert (await deis()).stdout == result.stdout
    assert (await deis("help")).stdout == result.stdout


async def test_config_help_keeps_the_wording_scripts_match(deis) -> None:
    assert "Valid commands for config:" in (await deis("help", "config")).stdout
    assert "Lists environment variables for an application." in (await deis("config:list", "--help")).stdout


@pytest.mark.parametrize(("shortcut", "target"), sorted(SHORTCUTS.items()))
async def test_shortcuts_show_the_help_of_their_command(deis, shortcut: str, target: str) -> None:
    result = await deis("help", shortcut)
    assert result.ok, result
    assert TARGET_SUMMARY[target][:40] in result.stdout


async def test_shortcuts_list_prints_every_alias(deis) -> None:
    result = await deis("shortcuts")
    assert result.ok
    for shortcut, target in SHORTCUTS.items():
        assert f"{shortcut}" in result.stdout and target in result.stdout


async def test_version_prints_the_client_version(deis) -> None:
    from deis_cli import __version__

    assert (await deis("version")).stdout.strip() == f"v{__version__}"
    assert (await deis("-v")).stdout.strip() == f"v{__version__}"


async def test_a_wrong_option_is_an_error_with_exit_code_1(deis) -> None:
    result = await deis("apps:list", "--nope")
    assert result.returncode == 1
    assert "Error: No such option" in result.stderr


async def test_completion_prints_a_bash_script_and_completes_commands(deis) -> None:
    result = await deis("completion", "bash")
    assert result.ok
    assert "_DEIS_COMPLETE" in result.stdout
    env = {"_DEIS_COMPLETE": "bash_complete", "COMP_WORDS": "deis apps:c", "COMP_CWORD": "1"}
    assert (await deis(env=env)).stdout.split() == ["plain,apps:create"]
    env = {"_DEIS_COMPLETE": "bash_complete", "COMP_WORDS": "deis config:set --a", "COMP_CWORD": "2"}
    assert (await deis(env=env)).stdout.split() == ["plain,--app"]

"""The builder's rules on what clients send: repository names, Procfiles, .slugignore, Dockerfiles,
push locks and settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from deis_builder.build.buildpacks.runner import check_buildpack_url
from deis_builder.build.dockerfile import check_dockerfile, with_build_args
from deis_builder.build.images import image_config
from deis_builder.build.pull import check_reference
from deis_builder.build.slug import apply_slugignore, human_size, parse_procfile
from deis_builder.errors import BuildError
from deis_builder.names import InvalidRepo, repo_name
from deis_builder.push.locks import PushLocks
from deis_builder.settings import Settings


@pytest.mark.parametrize(
    ("raw", "app"),
    [("'myapp.git'", "myapp"), ("'/myapp.git'", "myapp"), ("myapp", "myapp"), ('"/my-app"', "my-app")],
)
def test_repository_names_are_stripped_to_the_app_id(raw: str, app: str) -> None:
    assert repo_name(raw) == app


@pytest.mark.parametrize("raw", ["''", "'../etc.git'", "'a/../b.git'", "'/'", "'My_App.git'", "'a/b.git'"])
def test_repository_names_that_cannot_be_apps_are_refused(raw: str) -> None:
    with pytest.raises(InvalidRepo):
        repo_name(raw)


def test_a_procfile_is_read_as_yaml_or_line_by_line() -> None:
    assert parse_procfile("web: gunicorn app:app\nworker: python w.py\n") == {
        "web": "gunicorn app:app",
        "worker": "python w.py",
    }
    assert parse_procfile("web: printf 'a: b' | nc -l $PORT\n# comment\n") == {
        "web": "printf 'a: b' | nc -l $PORT"
    }
    assert parse_procfile("") == {}


def test_a_procfile_that_is_not_a_map_is_refused() -> None:
    with pytest.raises(BuildError, match="Procfile line 1"):
        parse_procfile("just a command\n")


def test_slugignore_removes_anchored_and_anywhere_patterns(tmp_path: Path) -> None:
    for rel in ("docs/a.md", "src/b.md", "src/keep.py", "tests/t.py", "src/tests/u.py", "log/x.log"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    (tmp_path / ".slugignore").write_text("# docs\n*.md\n/tests\nlog/*.log\n../outside\n")
    apply_slugignore(tmp_path)
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert left == [".slugignore", "src/keep.py", "src/tests/u.py"]


def test_slug_sizes_read_like_slugbuilder_prints_them() -> None:
    assert human_size(512) == "512B"
    assert human_size(1782579) == "1.7M"


def test_an_unknown_dockerfile_instruction_is_named_like_docker_does() -> None:
    with pytest.raises(BuildError, match=r"^Unknown instruction: BOGUS$"):
        check_dockerfile("FROM scratch\nbogus stuff\n")
    with pytest.raises(BuildError, match="must start with a FROM"):
        check_dockerfile("# nothing\nCOPY a /a\n")
    check_dockerfile('ARG BASE=scratch\nFROM $BASE\nRUN echo a \\\n  && echo b\nCMD ["/a"]\n')


def test_build_args_follow_every_from_line() -> None:
    out = with_build_args("FROM a AS build\nRUN x\nFROM scratch\nCOPY --from=build /x /x\n", ["K1", "K2"])
    assert out.splitlines() == [
        "FROM a AS build",
        "ARG K1",
        "ARG K2",
        "RUN x",
        "FROM scratch",
        "ARG K1",
        "ARG K2",
        "COPY --from=build /x /x",
    ]


def test_the_image_config_says_how_to_run_the_image() -> None:
    config = image_config(
        {
            "OCIv1": {
                "config": {
                    "Entrypoint": ["/bin/app"],
                    "Cmd": ["--serve"],
                    "Env": ["PATH=/bin", "A=b=c"],
                    "WorkingDir": "/srv",
                    "User": "1000",
                    "ExposedPorts": {"8080/tcp": {}, "53/udp": {}},
                }
            }
        }
    )
    assert config.entrypoint == ["/bin/app"] and config.cmd == ["--serve"]
    assert config.env == {"PATH": "/bin", "A": "b=c"}
    assert (config.workdir, config.user, config.exposed_ports) == ("/srv", "1000", [53, 8080])


def test_a_buildpack_url_may_not_reach_into_the_builders_own_data(tmp_path: Path) -> None:
    private = [tmp_path / "builder", tmp_path / "store"]
    for url in (f"file://{tmp_path}/builder/repos/other.git", f"{tmp_path}/store/builder", "--upload-pack=x"):
        with pytest.raises(BuildError):
            check_buildpack_url(url, private)
    for url in (
        "https://github.com/heroku/heroku-buildpack-python.git",
        "git@github.com:heroku/heroku-buildpack-nodejs.git",
        f"file://{tmp_path}/elsewhere/pack.git",
    ):
        check_buildpack_url(url, private)


def test_an_image_reference_may_not_read_the_builders_own_data(tmp_path: Path) -> None:
    private = [tmp_path / "builder"]
    for reference in (
        f"oci-archive:{tmp_path}/builder/x.tar",
        f"dir:{tmp_path}/builder/buildah",
        "containers-storage:localhost/other:git-1234abcd",
        "nginx latest",
        "",
    ):
        with pytest.raises(BuildError):
            check_reference(reference, private)
    for reference in ("docker://registry.example/app:1", "nginx:1.27", f"oci-archive:{tmp_path}/img.tar"):
        check_reference(reference, private)


def test_one_push_per_app_at_a_time_and_stale_locks_expire() -> None:
    now = [0.0]
    locks = PushLocks(timeout=600, clock=lambda: now[0])
    first = locks.acquire("a")
    assert first is not None
    assert locks.acquire("a") is None
    assert locks.acquire("b") is not None, "other apps are not blocked"
    now[0] = 601
    second = locks.acquire("a")
    assert second is not None, "a stale lock is taken over"
    locks.release("a", first)
    assert locks.held("a"), "the stale owner cannot release the new lock"
    locks.release("a", second)
    assert not locks.held("a")


def test_settings_follow_the_environment_contract(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DEIS_SSH__PORT", "2299")
    monkeypatch.setenv("DEIS_SSH__HOST", "0.0.0.0")
    monkeypatch.setenv("DEIS_BUILDER__DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DEIS_BUILDER_KEY", "k")
    settings = Settings()
    assert (settings.ssh.port, settings.ssh.host, settings.builder.data_dir) == (2299, "0.0.0.0", tmp_path)
    assert settings.builder_key == "k"
    assert Settings.model_fields["ssh"].default_factory is not None

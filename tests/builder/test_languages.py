"""Apps in a language no bundled buildpack builds are recognised, so they fail clearly instead of
starting as Procfile apps and crashing."""

from __future__ import annotations

from pathlib import Path

import pytest

from deis_builder.build.buildpacks.languages import unsupported_language


@pytest.mark.parametrize(
    ("marker", "language"),
    [
        ("Gemfile", "Ruby"),
        ("composer.json", "PHP"),
        ("index.php", "PHP"),
        ("pom.xml", "Java"),
        ("build.gradle", "Gradle"),
        ("build.sbt", "Scala"),
        ("project.clj", "Clojure"),
        ("Makefile.PL", "Perl"),
        ("cpanfile", "Perl"),
        ("grails-app/", "Grails"),
    ],
)
def test_each_language_workflow_built_is_known_by_its_marker(
    marker: str, language: str, tmp_path: Path
) -> None:
    (tmp_path / "Procfile").write_text("web: start-the-app\n")
    if marker.endswith("/"):
        (tmp_path / marker).mkdir()
    else:
        (tmp_path / marker).write_text("")
    found = unsupported_language(tmp_path)
    assert found is not None and (found.name, found.marker) == (language, marker.rstrip("/"))


def test_a_procfile_app_of_scripts_and_binaries_is_no_unsupported_language(tmp_path: Path) -> None:
    (tmp_path / "Procfile").write_text("web: ./server\n")
    (tmp_path / "server").write_text("#!/bin/sh\n")
    (tmp_path / "Makefile").write_text("all:\n")
    assert unsupported_language(tmp_path) is None


def test_a_dangling_symlink_marker_counts_without_being_followed(tmp_path: Path) -> None:
    (tmp_path / "Gemfile").symlink_to("/nonexistent/Gemfile")
    found = unsupported_language(tmp_path)
    assert found is not None and found.name == "Ruby"

"""Languages Workflow built that no bundled buildpack here builds, recognised by their marker files.

Workflow's slugbuilder bundled buildpacks for Ruby, PHP, Java (Maven, Gradle, Grails, Play), Scala,
Clojure and more. Without them such an app would fall through to the Procfile pack, start, and crash on a
missing interpreter. Instead the build stops with Workflow's "Unable to select a buildpack" and names the
way out: ``BUILDPACK_URL``. A Procfile app without these markers (a shell script, a prebuilt binary) still
runs as it is. Only names are looked at (never a file's content), so a symlink cannot make the builder read
anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Language:
    name: str
    marker: str


# In the order slugbuilder tried its packs (clojure, gradle, grails, java, php, play, ruby, scala), then Perl.
_MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Clojure", ("project.clj",)),
    ("Gradle", ("build.gradle", "build.gradle.kts", "gradlew", "settings.gradle")),
    ("Grails", ("grails-app",)),
    ("Java", ("pom.xml", "pom.atom", "pom.clj", "pom.groovy", "pom.rb", "pom.scala", "pom.yaml", "pom.yml")),
    ("PHP", ("composer.json", "index.php")),
    ("Play", ("conf/application.conf",)),
    ("Ruby", ("Gemfile", "gems.rb")),
    ("Scala", ("build.sbt", "project/build.properties")),
    ("Perl", ("Makefile.PL", "Build.PL", "cpanfile")),
)


def unsupported_language(app_dir: Path) -> Language | None:
    """The first language with no bundled buildpack whose marker is in ``app_dir``, if any."""
    for name, markers in _MARKERS:
        for marker in markers:
            if os.path.lexists(app_dir / marker):
                return Language(name, marker)
    return None

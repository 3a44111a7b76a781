"""A template pack, built as a real distribution and installed, adds kinds through its entry point."""

from __future__ import annotations

import os
import sys

import pytest

from tests.conftest import ROOT
from tests.conftest import run_ok as run

PACK_PYPROJECT = """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "team-templates"
version = "1.0"

[project.entry-points."kscaffold.templates"]
team = "team_templates"

[tool.hatch.build.targets.wheel]
packages = ["team_templates"]
"""


@pytest.mark.slow
def test_installed_pack_adds_a_kind_and_overrides_a_builtin(tmp_path):
    source = tmp_path / "pack"
    package = source / "team_templates"
    (package / "greeting").mkdir(parents=True)
    (source / "pyproject.toml").write_text(PACK_PYPROJECT)
    (package / "__init__.py").write_text("")
    (package / "greeting" / "kind.toml").write_text(
        'description = "A greeting from the team pack."\n'
        '[[files]]\ntemplate = "g.py.j2"\npath = "{{ module }}.py"\n'
        '[variables.words]\ntype = "string"\ndefault = "hello"\n'
    )
    (package / "greeting" / "g.py.j2").write_text("WORDS = {{ words }}\n")
    (package / "sequential").mkdir()
    (package / "sequential" / "model.py.j2").write_text(
        '{% extends "builtin/sequential/model.py.j2" %}\n'
        "{% block module_doc %}Team pack house style.{% endblock %}\n"
    )
    site = tmp_path / "site"
    run(
        sys.executable,
        "-m",
        "pip",
        "install",
        "-q",
        "--no-deps",
        "--target",
        str(site),
        str(source),
    )

    env = {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{ROOT}"}
    env.pop("KSCAFFOLD_TEMPLATES", None)
    kscaffold = [sys.executable, "-m", "scaffold"]
    listing = run(*kscaffold, "list", env=env, cwd=tmp_path).stdout
    assert "greeting  [pack 'team' (team_templates)]" in listing
    assert "sequential  [built-in]" in listing  # a template file alone is no kind.toml
    assert "sequential/model.py.j2 from pack 'team' (team_templates)" in listing

    out = tmp_path / "out"
    run(
        *kscaffold,
        "new",
        "greeting",
        "Hi",
        "--words",
        "hey",
        "-o",
        str(out),
        env=env,
        cwd=tmp_path,
    )
    assert (out / "hi.py").read_text() == 'WORDS = "hey"\n'
    run(*kscaffold, "new", "sequential", "Net", "-o", str(out), env=env, cwd=tmp_path)
    assert (out / "net.py").read_text().startswith('"""Team pack house style."""')

    # kscaffold reads entry points itself (faster than importlib.metadata): same answer.
    code = (
        "import importlib.metadata as m; from scaffold.sources import _entry_points\n"
        "ours = sorted((n, v) for n, v, _ in _entry_points('kscaffold.templates'))\n"
        "theirs = sorted((e.name, e.value) for e in m.entry_points(group='kscaffold.templates'))\n"
        "assert ours == theirs == [('team', 'team_templates')], (ours, theirs)\n"
    )
    run(sys.executable, "-c", code, env=env, cwd=tmp_path)

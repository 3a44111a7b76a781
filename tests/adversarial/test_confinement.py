"""Nothing is read from or written to outside the project and the destination,
unless the user named that place on the command line or in the environment.

A cloned repository's ``pyproject.toml`` is hostile input: its template roots and
its models/tests folders must stay inside its own project, symlinks followed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scaffold.cli import cli
from tests.conftest import tree

SECRET = "TOP-SECRET-TOKEN"

# How a pyproject.toml can point outside its project: {outside} is an absolute path.
ESCAPES = [
    "/",
    "~",
    "~/x",
    "~root",
    "..",
    "../..",
    "../outside",
    "./../outside",
    "tmpl/../../outside",
    "{outside}",
    "link",  # a symlink to ../outside
    "link/sub",
    "tmpl/../link",
    "chain",  # a symlink to a symlink to ../outside
    "tmpl/up",  # a symlink inside tmpl to ../../outside
]
# The same shapes that stay inside: accepted.
INSIDE = ["tmpl", "./tmpl", "tmpl/../tmpl", "inlink"]


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    """proj/ (the clone, the current folder) beside outside/ (the user's files)."""
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "secret.txt").write_text(SECRET)
    # A kind in outside/ that would copy the secret into generated code.
    kind = outside / "layer"
    kind.mkdir()
    (kind / "kind.toml").write_text(
        '[[files]]\npath = "{{ module }}.py"\ntemplate = "leak.py.j2"\n'
    )
    (kind / "leak.py.j2").write_text(
        '{% set s %}{% include "secret.txt" %}{% endset %}LEAK = {{ s|tojson }}\n'
    )
    project = tmp_path / "proj"
    (project / "tmpl").mkdir(parents=True)
    (project / "link").symlink_to("../outside")
    (project / "link2").symlink_to("link")
    (project / "chain").symlink_to("link2")
    (project / "inlink").symlink_to("tmpl")
    (project / "tmpl" / "up").symlink_to("../../outside")
    (project / "m").mkdir()
    (project / "t").mkdir()
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(project)
    return project, outside


def _pyproject(project: Path, outside: Path, **table: str) -> None:
    lines = ["[tool.kscaffold]"] + [
        (
            f"{key} = {value.format(outside=outside)!r}".replace("'", '"')
            if key != "templates"
            else f'templates = ["{value.format(outside=outside)}"]'
        )
        for key, value in table.items()
    ]
    (project / "pyproject.toml").write_text("\n".join(lines) + "\n")


def _unchanged(runner, arguments, project, outside):
    before = tree(project), tree(outside)
    result = runner.invoke(cli, arguments)
    assert (tree(project), tree(outside)) == before
    assert SECRET not in result.output
    return result


COMMANDS = {
    "list": ["list"],
    "new": ["new", "layer", "Leaky"],
    "init": ["init", "fresh"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("value", ESCAPES)
def test_template_roots_from_pyproject_stay_inside(runner, hostile, command, value):
    project, outside = hostile
    _pyproject(project, outside, templates=value)
    result = _unchanged(runner, COMMANDS[command], project, outside)
    assert result.exit_code == 2, result.output
    assert "is outside the project" in result.output
    assert "--templates or $KSCAFFOLD_TEMPLATES" in result.output
    assert len(result.output.splitlines()) == 1
    assert not (project / "fresh").exists()


@pytest.mark.parametrize("key", ["models", "tests"])
@pytest.mark.parametrize("value", ESCAPES)
def test_models_and_tests_folders_from_pyproject_stay_inside(
    runner, hostile, key, value
):
    project, outside = hostile
    folders = {"package": "p", "models": "m", "tests": "t"} | {key: value}
    _pyproject(project, outside, **folders)
    result = _unchanged(runner, ["new", "layer", "Scale"], project, outside)
    assert result.exit_code == 2, result.output
    assert f"[tool.kscaffold] {key} = " in result.output
    assert "is outside the project" in result.output


@pytest.mark.parametrize("value", INSIDE)
def test_the_same_shapes_inside_the_project_are_accepted(runner, hostile, value):
    """The refusals above are about where a path leads, not how it is written."""
    project, outside = hostile
    (project / "tmpl" / "layer").mkdir()
    (project / "tmpl" / "layer" / "layer.py.j2").write_text("# team layer\n")
    _pyproject(project, outside, templates=value)
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml").read_text()
        + 'package = "p"\nmodels = "m"\ntests = "inlink"\n'
    )
    before = tree(outside)
    result = runner.invoke(cli, ["new", "layer", "Scale"])
    assert result.exit_code == 0, result.output
    assert (project / "m" / "scale.py").read_text() == "# team layer\n"
    assert (project / "tmpl" / "test_scale.py").is_file()  # tests = "inlink"
    assert tree(outside) == before


def test_user_named_places_are_followed(runner, hostile, monkeypatch):
    """--templates, $KSCAFFOLD_TEMPLATES and -o may be anywhere: the user named them."""
    _, outside = hostile
    result = runner.invoke(cli, ["show", "layer", "--templates", str(outside)])
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("KSCAFFOLD_TEMPLATES", str(outside))
    assert runner.invoke(cli, ["show", "layer"]).exit_code == 0
    result = runner.invoke(cli, ["new", "layer", "Scale", "-o", str(outside / "sub")])
    assert result.exit_code == 0, result.output
    assert SECRET in (outside / "sub" / "scale.py").read_text()  # named: followed


def test_with_test_does_not_follow_a_tests_symlink_out(runner, hostile):
    project, outside = hostile
    dest = project / "d"
    dest.mkdir()
    (dest / "tests").symlink_to(outside)
    result = _unchanged(
        runner,
        ["new", "layer", "Scale", "-o", str(dest), "--with-test"],
        project,
        outside,
    )
    assert result.exit_code == 2 and "a symlink leads outside" in result.output
    (dest / "tests").unlink()
    (dest / "tests").symlink_to(project / "t")  # inside the project, outside -o
    result = _unchanged(
        runner,
        ["new", "layer", "Scale", "-o", str(dest), "--with-test"],
        project,
        outside,
    )
    assert result.exit_code == 2 and "a symlink leads outside" in result.output
    (dest / "tests").unlink()
    (dest / "real").mkdir()
    (dest / "tests").symlink_to("real")  # inside -o: followed
    result = runner.invoke(
        cli, ["new", "layer", "Scale", "-o", str(dest), "--with-test"]
    )
    assert result.exit_code == 0 and (dest / "real" / "test_scale.py").is_file()


def test_eject_does_not_write_through_a_kind_folder_symlinked_out(runner, hostile):
    project, outside = hostile
    team = project / "team"
    team.mkdir()
    (team / "gan").symlink_to(outside / "sub")
    for extra in ([], ["--force"]):
        result = _unchanged(
            runner, ["templates", "eject", "gan", str(team), *extra], project, outside
        )
        assert result.exit_code == 2, result.output
        assert "leads outside" in result.output


@pytest.mark.parametrize(
    "plant",
    [
        lambda kind, outside: (kind / "leak.py.j2").symlink_to(outside / "secret.txt"),
        lambda kind, outside: (kind / "_common").symlink_to(outside),
        lambda kind, outside: (kind / "kind.toml").unlink()
        or (kind / "kind.toml").symlink_to(outside / "layer" / "kind.toml"),
    ],
    ids=["template file", "partials folder", "kind.toml"],
)
def test_symlinks_in_a_template_root_are_followed_only_inside(runner, hostile, plant):
    project, outside = hostile
    team = project / "team"
    kind = team / "leaky"
    kind.mkdir(parents=True)
    (kind / "kind.toml").write_text(
        '[[files]]\npath = "{{ module }}.py"\ntemplate = "leak.py.j2"\n'
    )
    plant(kind, outside)
    if not (kind / "leak.py.j2").exists():
        (kind / "leak.py.j2").write_text('{% include "_common/secret.txt" %}\n')
    result = _unchanged(
        runner, ["new", "leaky", "Leak", "--templates", str(team)], project, outside
    )
    assert result.exit_code != 0, result.output
    assert "outside" in result.output and "Traceback" not in result.output

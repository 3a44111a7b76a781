"""User and team templates: search order, partial and block overrides, new kinds, packs,
the sandbox, path confinement, broken templates, and the list/show/eject commands."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from scaffold.cli import cli
from scaffold.errors import TemplateError, UsageError
from scaffold.generate import new
from scaffold.sources import ENTRY_POINT_GROUP, search_path
from tests.conftest import tree

OVERRIDE = """{% extends "builtin/sequential/model.py.j2" %}
{% block module_doc %}Made by the LEVEL layer.{% endblock %}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def layer(root: Path, name: str) -> Path:
    """A template directory overriding one block of the built-in sequential kind."""
    write(root / name / "sequential" / "model.py.j2", OVERRIDE.replace("LEVEL", name))
    return root / name


def fake_pack(root: Path, name: str, monkeypatch) -> Path:
    """An installed pack as Python sees one: a package plus dist-info with an entry point."""
    site = root / "site"
    package = site / f"{name}_templates"
    write(package / "__init__.py", "")
    write(package / "sequential" / "model.py.j2", OVERRIDE.replace("LEVEL", name))
    write(
        site / f"{name}_templates-1.0.dist-info" / "entry_points.txt",
        f"[{ENTRY_POINT_GROUP}]\n{name} = {name}_templates\n",
    )
    monkeypatch.syspath_prepend(str(site))
    return package


def docstring(destination: Path, **kwargs) -> str:
    [target] = new(
        "sequential", "Net", {}, destination=destination, force=True, **kwargs
    )
    return target.path.read_text().split('"""')[1]


def test_search_order_first_match_wins_per_file(tmp_path, monkeypatch):
    project = tmp_path / "project"
    dest = project / "models"
    cli_dir = layer(tmp_path, "cli")
    env_dir = layer(tmp_path, "env")
    layer(project, "pyproject")
    site = str(fake_pack(tmp_path, "pack", monkeypatch).parent)
    write(project / "pyproject.toml", '[tool.kscaffold]\ntemplates = ["pyproject"]\n')
    monkeypatch.setenv(
        "KSCAFFOLD_TEMPLATES", f"{env_dir}{os.pathsep}{tmp_path / 'none'}"
    )
    with pytest.raises(UsageError, match="none"):  # a missing directory is named
        docstring(dest, template_dirs=[cli_dir])
    monkeypatch.setenv("KSCAFFOLD_TEMPLATES", str(env_dir))

    assert docstring(dest, template_dirs=[cli_dir]) == "Made by the cli layer."
    assert docstring(dest) == "Made by the env layer."
    monkeypatch.delenv("KSCAFFOLD_TEMPLATES")
    assert docstring(dest) == "Made by the pyproject layer."
    (project / "pyproject.toml").write_text("[tool.kscaffold]\n")
    assert docstring(dest) == "Made by the pack layer."
    origins = [s.origin for s in search_path(destination=dest)]
    assert origins == ["pack 'pack' (pack_templates)", "built-in"]
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != site])
    assert docstring(dest).startswith("Net: a Keras 3 model subclass")


def test_overriding_one_partial_keeps_the_rest_of_the_kind(tmp_path):
    team = tmp_path / "team"
    write(
        team / "_common" / "tensorflow" / "test_step.py.j2",
        "\n    def test_step(self, data):\n        raise NotImplementedError  # team\n",
    )
    [target] = new(
        "sequential",
        "Net",
        {"train_step": True},
        destination=tmp_path / "o",
        template_dirs=[team],
    )
    source = target.path.read_text()
    assert "raise NotImplementedError  # team" in source
    assert "def train_step(self, data):" in source  # the built-in rest is still there
    assert "_record_metrics" in source


def test_a_directory_adds_a_kind_and_list_shows_layers(runner, tmp_path):
    team = layer(tmp_path, "team")
    write(
        team / "greeting" / "kind.toml",
        'description = "A greeting."\n[[files]]\ntemplate = "g.py.j2"\npath = "{{ module }}.py"\n'
        '[variables.words]\ntype = "string"\ndefault = "hello"\nhelp = "What to say."\n',
    )
    write(team / "greeting" / "g.py.j2", "WORDS = {{ words }}\n")
    result = runner.invoke(cli, ["list", "--templates", str(team)])
    assert result.exit_code == 0, result.output
    # list names the directory a kind comes from, not just the option (two
    # --templates directories would otherwise read the same).
    assert f"greeting  [{team} (--templates)]" in result.output
    assert "options: --words STRING=hello" in result.output
    assert (
        "sequential  [built-in]" in result.output
    )  # only a template file, no kind.toml
    out = tmp_path / "out"
    result = runner.invoke(
        cli,
        [
            "new",
            "greeting",
            "Hi",
            "--words",
            "hey 'you'",
            "-o",
            str(out),
            "--templates",
            str(team),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (out / "hi.py").read_text() == "WORDS = \"hey 'you'\"\n"
    result = runner.invoke(cli, ["show", "greeting", "--templates", str(team)])
    assert "--words STRING  (default: hello)" in result.output
    assert "What to say." in result.output


def test_a_kind_overriding_a_builtin_kind_is_marked(runner, tmp_path):
    team = tmp_path / "team"
    result = runner.invoke(cli, ["templates", "eject", "sequential", str(team)])
    assert result.exit_code == 0, result.output
    assert f"--templates {team}" in result.output
    result = runner.invoke(cli, ["list", "--templates", str(team)])
    assert f"sequential  [{team} (--templates); overrides built-in]" in result.output


def test_eject_copies_a_working_kind_and_refuses_to_clobber(runner, tmp_path):
    team = tmp_path / "team"
    assert (
        runner.invoke(cli, ["templates", "eject", "conditional", str(team)]).exit_code
        == 0
    )
    # The kind stands alone: its own files, and every shared partial and metadata
    # file it uses, copied into its folder (the loader looks there first).
    assert sorted(
        p.relative_to(team / "conditional").as_posix()
        for p in (team / "conditional").rglob("*")
        if p.is_file()
    ) == [
        "_common/accumulate_doc.j2",
        "_common/backend_guard.py.j2",
        "_common/custom_step.py.j2",
        "_common/dense.toml",
        "_common/dense_model.py.j2",
        "_common/jax/accumulate.py.j2",
        "_common/jax/test_step.py.j2",
        "_common/jax/train_step.py.j2",
        "_common/losses.j2",
        "_common/tensorflow/accumulate.py.j2",
        "_common/tensorflow/test_step.py.j2",
        "_common/tensorflow/train_step.py.j2",
        "_common/test_imports.py.j2",
        "_common/test_model.py.j2",
        "_common/torch/accumulate.py.j2",
        "_common/torch/test_step.py.j2",
        "_common/torch/train_step.py.j2",
        "_common/train_step.toml",
        "kind.toml",
        "model.py.j2",
        "test_model.py.j2",
    ]
    edited = team / "conditional" / "model.py.j2"
    edited.write_text(
        edited.read_text().replace("Routes each example", "Team: routes each example")
    )
    [target] = new(
        "conditional", "Net", {}, destination=tmp_path / "o", template_dirs=[team]
    )
    assert "Team: routes each example" in target.path.read_text()
    again = runner.invoke(cli, ["templates", "eject", "conditional", str(team)])
    assert again.exit_code == 1 and "already exists" in again.output
    assert "Team:" in edited.read_text()
    bad = runner.invoke(cli, ["templates", "eject", "nope", str(team)])
    assert bad.exit_code == 2 and "'nope'" in bad.output


def test_set_reaches_any_variable_and_is_validated(runner, tmp_path):
    out = tmp_path / "o"
    ok = runner.invoke(
        cli,
        [
            "new",
            "sequential",
            "Net",
            "--set",
            "units=8,4",
            "--set",
            "output_activation=linear",
            "-o",
            str(out),
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "units=(8, 4)" in (out / "net.py").read_text()
    before = tree(tmp_path)
    for args, named in [
        (["--set", "units=8,x"], "'8,x'"),
        (["--set", "nope=1"], "'nope'"),
        (["--set", "units"], "'units'"),
        (["--set", "units=4", "--units", "5"], "'units'"),
    ]:
        bad = runner.invoke(cli, ["new", "sequential", "Other", *args, "-o", str(out)])
        assert bad.exit_code == 2, bad.output
        [line] = bad.output.strip().splitlines()
        assert named in line
    assert tree(tmp_path) == before


# --- the sandbox -----------------------------------------------------------------------

ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ ('{0.__class__}'|attr('format'))(1) }}",
    "{{ '{0.__class__}'.format(1) }}",
    "{{ ('{x.__class__}'|attr('format_map'))({'x': 1}) }}",
    "{{ '{x.__class__}'.format_map({'x': 1}) }}",
    "{{ units.__class__ }}",
    "{% set x = [] %}{{ x.append(1) }}",
    "{{ range(10 ** 9) | list }}",
]


def tiny_kind(root: Path, body: str, path: str = "{{ module }}.py") -> Path:
    write(
        root / "tiny" / "kind.toml",
        f'[[files]]\ntemplate = "t.py.j2"\npath = "{path}"\n'
        '[variables.units]\ntype = "int_list"\ndefault = [1]\n',
    )
    write(root / "tiny" / "t.py.j2", body)
    return root


@pytest.mark.parametrize("body", ESCAPES)
def test_sandbox_escapes_are_clear_errors(runner, tmp_path, body):
    team = tiny_kind(tmp_path / "team", f"X = 1\n{body}\n")
    out = tmp_path / "out"
    result = runner.invoke(
        cli, ["new", "tiny", "Net", "-o", str(out), "--templates", str(team)]
    )
    assert result.exit_code == 1, result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith(f"Error: {team / 'tiny' / 't.py.j2'}:2: ")
    assert not out.exists()


# --- path confinement ----------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["../evil.py", "/tmp/kscaffold-evil.py", "a/../../evil.py"]
)
def test_rendered_paths_stay_in_the_destination(runner, tmp_path, path):
    team = tiny_kind(tmp_path / "team", "X = 1\n", path=path)
    out = tmp_path / "out"
    result = runner.invoke(
        cli, ["new", "tiny", "Net", "-o", str(out), "--templates", str(team)]
    )
    assert result.exit_code == 2, result.output
    assert "outside the destination" in result.output
    assert not out.exists() and not (tmp_path / "evil.py").exists()
    assert not Path("/tmp/kscaffold-evil.py").exists()


def test_symlinked_template_file_leading_outside_is_refused(runner, tmp_path):
    secret = write(tmp_path / "secret.txt", "SECRET = 1\n")
    team = tiny_kind(tmp_path / "team", "X = 1\n")
    (team / "tiny" / "t.py.j2").unlink()
    (team / "tiny" / "t.py.j2").symlink_to(secret)
    result = runner.invoke(
        cli, ["new", "tiny", "Net", "-o", str(tmp_path / "o"), "--templates", str(team)]
    )
    assert result.exit_code == 1 and "leads outside" in result.output
    assert not (tmp_path / "o").exists()


def test_symlinked_kind_directory_leading_outside_is_refused(runner, tmp_path):
    elsewhere = tiny_kind(tmp_path / "elsewhere", "X = 1\n")
    team = tmp_path / "team"
    team.mkdir()
    (team / "tiny").symlink_to(elsewhere / "tiny", target_is_directory=True)
    result = runner.invoke(
        cli, ["new", "tiny", "Net", "-o", str(tmp_path / "o"), "--templates", str(team)]
    )
    assert result.exit_code == 1 and "leads outside" in result.output
    assert not (tmp_path / "o").exists()


def test_symlinked_directory_in_the_destination_leading_outside_is_refused(
    runner, tmp_path
):
    outside = tmp_path / "outside"
    outside.mkdir()
    team = tiny_kind(tmp_path / "team", "X = 1\n", path="sub/{{ module }}.py")
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").symlink_to(outside, target_is_directory=True)
    result = runner.invoke(
        cli, ["new", "tiny", "Net", "-o", str(out), "--templates", str(team)]
    )
    assert result.exit_code == 2 and "symlink" in result.output
    assert list(outside.iterdir()) == []


# --- broken templates ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "line", "says"),
    [
        ("X = 1\n{% if %}\n", 2, "Expected an expression"),
        ("X = 1\nY = {{ missing }}\n", 2, "'missing' is undefined"),
        ("X = 1\n{{ 1 / 0 }}\n", 2, "division by zero"),
        ("X = 1\n{% include 'tiny/nope.j2' %}\n", None, "'tiny/nope.j2' not found"),
    ],
)
def test_broken_template_names_file_and_line_and_writes_nothing(
    runner, tmp_path, body, line, says
):
    team = tiny_kind(tmp_path / "team", body)
    out = tmp_path / "out"
    result = runner.invoke(
        cli, ["new", "tiny", "Net", "-o", str(out), "--templates", str(team)]
    )
    assert result.exit_code == 1, result.output
    [message] = result.output.strip().splitlines()
    if line:
        assert f"{team / 'tiny' / 't.py.j2'}:{line}:" in message
    assert says in message
    assert not out.exists()


def test_broken_metadata_is_named(runner, tmp_path):
    team = tmp_path / "team"
    write(team / "tiny" / "kind.toml", "[[files]\n")
    result = runner.invoke(
        cli, ["new", "tiny", "Net", "--templates", str(team), "-o", str(tmp_path / "o")]
    )
    assert result.exit_code == 1
    assert str(team / "tiny" / "kind.toml") in result.output
    with pytest.raises(TemplateError):
        new("tiny", "Net", {}, destination=tmp_path / "o", template_dirs=[team])


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        (
            '[variables.w]\ntype = "int"\ndefault = 3\nge = "one"\n',
            "ge must be an integer",
        ),
        (
            '[variables.w]\ntype = "int"\ndefault = 3\nge = 1.5\n',
            "ge must be an integer",
        ),
        (
            '[variables.w]\ntype = "float"\ndefault = 3.0\nge = true\n',
            "ge must be a number",
        ),
        ('[variables.w]\ntype = "bool"\ndefault = "yes"\n', "is not of type bool"),
        ('[variables.w]\ntype = "int"\ndefault = "3"\n', "is not of type int"),
        (
            '[variables.w]\ntype = "choice"\nchoices = ["a"]\ndefault = "b"\n',
            "bad default",
        ),
        ('[variables.Bad-Name]\ntype = "int"\ndefault = 1\n', "'Bad-Name'"),
        ('[variables.help]\ntype = "int"\ndefault = 1\n', "'help'"),
        ("variables = 5\n", "[variables.*] tables"),
        ("description = 5\n", "description must be text"),
        (
            "[check]\nfeatures = 'eight'\n",
            "[check] shape, features and batch_size take positive integers",
        ),
        (
            "[check]\nshape = [16, 0]\n",
            "[check] shape, features and batch_size take positive integers",
        ),
        ("[check]\ncondition = 'yes'\n", "[check] condition must be true or false"),
        (
            "[check]\ntimesteps = 3\n",
            "[check] takes batch_size, condition, features, shape only",
        ),
        ("test = 5\n", "test must name a template"),
        (
            '[variables.w]\ntype = "int"\nrequires = "nope"\n',
            "requires must name a bool variable of this kind, not 'nope'",
        ),
        (
            '[variables.w]\ntype = "int"\nimplies = 3\n',
            "implies must name another variable",
        ),
    ],
)
def test_malformed_metadata_is_one_line_naming_the_file(runner, tmp_path, toml, says):
    team = tmp_path / "team"
    files = '[[files]]\ntemplate = "t.py.j2"\npath = "{{ module }}.py"\n'
    write(team / "bad" / "kind.toml", toml + files)  # top-level keys before tables
    write(team / "bad" / "t.py.j2", "X = 1\n")
    for args in (
        ["new", "bad", "Net", "-o", str(tmp_path / "o")],
        ["list"],
        ["show", "bad"],
    ):
        result = runner.invoke(cli, [*args, "--templates", str(team)])
        assert result.exit_code == 1, result.output
        [line] = result.output.strip().splitlines()
        assert str(team / "bad" / "kind.toml") in line and says in line
    assert not (tmp_path / "o").exists()


def test_a_rendered_path_that_names_a_folder_is_refused(runner, tmp_path):
    team = tiny_kind(tmp_path / "team", "X = 1\n", path="{{ module }}/")
    result = runner.invoke(
        cli, ["new", "tiny", "Net", "-o", str(tmp_path / "o"), "--templates", str(team)]
    )
    assert result.exit_code == 2 and "'net/'" in result.output
    assert not (tmp_path / "o").exists()

"""One pipeline, one write path, one model of variable types, self-contained ejected kinds.

Each test here failed before the structure work: a variable could shadow a CLI
option, an ejected kind was a six-line file over the built-in partials, `list`
could not tell two template directories apart, `-oDIR` was not seen when finding
kinds, kind.toml files were read twice, and `init`/`eject` wrote around the writer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import scaffold.kinds
import scaffold.writer
from scaffold.cli import cli, reserved
from scaffold.generate import new
from scaffold.sources import builtin_templates
from scaffold.types import TYPES
from tests.conftest import tree


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def user_kind(root: Path, variable: str = "words", kind: str = "greeting") -> Path:
    write(
        root / kind / "kind.toml",
        f'description = "A greeting."\n[[files]]\ntemplate = "g.py.j2"\n'
        f'path = "{{{{ module }}}}.py"\n[variables.{variable}]\ntype = "string"\n'
        'default = "hello"\n',
    )
    write(root / kind / "g.py.j2", f"WORDS = {{{{ {variable} }}}}\n")
    return root


@pytest.mark.parametrize(
    "variable", ["verify", "with_test", "model", "dry_run", "help"]
)
def test_a_variable_cannot_shadow_an_option_of_the_command_line(
    runner, tmp_path, variable
):
    team = user_kind(tmp_path / "team", variable)
    out = tmp_path / "out"
    result = runner.invoke(
        cli, ["new", "greeting", "Hi", "--templates", str(team), "-o", str(out)]
    )
    assert result.exit_code == 1
    option = "--" + variable.replace("_", "-")
    assert f"variable {variable!r} would shadow kscaffold's own option" in result.output
    assert option in result.output or variable in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert not out.exists()


def test_reserved_names_come_from_the_commands_own_parameters():
    names = reserved()
    # Options of `new` and of `init`, as Click declares them, and help/version.
    for option in ("--verify", "--with-test", "--model", "--set", "-o", "--output"):
        assert option in names.options
    assert {"--help", "--version", "--name", "--force"} <= names.options
    assert scaffold.kinds.Reserved().clash("verify") is None  # nothing built in


def test_a_variable_of_another_name_still_works_beside_the_reserved_ones(
    runner, tmp_path
):
    team = user_kind(tmp_path / "team", "verify_text")
    out = tmp_path / "out"
    result = runner.invoke(
        cli,
        ["new", "greeting", "Hi", "--templates", str(team), "-o", str(out)]
        + ["--verify-text", "ok"],
    )
    assert result.exit_code == 0, result.output
    assert (out / "hi.py").read_text() == 'WORDS = "ok"\n'


def test_o_with_the_folder_attached_finds_the_projects_templates(runner, tmp_path):
    """`-oDIR` (Click's own short-option form) decides the search path too."""
    project = tmp_path / "project"
    user_kind(project / "tmpl")
    write(project / "pyproject.toml", '[tool.kscaffold]\ntemplates = ["tmpl"]\n')
    for form in ([f"-o{project}"], [f"--output={project}"], ["-o", str(project)]):
        result = runner.invoke(cli, ["new", "greeting", "Hi", *form, "--force"])
        assert result.exit_code == 0, (form, result.output)
        assert (project / "hi.py").read_text() == 'WORDS = "hello"\n'


def test_each_kind_toml_is_read_once_per_command(runner, tmp_path, monkeypatch):
    reads: list[Path] = []
    original = scaffold.kinds._read_toml

    def counting(path, root):
        reads.append(path)
        return original(path, root)

    monkeypatch.setattr(scaffold.kinds, "_read_toml", counting)
    result = runner.invoke(
        cli, ["new", "sequential", "Net", "-o", str(tmp_path), "--with-test"]
    )
    assert result.exit_code == 0, result.output
    assert reads and len(reads) == len(set(reads)), reads


def test_list_names_the_directory_each_kind_comes_from(runner, tmp_path):
    first = user_kind(tmp_path / "first")
    second = user_kind(tmp_path / "second", kind="farewell")
    result = runner.invoke(
        cli, ["list", "--templates", str(first), "--templates", str(second)]
    )
    assert result.exit_code == 0, result.output
    assert f"greeting  [{first} (--templates)]" in result.output
    assert f"farewell  [{second} (--templates)]" in result.output
    assert "sequential  [built-in]" in result.output


def test_an_ejected_kind_stands_alone(runner, tmp_path):
    """Editing the ejected copy of a shared partial changes the ejected kind only."""
    team = tmp_path / "team"
    assert (
        runner.invoke(cli, ["templates", "eject", "sequential", str(team)]).exit_code
        == 0
    )
    partial = team / "sequential" / "_common" / "dense_model.py.j2"
    partial.write_text(
        partial.read_text().replace(
            "    def call(self, inputs, training=None):",
            "    def call(self, inputs, training=None):\n        # edited by the team",
        )
    )
    out = tmp_path / "out"
    [seq] = new("sequential", "Net", {}, destination=out, template_dirs=[team])
    [cond] = new("conditional", "Cond", {}, destination=out, template_dirs=[team])
    assert "# edited by the team" in seq.path.read_text()
    assert "# edited by the team" not in cond.path.read_text()
    # The shared metadata is copied too, and edits to it apply.
    shared = team / "sequential" / "_common" / "dense.toml"
    shared.write_text(shared.read_text().replace("default = 10", "default = 3", 1))
    result = runner.invoke(cli, ["show", "sequential", "--templates", str(team)])
    assert "--outputs INT  (default: 3)" in result.output


def test_eject_force_replaces_the_copy_and_refuses_without_it(runner, tmp_path):
    team = tmp_path / "team"
    assert runner.invoke(cli, ["templates", "eject", "layer", str(team)]).exit_code == 0
    extra = write(team / "layer" / "notes.txt", "mine\n")
    before = tree(team)
    again = runner.invoke(cli, ["templates", "eject", "layer", str(team)])
    assert again.exit_code == 1 and "already exists" in again.output
    assert tree(team) == before
    forced = runner.invoke(cli, ["templates", "eject", "layer", str(team), "--force"])
    assert forced.exit_code == 0, forced.output
    assert not extra.exists()  # the earlier copy was replaced as a whole
    assert sorted(p.name for p in team.iterdir()) == ["layer"]  # no staging left


def test_templates_check_warns_about_text_extends_ignores(tmp_path):
    from scaffold.template_check import warnings

    write(
        tmp_path / "sequential" / "model.py.j2",
        "# above\n{% extends 'builtin/sequential/model.py.j2' %}\n"
        "lost text\n{% block class_doc %}Doc.{% endblock %}\n",
    )
    found = warnings(tmp_path)
    assert len(found) == 2, found
    assert ":1: text before {% extends %}" in found[0]
    assert ":3: text outside a block is ignored" in found[1]
    write(
        tmp_path / "sequential" / "model.py.j2",
        "{# a comment is fine #}\n{% extends 'builtin/sequential/model.py.j2' %}\n"
        "{% block class_doc %}Doc.{% endblock %}\n",
    )
    assert warnings(tmp_path) == []
    assert warnings(builtin_templates()) == []  # the built-ins hide no text


def test_init_new_and_eject_write_through_the_writer(runner, tmp_path, monkeypatch):
    """One write path: every file on disk was written by writer._write_text (LF, UTF-8)."""
    written: list[str] = []
    original = scaffold.writer._write_text

    def spy(path, text):
        written.append(text)
        return original(path, text)

    monkeypatch.setattr(scaffold.writer, "_write_text", spy)
    project = tmp_path / "proj"
    assert runner.invoke(cli, ["init", str(project)]).exit_code == 0
    assert (
        runner.invoke(cli, ["templates", "eject", "gan", str(tmp_path / "t")]).exit_code
        == 0
    )
    out = tmp_path / "o"
    assert (
        runner.invoke(
            cli, ["new", "layer", "L", "-o", str(out), "--with-test"]
        ).exit_code
        == 0
    )
    on_disk = [
        p
        for root in (project, tmp_path / "t", out)
        for p in root.rglob("*")
        if p.is_file()
    ]
    # Files are written to a temporary or staging name, then moved: compare texts.
    assert on_disk and all(p.read_text() in written for p in on_disk)
    assert all(b"\r\n" not in p.read_bytes() for p in on_disk)


def test_every_variable_type_is_one_class_with_everything_it_decides():
    for name, cls in TYPES.items():
        assert cls.name == name
        instance = cls({"choices": ["a"]} if "choices" in cls.keys else {}, "t")
        assert instance.expected() and instance.metavar == name.upper()


def test_a_value_that_looks_like_o_is_not_taken_for_the_output(
    runner, tmp_path, monkeypatch
):
    """The early reading of -o (to find the kind) is checked against Click's own."""
    team = user_kind(tmp_path / "team")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        cli, ["new", "greeting", "Hi", "--templates", str(team), "--words", "-ofoo"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "hi.py").read_text() == 'WORDS = "-ofoo"\n'
    assert not (tmp_path / "foo").exists()


def test_write_tree_interrupted_keeps_the_users_folder(tmp_path, monkeypatch):
    """Ctrl-C between setting the old folder aside and moving the new one in."""
    root = write(tmp_path / "team" / "kind" / "mine.txt", "mine\n").parent
    renames = []
    rename = scaffold.writer.os.rename

    def interrupted(src, dst):
        renames.append(src)
        if len(renames) == 2:  # the first moved the old folder aside
            raise KeyboardInterrupt
        return rename(src, dst)

    monkeypatch.setattr(scaffold.writer.os, "rename", interrupted)
    with pytest.raises(KeyboardInterrupt):
        scaffold.writer.write_tree(root, [("new.txt", "new\n")], replace=True)
    monkeypatch.setattr(scaffold.writer.os, "rename", rename)
    assert tree(tmp_path / "team") == {"kind/mine.txt": b"mine\n"}
    assert sorted(p.name for p in (tmp_path / "team").iterdir()) == ["kind"]


def test_list_works_beside_a_half_filled_project_table(runner, tmp_path, monkeypatch):
    """Only `new` reads the project's models/tests settings."""
    write(tmp_path / "pyproject.toml", '[tool.kscaffold]\nmodels = "m"\n')
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(cli, ["list"]).exit_code == 0
    assert runner.invoke(cli, ["show", "layer"]).exit_code == 0
    result = runner.invoke(cli, ["new", "layer", "L"])
    assert result.exit_code == 2 and "lacks 'package'" in result.output


def test_includes_are_strict_and_errors_name_the_included_file(runner, tmp_path):
    team = user_kind(tmp_path / "team")
    kind_toml = team / "greeting" / "kind.toml"
    kind_toml.write_text(
        'include = ["_shared/a.toml", "_shared/b.toml"]\n' + kind_toml.read_text()
    )
    write(team / "_shared" / "a.toml", '[variables.size]\ntype = "int"\ndefault = 2\n')
    write(team / "_shared" / "b.toml", '[variables.size]\ntype = "string"\n')
    args = ["show", "greeting", "--templates", str(team)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 1
    assert "'size' is declared in both" in result.output and "b.toml" in result.output
    write(
        team / "_shared" / "b.toml", '[variables.count]\ntype = "int"\ndefault = "x"\n'
    )
    result = runner.invoke(cli, args)
    assert result.exit_code == 1 and "b.toml: variable 'count'" in result.output
    kind_toml.write_text(kind_toml.read_text().replace("_shared/b.toml", "../b.toml"))
    result = runner.invoke(cli, args)
    assert "must be a path inside a template directory" in result.output

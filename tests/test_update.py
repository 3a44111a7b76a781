"""Provenance and keeping generated code up to date: the manifest, `kscaffold status`,
`update` (three-way, the user's edits kept) and `destroy`."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import string
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scaffold.writer
from scaffold.backend import default_backend
from scaffold.cli import cli
from scaffold.generate import new
from scaffold.manifest import MANIFEST, base_path
from scaffold.merging import merge
from scaffold.sources import builtin_templates
from scaffold.update import update
from tests.conftest import run_ok, tree

# Each example of the first two renders and Black-formats a model (~0.3 s on 2 busy
# cores), so few examples; the merge-only property is cheap.
SETTINGS = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
MERGE_SETTINGS = settings(max_examples=100, deadline=None)


def make(folder: Path, *, name: str = "Net", **values) -> Path:
    """``kscaffold new sequential NAME --with-test`` into ``folder``; the model file."""
    plan = new("sequential", name, values, destination=folder, with_test=True)
    return plan.models[0].path


def manifest_of(root: Path) -> dict:
    return json.loads((root / MANIFEST).read_text())


def entries(root: Path) -> dict[str, dict]:
    return {entry["path"]: entry for entry in manifest_of(root)["files"]}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


CALL = "        x = inputs\n"
MINE = "        x = x * 2.0  # my scaling\n"


# --- the manifest ----------------------------------------------------------------------


def test_new_records_each_file_its_values_templates_and_exact_text(
    runner, tmp_path, monkeypatch
):
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    model = make(tmp_path, units="32,16", dropout="0.5")
    recorded = entries(tmp_path)
    assert list(recorded) == ["net.py", "test_net.py"]  # relative, sorted
    entry = recorded["net.py"]
    assert entry["role"] == "model" and entry["kind"] == "sequential"
    assert entry["name"] == "Net" and entry["backend"] == "jax"
    assert entry["given"] == ["dropout", "units"]
    # Every variable, as typed: each parses back to the same value.
    assert entry["values"]["units"] == "32,16" and entry["values"]["dropout"] == "0.5"
    assert entry["values"]["outputs"] == "10" and entry["values"]["accumulate"] is None
    assert entry["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert (tmp_path / base_path("net.py")).read_bytes() == model.read_bytes()
    # The templates come from the loader: partials included, each with its hash.
    used = {t["template"]: t for t in entry["templates"]}
    assert {"sequential/model.py.j2", "_common/dense_model.py.j2"} <= set(used)
    partial = builtin_templates() / "_common" / "dense_model.py.j2"
    assert used["_common/dense_model.py.j2"] == {
        "template": "_common/dense_model.py.j2",
        "source": "built-in",
        "sha256": hashlib.sha256(partial.read_bytes()).hexdigest(),
    }
    assert recorded["test_net.py"]["role"] == "test"
    assert recorded["test_net.py"]["import_from"] == "net"
    # No markers in generated files: the file is what --stdout prints.
    printed = runner.invoke(
        cli, ["new", "sequential", "Net", "--units", "32,16", "--dropout", "0.5",
              "--stdout", "-o", str(tmp_path / "elsewhere")],
    )  # fmt: skip
    assert printed.output == model.read_text()
    # The manifest is stable text: sorted keys, indented.
    text = (tmp_path / MANIFEST).read_text()
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


def test_dry_run_and_stdout_record_nothing(runner, tmp_path):
    for flag in ("--dry-run", "--stdout"):
        result = runner.invoke(
            cli, ["new", "sequential", "Net", "-o", str(tmp_path), flag]
        )
        assert result.exit_code == 0, result.output
    assert tree(tmp_path) == {}


def test_the_manifest_lives_beside_the_nearest_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    make(tmp_path / "src" / "models")
    assert list(entries(tmp_path)) == ["src/models/net.py", "src/models/test_net.py"]


def test_default_backend_as_keras_decides_it(tmp_path):
    home = {"KERAS_HOME": str(tmp_path)}
    assert default_backend({"KERAS_BACKEND": "torch", **home}) == "torch"
    assert default_backend(home) == "tensorflow"  # no keras.json
    (tmp_path / "keras.json").write_text('{"backend": "jax"}')
    assert default_backend(home) == "jax"
    (tmp_path / "keras.json").write_text('{"backend": ')  # invalid JSON
    assert default_backend(home) == "tensorflow"


def test_init_records_every_file_it_writes(runner, tmp_path):
    team = tmp_path / "team"
    (team / "_project").mkdir(parents=True)
    shutil.copy(builtin_templates() / "_project" / "data.py.j2", team / "_project")
    project = tmp_path / "demo"
    args = [
        "init",
        str(project),
        "--model",
        "conditional:Gate",
        "--templates",
        str(team),
    ]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "(10 files)" in result.output  # the records are not counted
    written = {p for p in tree(project) if not p.startswith(".kscaffold/")}
    recorded = entries(project)
    assert set(recorded) == written
    assert recorded["demo/models/gate.py"]["folder"] == "demo/models"
    assert recorded["tests/test_gate.py"]["import_from"] == "demo.models.gate"
    data = recorded["demo/data.py"]
    assert data["role"] == "project" and data["models"] == ["conditional:Gate"]
    [source] = {t["source"] for t in data["templates"]}
    assert source == f"directory {team.resolve().as_posix()}"  # outside the project
    assert data["template_dirs"] == [team.resolve().as_posix()]


# --- status ----------------------------------------------------------------------------


def test_status_says_what_changed_on_disk_and_in_the_templates(runner, tmp_path):
    team = tmp_path / "team"
    assert (
        runner.invoke(cli, ["templates", "eject", "sequential", str(team)]).exit_code
        == 0
    )
    out = tmp_path / "out"
    new("sequential", "Net", {}, destination=out, template_dirs=[team], with_test=True)
    make(out, name="Other")
    edit(out / "net.py", CALL, CALL + MINE)
    (out / "other.py").unlink()
    result = runner.invoke(cli, ["status", str(out)])
    assert result.exit_code == 0, result.output
    cells = [re.split(r"\s{2,}", line) for line in result.output.splitlines()[1:]]
    rows = {row[0]: row[1:] for row in cells}
    assert rows["net.py"] == ["edited", "up to date"]
    assert rows["other.py"] == ["missing", "up to date"]
    assert rows["test_net.py"] == ["unchanged", "up to date"]
    # A template change, and an upgrade, are named as the reason.
    edit(
        team / "sequential" / "_common" / "dense_model.py.j2",
        "# Build every",
        "# Builds every",
    )
    data = manifest_of(out)
    data["files"][0]["kscaffold"] = "0.0.1"
    (out / MANIFEST).write_text(json.dumps(data))
    result = runner.invoke(cli, ["status", str(out / "net.py")])
    assert result.exit_code == 0, result.output
    [_, row] = result.output.splitlines()
    assert "edited" in row and "would change" in row
    assert "template changed: sequential/_common/dense_model.py.j2" in row
    assert "kscaffold upgraded: 0.0.1 ->" in row


def test_status_without_a_manifest_says_so(runner, tmp_path):
    result = runner.invoke(cli, ["status", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.startswith("Error: no .kscaffold/manifest.json in")


# --- update ----------------------------------------------------------------------------


def test_update_keeps_the_edit_applies_the_option_and_then_is_up_to_date(
    runner, tmp_path
):
    model = make(tmp_path)
    edit(model, CALL, CALL + MINE)
    before = tree(tmp_path)
    args = ["update", str(model), "--units", "32", "--accumulate", "2"]
    result = runner.invoke(cli, [*args, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "-        units=(64,),\n+        units=(32,),\n" in result.output
    assert tree(tmp_path) == before  # a dry run writes nothing
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert f"updated {model} (your edits kept)" in result.output
    text = model.read_text()
    assert MINE in text and "units=(32,)," in text and "accumulate_steps=2," in text
    recorded = entries(tmp_path)["net.py"]
    assert recorded["values"]["units"] == "32" and "accumulate" in recorded["given"]
    # The new base is today's rendering, not the merged file.
    base = (tmp_path / base_path("net.py")).read_text()
    assert MINE not in base and "units=(32,)," in base
    after = tree(tmp_path)
    for again in (args, ["update", str(model)]):
        result = runner.invoke(cli, again)
        assert result.exit_code == 0 and result.output == "up to date\n", result.output
    assert tree(tmp_path) == after


def test_same_lines_conflict_with_both_sides_and_exit_1(runner, tmp_path):
    model = make(tmp_path)
    edit(model, "units=(64,),", "units=(128,),  # mine")
    result = runner.invoke(cli, ["update", str(model), "--units", "32"])
    assert result.exit_code == 1
    assert f"conflict {model}: 1 regions marked" in result.output
    assert result.output.endswith(
        "Error: 1 file(s) with conflicts: edit the regions between <<<<<<< and >>>>>>>\n"
    )
    text = model.read_text()
    assert (
        f"<<<<<<< yours ({model.name})\n        units=(128,),  # mine\n"
        "||||||| kscaffold (as written before)\n        units=(64,),\n"
        "=======\n        units=(32,),\n>>>>>>> kscaffold (updated)\n"
    ) in text
    result = runner.invoke(cli, ["status", str(tmp_path)])
    assert "net.py       conflicted" in result.output
    # Recorded: the next update has nothing more to do.
    assert runner.invoke(cli, ["update", str(model), "--units", "32"]).output == (
        "up to date\n"
    )


def test_black_formats_the_merge_only_where_the_user_file_was_black_clean(tmp_path):
    clean = make(tmp_path / "a")
    edit(clean, CALL, CALL + "        x = x*2.0\n")  # Black would change this line...
    edit(clean, "x = x*2.0", "x = x * 2.0")  # ...so the user's file is Black-clean
    messy = make(tmp_path / "b")
    edit(messy, CALL, CALL + "        x = x*2.0\n")  # not Black-clean: left alone
    edit(
        clean,
        "    def get_config(self):\n",
        "    def get_config(self):\n        pass\n",
    )
    for model in (clean, messy):
        update([model], values={"units": "32"})
    assert "x = x*2.0" in messy.read_text() and "units=(32,)," in messy.read_text()
    assert "x = x * 2.0" in clean.read_text() and "units=(32,)," in clean.read_text()


def test_update_all_covers_every_file_and_refuses_an_option_no_kind_has(
    runner, tmp_path, monkeypatch
):
    make(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = tree(tmp_path)
    for args, message in [
        (["update"], "name the files to update, or --all"),
        (["update", "--all", "--set", "nonsense=1"], "'nonsense': none of the files"),
        (["update", "--all", "--units", "x"], "--units 'x' is not valid"),
        (["update", "--all", "--set", "units"], "--set 'units' is not NAME=VALUE"),
        (["update", "nothere.py"], "'nothere.py' is not a file kscaffold recorded"),
    ]:
        result = runner.invoke(cli, args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and result.output.count("\n") == 1
    assert tree(tmp_path) == before
    result = runner.invoke(cli, ["update", "--all", "--outputs", "3"])
    assert result.exit_code == 0, result.output
    # The test does not use --outputs: only its record changes.
    assert result.output == (
        "updated net.py\nrecorded test_net.py (the file stays as it is)\n"
    )


def test_a_file_made_before_the_manifest_is_adopted_with_kind(runner, tmp_path):
    model = tmp_path / "wide_net.py"
    printed = runner.invoke(
        cli, ["new", "sequential", "WideNet", "--units", "8", "--stdout"]
    )
    model.write_text(printed.output.replace(CALL, CALL + MINE))
    result = runner.invoke(
        cli, ["update", str(model), "--kind", "sequential", "--units", "8"]
    )
    assert result.exit_code == 0, result.output
    assert result.output == f"recorded {model} as sequential WideNet\n"
    assert MINE in model.read_text()  # adopting changes nothing in the file
    assert entries(tmp_path)["wide_net.py"]["values"]["units"] == "8"
    result = runner.invoke(cli, ["update", str(model), "--units", "4"])
    assert result.exit_code == 0, result.output
    assert MINE in model.read_text() and "units=(4,)," in model.read_text()
    result = runner.invoke(cli, ["update", str(model), "--kind", "sequential"])
    assert result.exit_code == 2 and "already recorded" in result.output


def test_a_moved_file_is_found_by_content_or_named_with_from(
    runner, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    make(tmp_path)
    (tmp_path / "sub").mkdir()
    os.rename("net.py", "sub/renamed.py")  # unchanged: found by its content
    result = runner.invoke(cli, ["update", "--all", "--outputs", "3"])
    assert result.exit_code == 0, result.output
    assert "updated sub/renamed.py" in result.output
    assert "outputs=3," in Path("sub/renamed.py").read_text()
    assert "sub/renamed.py" in entries(tmp_path) and "net.py" not in entries(tmp_path)
    assert not (tmp_path / base_path("net.py")).exists()
    # Moved and edited: the message says how to tell where it went.
    edit(Path("sub/renamed.py"), CALL, CALL + MINE)
    os.rename("sub/renamed.py", "moved.py")
    result = runner.invoke(cli, ["update", "--all", "--outputs", "4"])
    assert result.exit_code == 1
    assert (
        "missing sub/renamed.py: if it moved, kscaffold update NEW_PATH --from "
        "sub/renamed.py; if it is gone, kscaffold destroy sub/renamed.py"
    ) in result.output
    result = runner.invoke(
        cli, ["update", "moved.py", "--from", "sub/renamed.py", "--outputs", "4"]
    )
    assert result.exit_code == 0, result.output
    text = Path("moved.py").read_text()
    assert MINE in text and "outputs=4," in text
    assert "moved.py" in entries(tmp_path)


# --- destroy ---------------------------------------------------------------------------


def test_destroy_removes_unchanged_files_only_and_nothing_it_did_not_record(
    runner, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    make(tmp_path)
    make(tmp_path, name="Other")
    Path("mine.py").write_text("# not generated\n")
    edit(Path("net.py"), CALL, CALL + MINE)
    before = tree(tmp_path)
    result = runner.invoke(cli, ["destroy", "mine.py"])
    assert (
        result.exit_code == 2
        and "'mine.py' is not a file kscaffold recorded" in result.output
    )
    result = runner.invoke(cli, ["destroy", "Net", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "would remove test_net.py\n"
        "would keep net.py: edited since written (--force removes it)\n"
    )
    assert tree(tmp_path) == before
    result = runner.invoke(cli, ["destroy", "net.py"])  # a model brings its test
    assert result.exit_code == 1, result.output
    assert "removed test_net.py\nkept net.py: edited" in result.output
    assert Path("net.py").read_text() == before["net.py"].decode()
    assert not Path("test_net.py").exists()
    assert sorted(entries(tmp_path)) == ["net.py", "other.py", "test_other.py"]
    result = runner.invoke(cli, ["destroy", "net", "--force"])  # a module name
    assert result.exit_code == 0 and result.output == "removed net.py\n"
    assert sorted(entries(tmp_path)) == ["other.py", "test_other.py"]
    assert Path("mine.py").read_text() == "# not generated\n"
    assert Path("other.py").read_bytes() == before["other.py"]
    assert not (tmp_path / base_path("net.py")).exists()


# --- failures --------------------------------------------------------------------------


def test_a_failure_at_any_write_of_update_leaves_files_and_manifest_as_they_were(
    tmp_path, monkeypatch
):
    model = make(tmp_path)
    edit(model, CALL, CALL + MINE)
    before = tree(tmp_path)
    real = scaffold.writer._write_text
    calls = []

    def counting(path, text, *args):
        calls.append(path)
        return real(path, text, *args)

    monkeypatch.setattr(scaffold.writer, "_write_text", counting)
    scratch = tmp_path.parent / (tmp_path.name + "-scratch")
    shutil.copytree(tmp_path, scratch)
    update([scratch / "net.py"], values={"units": "32"})
    writes = len(calls)
    assert writes == 4  # net.py, test_net.py's and net.py's base, the manifest
    for k in range(1, writes + 1):
        calls.clear()

        def failing(path, text, *args, k=k):
            calls.append(path)
            if len(calls) == k:
                raise OSError(errno.ENOSPC, "No space left on device", str(path))
            return real(path, text, *args)

        monkeypatch.setattr(scaffold.writer, "_write_text", failing)
        with pytest.raises(Exception, match="No space left"):
            update([model], values={"units": "32"})
        assert tree(tmp_path) == before, k


# --- properties ------------------------------------------------------------------------

COMMENTS = [
    "        # Not `self.outputs`: Keras reads that name as a model's output tensors.\n",
    "        # Hidden stack: edit widths and layers here; build() follows this list.\n",
    "        # Build every sublayer so summary() and saving see real weights.\n",
]
WORDS = st.text(string.ascii_letters + string.digits + " ", min_size=1, max_size=30)
OPTIONS = st.one_of(
    st.integers(1, 512)
    .filter(lambda n: n != 64)
    .map(lambda n: ("units", str(n), f"units=({n},),")),
    st.sampled_from(["0.1", "0.25", "0.5", "0.75"]).map(
        lambda r: ("dropout", r, f"dropout={r},")
    ),
    st.integers(2, 16).map(lambda n: ("accumulate", str(n), f"accumulate_steps={n},")),
)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pristine")
    make(folder)
    return folder


def copy_of(pristine: Path) -> tuple[tempfile.TemporaryDirectory, Path]:
    scratch = tempfile.TemporaryDirectory()
    shutil.copytree(pristine, Path(scratch.name), dirs_exist_ok=True)
    return scratch, Path(scratch.name) / "net.py"


def user_lines(ours: str, base: str) -> list[str]:
    """The lines the user wrote: those of ``ours`` that the base does not have."""
    written = set(base.splitlines())
    return [line for line in ours.splitlines() if line not in written]


@SETTINGS
@given(
    call_lines=st.lists(WORDS, max_size=3),
    method=st.booleans(),
    comment=st.one_of(st.none(), st.tuples(st.sampled_from(COMMENTS), WORDS)),
    option=OPTIONS,
)
def test_edits_elsewhere_and_an_option_change_merge_cleanly(
    pristine, call_lines, method, comment, option
):
    scratch, model = copy_of(pristine)
    with scratch:
        text = model.read_text()
        base = text
        added = [f"        x = x + 0.0  # {words}\n" for words in call_lines]
        text = text.replace(CALL, CALL + "".join(added), 1)
        if method:
            text += '\n    def describe(self):\n        return "mine"\n'
        if comment:
            old, words = comment
            text = text.replace(old, f"        # {words}\n", 1)
        model.write_text(text)
        name, value, shown = option
        [done] = update([model], values={name: value}).files[:1]
        assert done.conflicts == 0
        merged = model.read_text()
        assert shown in merged
        for line in user_lines(text, base):
            assert line in merged.splitlines(), line
        if comment:
            assert comment[0] not in merged


@SETTINGS
@given(mine=st.integers(1, 999).filter(lambda n: n != 64), theirs=st.integers(1, 999))
def test_edits_to_the_same_lines_conflict_holding_both_sides(pristine, mine, theirs):
    if theirs in (64, mine):
        theirs = 64 + mine  # a real change on both sides, and a different one
    scratch, model = copy_of(pristine)
    with scratch:
        edit(model, "units=(64,),", f"units=({mine},),")
        [done] = update([model], values={"units": str(theirs)}).files[:1]
        merged = model.read_text()
        assert done.conflicts == 1
        ours_at = merged.index(f"        units=({mine},),\n")
        base_at = merged.index("        units=(64,),\n")
        theirs_at = merged.index(f"        units=({theirs},),\n")
        assert merged.index("<<<<<<< ") < ours_at < base_at < theirs_at
        assert theirs_at < merged.index(">>>>>>> ")


@MERGE_SETTINGS
@given(data=st.data())
def test_no_line_the_user_wrote_is_ever_lost(data):
    """Any edits (replaced lines, new lines, anywhere) against any change of kscaffold's:
    every line the user wrote is in the result, merged or inside conflict markers."""
    base = data.draw(st.lists(WORDS, min_size=1, max_size=12)).copy()
    base = [f"{line}\n" for line in base]

    def edited(lines):
        lines = list(lines)
        for _ in range(data.draw(st.integers(0, 4))):
            at = data.draw(st.integers(0, len(lines)))
            if lines and data.draw(st.booleans()):
                lines[min(at, len(lines) - 1)] = data.draw(WORDS) + "\n"
            else:
                lines.insert(at, data.draw(WORDS) + "\n")
        return lines

    ours, theirs = edited(base), edited(base)
    merged = merge("".join(base), "".join(ours), "".join(theirs), "f")
    result = merged.text.splitlines()
    for line in user_lines("".join(ours), "".join(base)):
        assert line in result
    if not merged.conflicts:
        for line in user_lines("".join(theirs), "".join(base)):
            assert line in result


# --- a template change in an init project, through the console script -------------------


def test_update_after_a_template_change_keeps_edits_and_the_model_trains(
    runner, tmp_path
):
    pytest.importorskip("keras")
    team = tmp_path / "team"
    assert (
        runner.invoke(cli, ["templates", "eject", "sequential", str(team)]).exit_code
        == 0
    )
    (team / "_project").mkdir()
    shutil.copy(builtin_templates() / "_project" / "train.py.j2", team / "_project")
    project = tmp_path / "demo"
    result = runner.invoke(cli, ["init", str(project), "--templates", str(team)])
    assert result.exit_code == 0, result.output
    model = project / "demo" / "models" / "classifier.py"
    edit(model, CALL, CALL + MINE)
    # The team changes two templates, in regions the user did not touch.
    edit(team / "sequential" / "_common" / "dense_model.py.j2",
         "# Every constructor argument, so", "# Every constructor argument (team), so")  # fmt: skip
    edit(team / "_project" / "train.py.j2", '"""Train one', '"""Team script. Train one')
    kscaffold = Path(sys.executable).parent / "kscaffold"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = run_ok(str(kscaffold), "update", "--all", cwd=project, env=env)
    assert done.stdout == (
        "updated demo/models/classifier.py (your edits kept)\nupdated demo/train.py\n"
    )
    text = model.read_text()
    assert MINE in text and "# Every constructor argument (team), so" in text
    assert (project / "demo" / "train.py").read_text().startswith('"""Team script.')
    # Compiles, trains and round-trips, as `kscaffold check` does (in this process:
    # the suite has imported keras already).
    from scaffold.verify import check_file

    [outcome] = check_file(model)
    assert (outcome.name, outcome.stage) == ("Classifier", "ok"), outcome.reason

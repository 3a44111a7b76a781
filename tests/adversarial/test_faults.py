"""All or nothing under faults and races, through the real commands.

A fault (ENOSPC) is injected at every call that changes the disk in turn: the
folder must end byte for byte as it was (nothing lost, nothing left behind), or,
with no fault, complete. A file that appears between the check and the write is
never replaced without ``--force``.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

import scaffold.bootstrap
import scaffold.generate
import scaffold.writer
from scaffold.bootstrap import init
from scaffold.cli import cli
from scaffold.eject import eject_kind
from scaffold.errors import WriteError
from scaffold.generate import new

# The calls through which writer.py changes the disk.
MUTATING = frozenset({"open", "write", "link", "replace", "rename", "mkdir"})


class FaultyOS:
    """``os`` for writer.py: the ``fail_at``-th changing call raises ENOSPC."""

    def __init__(self, fail_at: int | None = None, before=None) -> None:
        self.fail_at = fail_at
        self.before = before  # called before each changing call (a race)
        self.calls = 0

    def __getattr__(self, name):
        real = getattr(os, name)
        if name not in MUTATING:
            return real

        def call(*args, **kwargs):
            self.calls += 1
            if self.before is not None:
                self.before(name, args)
            if self.calls == self.fail_at:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(args[0]))
            return real(*args, **kwargs)

        return call


def state(folder: Path) -> dict[str, object]:
    """Everything under ``folder``: files with bytes and mode, folders, links."""
    found: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            found[key] = ("link", os.readlink(path))
        elif stat.S_ISDIR(info.st_mode):
            found[key] = ("dir", stat.S_IMODE(info.st_mode))
        else:
            found[key] = (path.read_bytes(), stat.S_IMODE(info.st_mode))
    return found


# name -> (command line with {dest}, the core call, files the user has there before)
SCENARIOS = {
    "new --with-test": (
        "new sequential Regressor -o {dest} --with-test",
        lambda d: new("sequential", "Regressor", {}, destination=d, with_test=True),
        {"notes.txt": "mine\n", "tests/conftest.py": "# my fixtures\n"},
    ),
    "new --force": (
        "new layer Scale -o {dest} --with-test --force",
        lambda d: new("layer", "Scale", {}, destination=d, with_test=True, force=True),
        {"scale.py": "# my edits\n", "tests/test_scale.py": "# my test\n"},
    ),
    "init": ("init {dest}/proj", lambda d: init(d / "proj"), {}),
    "init into an empty folder": (
        "init {dest}/proj",
        lambda d: init(d / "proj"),
        {"proj/.keep": ""},
    ),
    "init --force": (
        "init {dest}/proj --force",
        lambda d: init(d / "proj", force=True),
        {"proj/README.md": "# my readme\n", "proj/tests/test_train.py": "# mine\n"},
    ),
    "eject": (
        "templates eject gan {dest}/team",
        lambda d: eject_kind("gan", d / "team"),
        {"team/x.txt": "x\n"},
    ),
    "eject --force": (
        "templates eject gan {dest}/team --force",
        lambda d: eject_kind("gan", d / "team", force=True),
        {"team/gan/kind.toml": "# my kind\n", "team/gan/mine.j2": "{{ x }}\n"},
    ),
}


def _setup(tmp_path: Path, name: str, index: int) -> Path:
    dest = tmp_path / f"run{index}"
    dest.mkdir()
    for relative, text in SCENARIOS[name][2].items():
        path = dest / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o640)
    if name == "init into an empty folder":
        (dest / "proj" / ".keep").unlink()
    return dest


@pytest.fixture
def render_once(monkeypatch):
    """Each model and project is rendered once per test: the faults are in the
    writing, and rendering again for each of ~40 faults would cost seconds."""
    for module, function in (
        (scaffold.bootstrap, "render_project"),
        (scaffold.generate, "render_files"),
        (scaffold.generate, "render_model_test"),
    ):
        real = getattr(module, function)
        cache: dict[str, object] = {}

        def cached(*args, _real=real, _cache=cache, **options):
            # A project's key leaves out its folder, which differs run to run.
            head = args[0].destination.name if hasattr(args[0], "destination") else args
            key = repr((head, sorted(options.items())))
            if key not in _cache:
                _cache[key] = _real(*args, **options)
            return _cache[key]

        monkeypatch.setattr(module, function, cached)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_fault_at_every_write_leaves_all_or_nothing(
    runner, tmp_path, monkeypatch, render_once, name
):
    command, call, _ = SCENARIOS[name]
    dest = _setup(tmp_path, name, 0)
    before = state(dest)
    counting = FaultyOS()
    monkeypatch.setattr(scaffold.writer, "os", counting)
    call(dest)
    complete = state(dest)
    assert complete != before
    assert not [k for k in complete if ".kscaffold-" in k]  # no spare name left
    total = counting.calls
    assert total >= 3  # a temporary file, its link, a folder at least
    kept = 0
    for fail_at in range(1, total + 1):
        dest = _setup(tmp_path, name, fail_at)
        before = state(dest)
        monkeypatch.setattr(scaffold.writer, "os", FaultyOS(fail_at))
        if fail_at in (1, total // 2, total):  # the message, through the CLI
            result = runner.invoke(cli, command.format(dest=dest).split())
            assert result.exit_code == 1, (fail_at, result.output)
            assert result.output.count("\n") == 1, result.output
            assert "No space left on device" in result.output
        else:
            with pytest.raises(WriteError, match="No space left on device"):
                call(dest)
        assert state(dest) == before, f"fault at write {fail_at} of {total}"
        kept += 1
    assert kept == total


def _race(dest: Path, relative: str, text: str):
    """Before the first link or O_EXCL open of ``relative``, another program writes it."""
    done = []

    def before(name, args):
        target = args[-1] if name == "link" else args[0]
        if not done and name in ("link", "open") and Path(target) == dest / relative:
            done.append(True)
            (dest / relative).parent.mkdir(parents=True, exist_ok=True)
            (dest / relative).write_text(text)

    return before, done


RACES = {
    "new": (["new", "sequential", "Regressor", "-o", "{dest}"], "regressor.py"),
    "new --with-test": (
        ["new", "layer", "Scale", "-o", "{dest}", "--with-test"],
        "test_scale.py",
    ),
    "init": (["init", "{dest}/proj"], "proj/proj/train.py"),
    "init --force": (
        ["init", "{dest}/proj", "--force"],
        "proj/proj/train.py",
    ),
    "eject": (["templates", "eject", "layer", "{dest}/team"], "team/layer/kind.toml"),
}


def _race_setup(folder: Path, name: str) -> None:
    folder.mkdir()
    if name == "init --force":
        (folder / "proj").mkdir()
        (folder / "proj" / "README.md").write_text("# mine\n")


@pytest.mark.parametrize("name", sorted(RACES))
def test_a_file_that_appears_after_the_check_is_never_replaced(
    runner, tmp_path, monkeypatch, name
):
    arguments, relative = RACES[name]
    mine = "# the user's own\n"
    # What the folder holds if the other program's write alone had happened.
    expected_folder = tmp_path / "expected"
    _race_setup(expected_folder, name)
    (expected_folder / relative).parent.mkdir(parents=True, exist_ok=True)
    (expected_folder / relative).write_text(mine)
    dest = tmp_path / "dest"
    _race_setup(dest, name)
    before_hook, done = _race(dest, relative, mine)
    monkeypatch.setattr(scaffold.writer, "os", FaultyOS(before=before_hook))
    result = runner.invoke(cli, [a.format(dest=dest) for a in arguments])
    assert done, "the race never happened"
    assert result.exit_code == 1, result.output
    assert "appeared while writing" in result.output
    assert "Traceback" not in result.output
    assert state(dest) == state(expected_folder)


def test_a_file_where_a_folder_goes_appearing_after_the_check(tmp_path):
    """The folder cannot be made: one error naming it, and nothing left."""
    targets = scaffold.writer.plan(tmp_path, [("sub/a.py", "x\n")], force=False)
    (tmp_path / "sub").write_text("mine\n")
    with pytest.raises(WriteError, match="sub': File exists"):
        scaffold.writer.write(targets)
    assert state(tmp_path) == {"sub": (b"mine\n", state(tmp_path)["sub"][1])}

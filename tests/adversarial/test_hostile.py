"""Every hostile input of issue 10 (findings 6 and 7): one line, exit 1 or 2, nothing
written, never a traceback; and the inputs that must simply work (a cache folder
someone else planted, a non-UTF-8 -o, --dry-run over an existing file) do.

Each case builds its files in a fresh folder, runs kscaffold there through Click's
CliRunner (a few also through the installed console script), and compares a snapshot
of the folder before and after.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import scaffold.render
from scaffold.cli import cli

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = Path(sys.executable).parent / "kscaffold"
BIG = "1" * 5000  # past Python's 4,300-digit limit on int <-> str
DEEP = "[" * 3000 + "]" * 3000  # past the recursion limit of tomllib


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every file (its bytes), folder and symlink (its target) under ``root``."""
    found: dict[str, bytes | str] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            key = os.fsdecode(path.relative_to(root))
            if path.is_symlink():
                found[key] = "-> " + os.readlink(path)
            elif path.is_dir():
                found[key] = "dir"
            else:
                found[key] = path.read_bytes()
    return found


def kind(root: Path, body: str, variable: str = "") -> None:
    """A user kind ``tiny`` in ``root``: one template, ``body`` after its description."""
    folder = root / "tiny"
    folder.mkdir(parents=True)
    (folder / "m.py.j2").write_text("X = 1\n")
    files = '[[files]]\ntemplate = "m.py.j2"\npath = "{{ module }}.py"\n'
    if variable:
        body += f'[variables.{variable}]\ntype = "int"\ndefault = 1\nhelp = "h"\n'
    (folder / "kind.toml").write_text(f'description = "tiny"\n{body}\n{files}')


def pyproject(text: str):
    return lambda root: (root / "pyproject.toml").write_text(text + "\n")


NEW = ["new", "sequential", "Net"]
# (setup(root), arguments, environment): each must be refused.
REFUSED = {
    "tool = 5": (pyproject("tool = 5"), NEW, {}),
    "tool = [1]": (pyproject("tool = [1]"), NEW, {}),
    'tool = "x"': (pyproject('tool = "x"'), NEW, {}),
    "[tool] kscaffold = 5": (pyproject("[tool]\nkscaffold = 5"), NEW, {}),
    "[tool] black = 5": (pyproject("[tool]\nblack = 5"), NEW, {}),
    "project = 5": (pyproject("project = 5"), NEW, {}),
    "5,000-digit integer": (pyproject(f"x = {BIG}"), NEW, {}),
    "deeply nested arrays": (pyproject(f"x = {DEEP}"), NEW, {}),
    "templates = 5": (pyproject("[tool.kscaffold]\ntemplates = 5"), NEW, {}),
    'templates = "x"': (pyproject('[tool.kscaffold]\ntemplates = "x"'), NEW, {}),
    "templates = ['~nouser/x']": (
        pyproject('[tool.kscaffold]\ntemplates = ["~nouser/x"]'),
        NEW,
        {},
    ),
    "black target_version = [1]": (
        pyproject("[tool.black]\ntarget_version = [1]"),
        NEW,
        {},
    ),
    "black target-version = ['py2']": (
        pyproject('[tool.black]\ntarget-version = ["py2"]'),
        NEW,
        {},
    ),
    'black target-version = "py311"': (
        pyproject('[tool.black]\ntarget-version = "py311"'),
        NEW,
        {},
    ),
    "black line_length = inf": (pyproject("[tool.black]\nline_length = inf"), NEW, {}),
    "black line-length = 0": (pyproject("[tool.black]\nline-length = 0"), NEW, {}),
    "black line-length = true": (
        pyproject("[tool.black]\nline-length = true"),
        NEW,
        {},
    ),
    "black line-length = 5,000-digit string": (
        pyproject(f'[tool.black]\nline-length = "{BIG}"'),
        NEW,
        {},
    ),
    'black preview = "yes"': (pyproject('[tool.black]\npreview = "yes"'), NEW, {}),
    "requires-python = 5": (pyproject("[project]\nrequires-python = 5"), NEW, {}),
    "requires-python of 5,000 digits": (
        pyproject(f'[project]\nrequires-python = "3.{BIG}"'),
        NEW,
        {},
    ),
    "KSCAFFOLD_TEMPLATES=~nouser/x": (
        lambda root: None,
        NEW,
        {"KSCAFFOLD_TEMPLATES": "~nouser/x"},
    ),
    "--templates ~nouser/x": (
        lambda root: None,
        [*NEW, "--templates", "~nouser/x"],
        {},
    ),
    **{
        f"kind variable {name!r} through new": (
            lambda root, name=name: kind(root / "t", "", name),
            ["new", "tiny", "Foo", "--templates", "t"],
            {},
        )
        for name in ("model", "with_test", "verify", "self", "None")
    },
    **{
        f"kind variable {name!r} through init --model": (
            lambda root, name=name: kind(root / "t", "", name),
            ["init", "proj", "--templates", "t", "--model", "sequential:Net"],
            {},
        )
        for name in ("model", "with_test", "verify")
    },
    "[[files]] path with a NUL": pytest.param(
        lambda root: (
            kind(root / "t", ""),
            (root / "t/tiny/kind.toml").write_text(
                'description = "t"\n[[files]]\ntemplate = "m.py.j2"\n'
                'path = "a\\u0000b.py"\n'
            ),
        ),
        ["new", "tiny", "Foo", "--templates", "t"],
        {},
    ),
    "kind.toml default of 5,000 digits": (
        lambda root: kind(root / "t", f"x = {BIG}\n"),
        ["new", "tiny", "Foo", "--templates", "t"],
        {},
    ),
    "kind.toml nested too deeply": (
        lambda root: kind(root / "t", f"x = {DEEP}\n"),
        ["new", "tiny", "Foo", "--templates", "t"],
        {},
    ),
    "kind.toml default = 1e309": (
        lambda root: kind(
            root / "t",
            '[variables.n]\ntype = "float"\ndefault = 1e309\nhelp = "h"\n',
        ),
        ["new", "tiny", "Foo", "--templates", "t"],
        {},
    ),
}


@pytest.fixture(autouse=True)
def own_cache(tmp_path_factory, monkeypatch):
    """Compiled templates go to a cache folder outside the snapshots."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


def refused(exit_code: int, stderr: str) -> None:
    assert exit_code in (1, 2), stderr
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr


def invoke(root: Path, args: list[str], env: dict[str, str], monkeypatch):
    monkeypatch.chdir(root)
    return CliRunner().invoke(cli, args, env=env)


def named(cases: dict) -> list:
    return [
        (
            pytest.param(*case, id=name)
            if not hasattr(case, "marks")  # a plain tuple, not a pytest.param
            else pytest.param(*case.values, id=name, marks=case.marks)
        )
        for name, case in cases.items()
    ]


@pytest.mark.parametrize("setup, args, env", named(REFUSED))
def test_a_hostile_input_is_one_line_and_writes_nothing(
    tmp_path, monkeypatch, setup, args, env
):
    setup(tmp_path)
    before = snapshot(tmp_path)
    result = invoke(tmp_path, args, env, monkeypatch)
    refused(result.exit_code, result.stderr)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "code, reason",
    [
        ("import os\n\nos._exit(0)\n", "SystemExit: os._exit(0) called"),
        ("from os import _exit\n\n_exit(3)\n", "SystemExit: os._exit(3) called"),
        ("import sys\n\nsys.exit(0)\n", "SystemExit: 0"),
        (
            "import os\nimport signal\n\nos.kill(os.getpid(), signal.SIGTERM)\n",
            "SystemExit: SIGTERM received",
        ),
    ],
    ids=["os._exit(0)", "from os import _exit", "sys.exit(0)", "SIGTERM"],
)
def test_check_of_a_file_that_ends_at_import_is_a_failed_row(tmp_path, code, reason):
    # In a process of its own: a regression would end pytest itself, with status 0.
    (tmp_path / "bye.py").write_text(code)
    before = snapshot(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "scaffold", "check", "bye.py"],
        check=False,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    row = " ".join(done.stdout.splitlines()[1].split())
    # The suite runs on TensorFlow (tests/conftest.py); the row names the backend.
    assert row == f"bye.py - tensorflow failed at import {reason}"
    assert "Traceback" not in done.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "plant",
    ["file", "symlink", "other owner", "writable by others"],
)
def test_a_cache_folder_it_does_not_own_is_never_used_nor_a_crash(
    tmp_path, monkeypatch, plant
):
    cache = tmp_path / "cache"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cache.mkdir()
    folder = cache / "kscaffold"
    if plant == "file":
        folder.write_text("not a folder\n")
    elif plant == "symlink":
        folder.symlink_to(elsewhere)
    else:
        folder.mkdir(mode=0o700)
        if plant == "writable by others":
            folder.chmod(0o777)
        else:  # as if another user had made it: this process is someone else
            uid = os.getuid()
            monkeypatch.setattr(scaffold.render.os, "getuid", lambda: uid + 1)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    # Jinja's own folder in the temporary directory, blocked by a file.
    monkeypatch.setattr("tempfile.tempdir", str(elsewhere))
    (elsewhere / f"_jinja2-cache-{os.getuid()}").write_text("blocked\n")
    before = snapshot(cache), snapshot(elsewhere)
    assert scaffold.render.UserBytecodeCache.for_user() is None
    out = tmp_path / "out"
    result = invoke(tmp_path, [*NEW, "-o", str(out)], {}, monkeypatch)
    assert result.exit_code == 0, result.output
    assert (out / "net.py").is_file()
    assert (snapshot(cache), snapshot(elsewhere)) == before


def test_its_own_cache_folder_is_used(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    result = invoke(tmp_path, [*NEW, "--dry-run"], {}, monkeypatch)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "cache" / "kscaffold"
    assert oct(folder.stat().st_mode & 0o777) == oct(0o700)
    assert list(folder.glob("jinja-*.cache")), "nothing cached"
    for cached in folder.glob("jinja-*.cache"):
        cached.write_bytes(b"j2\x00damaged")  # a damaged file: compiled again
    again = invoke(tmp_path, [*NEW, "--dry-run"], {}, monkeypatch)
    assert again.exit_code == 0 and again.output == result.output


@pytest.mark.skipif(
    sys.getfilesystemencoding() != "utf-8", reason="bytes file names: POSIX only"
)
def test_a_non_utf8_output_folder_works_fully(tmp_path, monkeypatch):
    out = os.fsdecode(b"out\xff")  # '\udcff': the byte 0xff as Python holds it
    result = invoke(tmp_path, [*NEW, "-o", out, "--with-test"], {}, monkeypatch)
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.splitlines() == [
        b"wrote out\xff/net.py",
        b"wrote out\xff/test_net.py",
    ]
    # .kscaffold holds the manifest (no pyproject.toml around: the output folder).
    assert sorted(os.listdir(tmp_path / out)) == [".kscaffold", "net.py", "test_net.py"]


def test_dry_run_over_an_existing_file_says_it_needs_force(tmp_path, monkeypatch):
    (tmp_path / "net.py").write_text("# mine\n")
    before = snapshot(tmp_path)
    result = invoke(tmp_path, [*NEW, "--dry-run"], {}, monkeypatch)
    assert result.exit_code == 0, result.output
    assert result.stdout == "would overwrite net.py (it exists: needs --force)\n"
    assert snapshot(tmp_path) == before


def test_a_kind_variable_named_ctx_is_an_ordinary_option(tmp_path, monkeypatch):
    kind(tmp_path / "t", "", "ctx")
    args = ["new", "tiny", "Foo", "--templates", "t", "--ctx", "3", "--stdout"]
    result = invoke(tmp_path, args, {}, monkeypatch)
    assert result.exit_code == 0, result.output


@pytest.mark.skipif(not CONSOLE.exists(), reason="the installed console script")
def test_through_the_console_script(tmp_path):
    """The same refusals from the installed ``kscaffold``, run side by side."""
    cases = {
        "tool": (pyproject("tool = 5"), NEW, {}),
        "black": (pyproject("[tool.black]\nline_length = inf"), NEW, {}),
        "home": (lambda root: None, NEW, {"KSCAFFOLD_TEMPLATES": "~nouser/x"}),
        "exit": (
            lambda root: (root / "bye.py").write_text("import os\n\nos._exit(0)\n"),
            ["check", "bye.py"],
            {},
        ),
    }
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path)}
    runs = {}
    for name, (setup, args, extra) in cases.items():
        (tmp_path / name).mkdir()
        setup(tmp_path / name)
        before = snapshot(tmp_path / name)
        process = subprocess.Popen(
            [str(CONSOLE), *args],
            cwd=tmp_path / name,
            env={**env, **extra},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        runs[name] = (process, before)
    # A strict stdout (as under LANG=en_US.UTF-8) and an -o of bytes that are not UTF-8.
    strict = subprocess.Popen(
        [str(CONSOLE), *NEW, "-o", b"out\xfe"],
        cwd=tmp_path,
        env={**env, "PYTHONIOENCODING": "utf-8:strict"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    for name, (process, before) in runs.items():
        stdout, stderr = process.communicate(timeout=60)
        if name == "exit":  # a row of the report, not an error line
            assert process.returncode == 1, stderr
            assert "failed at import" in stdout and "Traceback" not in stderr
        else:
            refused(process.returncode, stderr)
        assert snapshot(tmp_path / name) == before, name
    stdout, stderr = strict.communicate(timeout=60)
    assert strict.returncode == 0, stderr
    assert stdout == b"wrote out\xfe/net.py\n"


@pytest.mark.parametrize("length", [238, 245, 252])
def test_a_class_name_that_fits_the_file_system_is_written(runner, tmp_path, length):
    """Temporary and recorded names are short: only the module's own name counts."""
    name = "L" + "a" * (length - 1)  # module "l" + "a"...: length + ".py" <= 255
    result = runner.invoke(cli, ["new", "layer", name, "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / f"{name.lower()}.py").is_file()
    too_long = "L" + "a" * 252  # 253 + ".py" > 255
    result = runner.invoke(cli, ["new", "layer", too_long, "-o", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert "File name too long" in result.output and "cannot write" in result.output

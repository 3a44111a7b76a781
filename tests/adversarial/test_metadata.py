"""Hostile kind.toml files and absurd sizes: one line, exit 1 or 2, nothing written."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from scaffold.cli import cli

FILES = '[[files]]\ntemplate = "m.py.j2"\npath = "m.py"\n'
DEEP = "[" * 5000 + "1" + "]" * 5000
DEEPISH = "[" * 200 + "1" + "]" * 200
HOSTILE_KINDS = {
    "5,000-digit default": FILES + f'[variables.v]\ntype = "int"\ndefault = {"9" * 5000}\n',
    "5,000-digit bound": FILES + f'[variables.v]\ntype = "int"\nle = {"9" * 5000}\n',
    "float default above 1e308": FILES + '[variables.v]\ntype = "float"\ndefault = 1e309\n',
    "int default above 1e308": FILES
    + f'[variables.v]\ntype = "float"\ndefault = 1{"0" * 309}\n',
    "bound above 1e308": FILES
    + f'[variables.v]\ntype = "float"\ndefault = 1.0\ngt = 1{"0" * 309}\n',
    "deeply nested default": FILES + f'[variables.v]\ntype = "int_list"\ndefault = {DEEP}\n',
    "nested default": FILES + f'[variables.v]\ntype = "int_list"\ndefault = {DEEPISH}\n',
    "nested default of a string": FILES + f'[variables.v]\ntype = "string"\ndefault = {DEEPISH}\n',
    "nested rule": FILES + '[variables.v]\ntype = "int_list"\ndefault = [1]\n'
    f'[[rules]]\nwhen = {{ v = {DEEPISH} }}\nrefuse = "no"\n',
    "deeply nested table": FILES + "x = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n",
    "NUL in a [[files]] path": '[[files]]\ntemplate = "m.py.j2"\npath = "m\\u0000.py"\n',
    "line break in a [[files]] path": '[[files]]\ntemplate = "m.py.j2"\npath = "a\\nb.py"\n',
    "NUL in a template name": '[[files]]\ntemplate = "m\\u0000.j2"\npath = "m.py"\n',
    "huge [check] shape": FILES + f"[check]\nshape = [1{'0' * 400}]\n",
    "negative max_items": FILES + '[variables.v]\ntype = "int_list"\nmax_items = -1\n',
    "not UTF-8": b"description = '\xff'\n" + FILES.encode(),
}  # fmt: skip


@pytest.mark.parametrize("content", HOSTILE_KINDS.values(), ids=list(HOSTILE_KINDS))
def test_a_hostile_kind_toml_gets_one_line(tmp_path, content):
    kind = tmp_path / "templates" / "k"
    kind.mkdir(parents=True)
    metadata = kind / "kind.toml"
    if isinstance(content, bytes):
        metadata.write_bytes(content)
    else:
        metadata.write_text(content)
    (kind / "m.py.j2").write_text("X = 1\n")
    for args in (["new", "k", "Net"], ["show", "k"]):
        result = CliRunner().invoke(
            cli, [*args, "--templates", str(tmp_path / "templates")]
            + (["-o", str(tmp_path / "o")] if args[0] == "new" else [])
        )  # fmt: skip
        assert result.exit_code in (1, 2), result.output
        assert isinstance(result.exception, SystemExit)
        [line] = result.output.strip().splitlines()
        assert line.startswith("Error: ") and "kind.toml" in line, line
        assert len(line) < 800
    assert not (tmp_path / "o").exists()


ABSURD = [
    ["sequential", "--outputs", "9" * 4300],
    ["sequential", "--outputs", "9" * 4301],
    ["sequential", "--units", "64,40000"],
    ["sequential", "--outputs", "32769"],
    ["conditional", "--units", str(10**20)],
    ["recurrent", "--horizon", str(10**20)],
    ["recurrent", "--units", "16385"],
    ["recurrent", "--features", "100000"],
    ["recurrent", "--stateful", "--batch-size", str(2**31)],
    ["gan", "--latent-dim", str(10**9)],
    ["gan", "--data-shape", "28,28," + "9" * 50],
    ["layer", "--units", "1e9"],
    ["sequential", "--accumulate", "65537"],
]


@pytest.mark.parametrize("args", ABSURD, ids=lambda a: f"{a[0]} {a[-2]} {a[-1][:12]}")
def test_absurd_sizes_are_refused(tmp_path, args):
    result = CliRunner().invoke(
        cli, ["new", args[0], "Net", *args[1:], "-o", str(tmp_path)]
    )
    assert result.exit_code == 2, result.output
    [line] = result.output.strip().splitlines()
    assert "is not valid: expected" in line and "<=" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ["sequential", "--units", "32768", "--outputs", "32768"],
        ["recurrent", "--units", "16384", "--horizon", "32768", "--features", "32768"],
        ["gan", "--latent-dim", "32768", "--data-shape", "32768,2"],
        ["layer", "--units", "32768"],
    ],
)
def test_the_largest_sizes_render(tmp_path, args):
    result = CliRunner().invoke(cli, ["new", args[0], "Net", *args[1:], "--stdout"])
    assert result.exit_code == 0, result.output

"""examples/ holds what the tool generates now; `python examples/refresh.py` rewrites it."""

from __future__ import annotations

import importlib.util

import pytest

from scaffold.cli import cli
from scaffold.names import snake_case
from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location(
    "refresh", ROOT / "examples" / "refresh.py"
)
refresh = importlib.util.module_from_spec(spec)
spec.loader.exec_module(refresh)


@pytest.mark.parametrize("args", refresh.EXAMPLES, ids=lambda a: a[1])
def test_example_is_current(runner, args):
    result = runner.invoke(
        cli, ["new", *args, "-o", str(ROOT / "examples"), "--stdout"]
    )
    assert result.exit_code == 0, result.output
    example = ROOT / "examples" / f"{snake_case(args[1])}.py"
    assert (
        example.read_text() == result.output
    ), f"{example.name} is stale: run `python examples/refresh.py`"


def test_no_stray_examples():
    expected = {f"{snake_case(args[1])}.py" for args in refresh.EXAMPLES} | {
        "refresh.py"
    }
    assert {p.name for p in (ROOT / "examples").glob("*.py")} == expected

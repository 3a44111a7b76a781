"""2,000 fuzzed values per variable type through the real pipeline, into a user kind
that places the value everywhere: no traceback, no byte written on a rejection, no
change of structure on an acceptance. Each test prints its figures (see them with
``pytest -rA tests/adversarial``).

Every value goes through the core (:func:`scaffold.generate.kind_context`, then
:func:`scaffold.render.render`), which validates, renders and places it; its
structure is compared before Black, which is ~50 times slower than the rest. One
accepted value in 250 goes through the whole of :func:`scaffold.generate.new`
(Black, the write), and one value in 125 through the command line.
"""

from __future__ import annotations

import ast
import time
import traceback
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from scaffold.cli import cli
from scaffold.errors import ScaffoldError, UsageError
from scaffold.generate import kind_context, new, template_environment
from scaffold.render import render
from scaffold.workspace import resolve
from tests.adversarial.fuzz import TYPES, dump, make_kinds, raw_values, shape
from tests.conftest import tree

COUNT = 2000
BENIGN = {"identifier": "benign", "string": "benign"}


@pytest.fixture(scope="module")
def kinds(tmp_path_factory) -> Path:
    return make_kinds(tmp_path_factory.mktemp("fuzz") / "templates")


def literals(tree_: ast.Module) -> dict[str, object]:
    return {
        node.targets[0].id: node.value.value
        for node in tree_.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
    }


@pytest.mark.parametrize("type_name", TYPES)
def test_fuzzed_values(kinds, tmp_path, type_name):
    started = time.perf_counter()
    workspace = resolve(templates=[kinds], output=tmp_path / "out")
    kind = workspace.catalog.find(f"fuzz_{type_name}")
    env = template_environment(workspace.sources, kind.name)
    template = kind.files[0].template
    name = BENIGN.get(type_name, "")
    benign = render(env, template, kind_context(kind, "Net", {}, "tensorflow"))
    expected = shape(benign, name)
    lines = benign.count("\n")
    rejected_into = tmp_path / "rejected"
    rejected_into.mkdir()
    (rejected_into / "keep.txt").write_text("the user's file\n")
    before = tree(rejected_into)
    runner = CliRunner()
    counts: Counter[str] = Counter()
    problems: list[str] = []

    def problem(kind_of: str, raw: str, detail: str = "") -> None:
        counts[kind_of] += 1
        problems.append(f"{kind_of}: {raw!r}: {detail}"[:400])

    for index, raw in enumerate(raw_values(type_name, COUNT)):
        counts["values"] += 1
        try:
            context = kind_context(kind, "Net", {"v": raw}, "tensorflow")
        except UsageError as exc:
            counts["rejected"] += 1
            if "\n" in str(exc) or (raw and repr(raw)[:20] not in str(exc)):
                problem("unclear refusals", raw, str(exc))
            if index % 5 == 0:  # the whole of `new`, into a folder with a file
                try:
                    new(kind.name, "Net", {"v": raw}, workspace=workspace)
                    problem("accepted by new only", raw)
                except UsageError:
                    pass
                if tree(rejected_into) != before:
                    problem("bytes written on rejection", raw)
            continue
        except Exception:  # noqa: BLE001 (counting them is the test)
            problem("tracebacks", raw, traceback.format_exc(limit=-2))
            continue
        counts["accepted"] += 1
        try:
            source = render(env, template, context)
        except ScaffoldError as exc:
            problem("accepted values that fail", raw, str(exc))
            continue
        except Exception:  # noqa: BLE001
            problem("tracebacks", raw, traceback.format_exc(limit=-2))
            continue
        value = raw if type_name == "identifier" else ""
        parsed = ast.parse(source)
        if type_name in ("string", "choice") and literals(parsed)["X_DQ"] != f"a{raw}b":
            problem("literals that differ from the value", raw)
        if dump(parsed, value) != expected or source.count("\n") != lines:
            problem("structural changes", raw, source)
        if counts["accepted"] % 250 == 1:  # Black and the write
            destination = tmp_path / f"w{index}"
            [target] = new(kind.name, "Net", {"v": raw}, destination=destination,
                           template_dirs=[kinds])  # fmt: skip
            written = target.path.read_text()
            if shape(written, value) != shape(benign, name) and type_name != "string":
                problem("structural changes after Black", raw, written)
            counts["written"] += 1

    workspace_cli = tmp_path / "cli"
    for index, raw in enumerate(raw_values(type_name, COUNT)[::125]):
        option = ["--set", f"v={raw}"] if type_name == "bool" else ["--v", raw]
        destination = workspace_cli / str(index)
        result = runner.invoke(
            cli,
            ["new", kind.name, "Net", *option, "--templates", str(kinds),
             "-o", str(destination)],
        )  # fmt: skip
        counts["through the CLI"] += 1
        if result.exit_code not in (0, 2) or not isinstance(
            result.exception, (SystemExit, type(None))
        ):
            problem("tracebacks", raw, f"exit {result.exit_code}: {result.output}")
        elif result.exit_code == 2 and (
            destination.exists() or len(result.output.strip().splitlines()) != 1
        ):
            problem("bytes written on rejection", raw, result.output)
    elapsed = time.perf_counter() - started
    print(
        f"\n{type_name:<10} values {counts['values']:>5}  accepted {counts['accepted']:>5}"
        f"  rejected {counts['rejected']:>5}  through new+Black {counts['written']:>3}"
        f"  through the CLI {counts['through the CLI']:>3}  tracebacks "
        f"{counts['tracebacks']}  bytes written on rejection "
        f"{counts['bytes written on rejection']}  structural changes "
        f"{counts['structural changes'] + counts['structural changes after Black']}"
        f"  {elapsed:.1f} s"
    )
    assert counts["values"] >= 2000
    assert problems == []
    assert counts["accepted"] > 0
    assert counts["rejected"] > 0 or type_name == "string"  # any text is a string

"""The README's two fresh-machine commands, and CI running the test one verbatim."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", text, re.DOTALL).group(1)
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_readme_has_exactly_two_commands_and_ci_runs_the_test_one():
    main_job, tests = readme_commands()
    assert "kscaffold new" in main_job and "pip install ." in main_job
    assert "pytest" in tests
    assert tests in (ROOT / ".ci" / "run").read_text()

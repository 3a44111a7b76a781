"""Templates that would run for ever or fill memory end with one line and exit 1,
having written nothing: the time budget, the output cap and the size limits."""

from __future__ import annotations

import signal
import threading
import time

import pytest
from click.testing import CliRunner

from scaffold import render as render_module
from scaffold.cli import cli
from scaffold.errors import TemplateError
from scaffold.render import environment, render
from scaffold.sources import builtin_templates

FOREVER = (
    "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
)
HUGE = [
    "{% for a in range(100000) %}{% for b in range(100000) %}xxxxxxxx{% endfor %}{% endfor %}",
    "{{ 'a' * 1000000000 }}",
    "{{ ['a'] * 1000000000 }}",
    "{{ 'a'.ljust(1000000000) }}",
    "{{ 'a'|center(1000000000) }}",
    "{{ 'a'|indent(1000000000) }}",
    "{{ '{:>999999999}'.format(1) }}",
    "{{ '%0999999999d' % 1 }}",
    "{{ '%0999999999d'|format(1) }}",
    "{{ 10 ** 100000000 }}",
    "{{ lipsum(1000000000) }}",
    "{{ range(1000000000)|list }}",
]  # fmt: skip


def write_kind(tmp_path, body: str):
    kind = tmp_path / "templates" / "slow"
    kind.mkdir(parents=True, exist_ok=True)
    (kind / "kind.toml").write_text('[[files]]\ntemplate = "m.py.j2"\npath = "m.py"\n')
    (kind / "m.py.j2").write_text(body)
    return tmp_path / "templates"


@pytest.mark.parametrize("body", [FOREVER, *HUGE])
def test_a_runaway_template_ends_with_one_line(tmp_path, monkeypatch, body):
    monkeypatch.setattr(render_module, "TIME_BUDGET", 0.5)
    templates = write_kind(tmp_path, body)
    started = time.monotonic()
    result = CliRunner().invoke(
        cli,
        [
            "new",
            "slow",
            "Net",
            "--templates",
            str(templates),
            "-o",
            str(tmp_path / "o"),
        ],
    )
    assert time.monotonic() - started < 5  # measured: 0.5 s for the loop, ms for sizes
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: ") and "m.py.j2" in line
    assert any(
        reason in line
        for reason in ("time budget", "limit of", "characters", "MAX_RANGE")
    )
    assert not (tmp_path / "o").exists()


def test_the_budget_holds_outside_the_main_thread(tmp_path, monkeypatch):
    monkeypatch.setattr(render_module, "TIME_BUDGET", 0.5)
    (tmp_path / "m.py.j2").write_text(FOREVER)
    env = environment([tmp_path], builtin_templates())
    caught = []

    def run():
        try:
            render(env, "m.py.j2", {})
        except TemplateError as exc:
            caught.append(str(exc))

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert caught == ["m.py.j2: ran past its time budget of 0.5 s"]


def test_a_template_within_budget_leaves_no_timer_behind(tmp_path):
    (tmp_path / "m.py.j2").write_text("X = {{ range(3)|list }}\n")
    env = environment([tmp_path], builtin_templates())
    assert render(env, "m.py.j2", {}) == "X = [0, 1, 2]\n"
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)

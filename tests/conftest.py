"""Shared fixtures: a Click runner, generating a kind into a folder, importing the result."""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from scaffold.generate import new

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def no_user_templates(monkeypatch):
    """Tests see only the template directories they name."""
    monkeypatch.delenv("KSCAFFOLD_TEMPLATES", raising=False)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def generate(destination: Path, kind: str, name: str, **values) -> Path:
    """Generate ``kind`` as class ``name`` through the core API; return the file."""
    [target] = new(kind, name, values, destination=destination)
    return target.path


def load_module(path: Path):
    """Import a generated file under a unique module name."""
    name = f"{path.stem}_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes: to prove nothing was written."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }

"""Regenerate the example files with kscaffold itself: python examples/refresh.py

tests/test_examples.py fails when a file here differs from what the tool generates
now; run this script after changing a template, and review the diff.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

# The tutorial's three models, then one of each other kind, as kscaffold writes them.
EXAMPLES = [
    ["sequential", "SimpleSequentialModel", "--units", "64", "--outputs", "10"],
    ["conditional", "ConditionalModel"],
    ["sequential", "CustomTrainModel", "--units", "16", "--outputs", "1",
     "--output-activation", "linear", "--train-step", "--accumulate", "4"],
    ["recurrent", "Forecaster", "--cell", "gru", "--units", "64,32", "--horizon", "6",
     "--features", "3", "--stateful", "--batch-size", "16"],
    ["gan", "ImageGan", "--data-shape", "28,28,1", "--latent-dim", "64",
     "--units", "128,256"],
    ["layer", "DenseBlock", "--units", "16", "--activation", "relu"],
]  # fmt: skip


def main() -> None:
    sys.path.insert(0, str(HERE.parent))
    from scaffold.cli import cli

    # Generated in a scratch folder, then copied: written here, the files would be
    # recorded in a manifest at the repository's root (its pyproject.toml).
    with tempfile.TemporaryDirectory() as scratch:
        for args in EXAMPLES:
            cli.main(["new", *args, "-o", scratch], standalone_mode=False)
        for path in sorted(Path(scratch).glob("*.py")):
            shutil.copyfile(path, HERE / path.name)


if __name__ == "__main__":
    main()

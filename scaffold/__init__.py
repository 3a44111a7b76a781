"""kscaffold: render correct, ready-to-edit Keras 3 subclass source files."""


def __getattr__(name: str) -> str:
    # Resolved on first use: importlib.metadata costs ~50 ms at start-up, which
    # `kscaffold new` would pay on every run.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("kscaffold")
        except PackageNotFoundError:  # a checkout that was never installed
            return "0+unknown"
    raise AttributeError(name)

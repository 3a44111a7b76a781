"""kscaffold: render correct, ready-to-edit Keras 3 subclass source files."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kscaffold")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"

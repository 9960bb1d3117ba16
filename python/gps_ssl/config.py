"""gps YAML configs, read by gps's own parser (dotted overrides, checks, defaults)."""
import os

from . import _core


def load_config(path=None, overrides=()):
    """The resolved config of `path` (a gps YAML file; None = the defaults) with
    "key=value" overrides applied, as a nested dict of typed values, every key
    included. Raises gps_ssl.Error naming the file and key for bad values."""
    return _core.load_config("" if path is None else os.fspath(path), list(overrides))

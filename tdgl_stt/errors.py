"""Exceptions that the command-line tool turns into one-line messages and exit status 2."""

from __future__ import annotations


class TdglSttError(Exception):
    """Base class of the errors tdgl-stt reports to the user without a traceback."""


class ConfigError(TdglSttError, ValueError):
    """A configuration value is missing, of the wrong type or out of range.

    Parameters
    ----------
    key
        Dotted path of the offending key, e.g. ``"model.tau"``.
    message
        What is wrong and what is allowed.
    """

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}")


class OutputError(TdglSttError, OSError):
    """The output file cannot be created or written."""


class InputFileError(TdglSttError, ValueError):
    """A NetCDF file given to tdgl-stt is missing, corrupted or not a tdgl-stt run."""

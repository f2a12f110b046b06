"""The ``automl`` command line: one module per sub-command, found by :func:`build_parser`."""

from automl.cli._main import build_parser, main

__all__ = ["build_parser", "main"]

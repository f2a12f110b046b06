"""The ``automl`` command: fit, predict, list, … (one module per sub-command in automl/cli/).

Bad input exits with code 2 and one readable message, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

from automl.errors import AutoMLError
from automl.experiment import Interrupted, storage_fault


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="automl", description="AutoML with Optuna, scikit-learn and LightGBM.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"automl.cli.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except AutoMLError as err:
        return _error(err)
    except OSError as err:  # a write outside the experiment stores (an output file): the same clear message
        fault = storage_fault(err, getattr(err, "filename", None) or "a file")
        if fault is None:
            raise
        return _error(fault)
    except Interrupted as err:
        print(f"\ninterrupted ({err}): stopped at once; an experiment it was running is cancelled, its completed "
              "trials kept, and it can be resumed.", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _error(err: AutoMLError) -> int:
    print(f"error: {err.problem}", file=sys.stderr)
    if err.fix:
        print(f"fix: {err.fix}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())

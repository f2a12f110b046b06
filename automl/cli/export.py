"""``automl export EXPERIMENT --format joblib|skops|onnx|bundle -o PATH``: the model as a file to ship.

``bundle`` is a zip of every format the model converts to, its model card and a README saying what each
file needs installed and how to call it. A format the model can't take (ONNX for an ensemble) is refused
with the reason; in a bundle it is left out and the README says why.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from automl.cli._common import EXPERIMENT_HELP, add_workspace, locate_experiment
from automl.experiment import atomic_write_bytes

FORMATS = ("joblib", "skops", "onnx", "bundle")
SUFFIX = {"joblib": ".joblib", "skops": ".skops", "onnx": ".onnx", "bundle": ".zip"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write an experiment's model as a .joblib, .skops, .onnx file or a bundle")
    p.add_argument("experiment", help=EXPERIMENT_HELP)
    p.add_argument("--format", choices=FORMATS, default="bundle",
                   help="skops (safe to load, needs automl), joblib (a pickle), onnx (needs only onnxruntime), or "
                        "bundle: a zip of those that apply, with the model card and a README (default)")
    p.add_argument("-o", "--output", default=None,
                   help="file to write, or a folder to write it into (default: model-<id>.<format> here)")
    add_workspace(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from automl.deploy import _export as export

    experiment = locate_experiment(args)
    if not experiment.has_model:
        raise experiment.no_model_error()
    default = f"model-{experiment.id}{SUFFIX[args.format]}"
    out = Path(args.output or default).expanduser()
    if out.is_dir():
        out = out / default
    if args.format == "bundle":
        data = export.bundle(experiment)
        atomic_write_bytes(out, data)
        import io
        import zipfile

        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        missing = [f for f in export.FORMATS if f"model.{f}" not in names]
        if missing:
            print(f"note: no {', '.join(missing)} file in the bundle; its README says why.", file=sys.stderr)
        print(f"Bundle written to {out} ({len(data) / 1e6:.1f} MB): {', '.join(names)}")
        return 0
    source = export.export_path(experiment, args.format)  # ONNX: refused with the reason if it can't convert
    data = source.read_bytes()
    atomic_write_bytes(out, data)
    print(f"{args.format} model of experiment {experiment.id} written to {out} ({len(data) / 1e6:.1f} MB)")
    return 0

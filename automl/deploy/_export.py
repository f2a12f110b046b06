"""Model files an experiment can be deployed as, and the bundle that ships them.

Three formats, each predicting on raw rows:

* ``skops`` - the experiment's own model file, loaded without running code; :func:`load_skops` refuses it
  unless every type in it is on the trusted list (:data:`automl.experiment.TRUSTED_TYPES`) and its tree
  indices are in range;
* ``joblib`` - a pickle, written in this process from the loaded model for people who want one. This
  tool loads a .joblib file given by path only when told to trust it (``--trust``);
* ``onnx`` - see :mod:`automl.deploy._onnx_export` (single pipelines without date columns).

Exports are written atomically into ``<experiment>/export/`` (ONNX is reused while the model file is unchanged).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from automl.data import NUMERIC
from automl.deploy._model_card import model_card, model_card_markdown
from automl.deploy._onnx_convert import MISSING_STRING
from automl.deploy._onnx_export import OnnxModel, export_onnx, model_fingerprint, onnx_predict, onnx_support  # noqa: F401
from automl.errors import AutoMLError
from automl.experiment import TRUSTED_TYPES, Experiment, atomic_write_with, load_model_file, untrusted_types

__all__ = ["FORMATS", "TRUSTED_TYPES", "bundle", "export_joblib", "export_onnx", "export_skops", "load_model",
           "load_skops", "model_card", "model_card_markdown", "onnx_predict", "onnx_support", "untrusted_types"]

FORMATS = ("joblib", "skops", "onnx")
JOBLIB_FILE = "export/model.joblib"


# -- skops and joblib -------------------------------------------------------------------------------------------------
def export_skops(experiment: Experiment) -> Path:
    """The experiment's skops file: the model file itself (already checked to hold only trusted types)."""
    if not experiment.has_model:
        raise experiment.no_model_error()
    return experiment.model_path


def export_joblib(experiment: Experiment) -> Path:
    """Write export/model.joblib, pickled here from the safely loaded model.

    Written afresh on every call, never reused: a file already in the folder may have been put there by
    anyone who can write to the workspace, and whoever downloads it will unpickle it.
    """
    import joblib

    model = experiment.load_model()
    path = experiment.file(JOBLIB_FILE)
    atomic_write_with(path, lambda p: joblib.dump(model, p))
    return path


def load_skops(path: str | Path) -> Any:
    """Load a skops file, refusing types outside the trusted list and out-of-range tree indices."""
    return load_model_file(path)


# -- any format -------------------------------------------------------------------------------------------------------
def load_model(path: str | Path, trust: bool = False) -> Any:
    """A model predicting on raw rows from a .skops, .onnx or (with ``trust``) .joblib file, by extension.

    A .joblib file is a pickle: loading it runs whatever code it names, so it is refused unless the caller
    says the file is their own.
    """
    path = Path(path)
    if not path.exists():
        raise AutoMLError(f"There is no model file '{path}'.", "Check the path.")
    suffix = path.suffix.lower()
    if suffix == ".joblib":
        if not trust:
            raise AutoMLError(f"Refusing to load '{path.name}': a .joblib file is a pickle, and loading it runs "
                              "any code it contains.",
                              "Use the experiment's .skops file (or its id) instead, or pass --trust if you "
                              "wrote this file yourself.")
        import joblib

        return joblib.load(path)  # the caller vouched for this file
    if suffix == ".skops":
        return load_skops(path)
    if suffix == ".onnx":
        return OnnxModel(path)
    raise AutoMLError(f"'{path.name}' is not a model file this tool knows ({suffix or 'no extension'}).",
                      "Give a .skops, .onnx or .joblib file.")


def export_path(experiment: Experiment, fmt: str) -> Path:
    """The file of format ``fmt`` for this experiment, exporting it first if needed."""
    if fmt == "joblib":
        return export_joblib(experiment)
    if fmt == "skops":
        return export_skops(experiment)
    if fmt == "onnx":
        return export_onnx(experiment)
    raise AutoMLError(f"Unknown model format '{fmt}'.", f"Choose from: {', '.join(FORMATS)}.")


def bundle(experiment: Experiment, formats: tuple[str, ...] | list[str] = FORMATS) -> bytes:
    """A zip of the model file(s), the model card (Markdown and JSON) and a README on loading each format.

    A requested format the model can't be exported to (e.g. ONNX for an
    ensemble) is left out and the README says why.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise AutoMLError(f"Unknown model format(s): {', '.join(unknown) or 'none given'}.",
                          f"Choose from: {', '.join(FORMATS)}.")
    files, skipped = {}, {}
    for fmt in formats:
        try:
            files[f"model.{fmt}"] = export_path(experiment, fmt)
        except AutoMLError as err:
            skipped[fmt] = err.problem
    card = model_card(experiment)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, path in files.items():
            zf.write(path, name)
        zf.writestr("model_card.md", model_card_markdown(card))
        zf.writestr("model_card.json", json.dumps(card, indent=2, default=str))
        zf.writestr("README.md", readme(experiment, list(files), skipped))
    return out.getvalue()


PROJECT = "automl-dashboard"  # the distribution name in pyproject.toml: what `pip install` takes


def readme(experiment: Experiment, included: list[str], skipped: dict[str, str]) -> str:
    """How to load and call each included file: what to install first, then a few lines that run as they are."""
    record, task, classes = experiment.record, experiment.task, experiment.classes
    cols = ", ".join(experiment.schema.features[:6]) + (" …" if len(experiment.schema.features) > 6 else "")
    version = record.versions.get(PROJECT)
    install = f"pip install {PROJECT}" + (f"=={version}" if version else "")
    proba = "print(model.predict_proba(rows))  # one column per class: " if classes else ""
    out = [f"# Model {experiment.name} ({experiment.id})", "",
           f"Predicts `{experiment.target}` ({task}) from the columns: {cols}.",
           "Every file predicts on raw rows: a table with the training columns (extra columns are ignored). "
           "In the examples, `rows.csv` is such a table of yours.",
           "See model_card.md for the columns, their types and allowed values, scores, limits and the library "
           "versions it was trained with.", ""]
    if "model.skops" in included:
        out += ["## model.skops (safe to load: no code runs on load)", "",
                f"Needs: `{install}`. The model holds this project's own classes (its preprocessing, and the "
                "ensemble or decision threshold if any), so skops alone can't rebuild it: `automl` must be "
                "importable.", "", "```python", "import pandas as pd", "from automl.deploy import load_model",
                "model = load_model('model.skops')  # refuses types outside automl's trusted list",
                "rows = pd.read_csv('rows.csv')", "print(model.predict(rows))",
                *([proba + ", ".join(map(str, classes))] if classes else []), "```",
                "With skops itself: `skops.io.load('model.skops', trusted=skops.io.get_untrusted_types("
                "file='model.skops'))` after reviewing that list (automl still installed).", ""]
    if Path(JOBLIB_FILE).name in included:
        out += ["## model.joblib (a pickle: load only a file you trust)", "",
                f"Needs: `{install}` (the pickle names automl's classes), with the scikit-learn and LightGBM "
                "versions of the model card: a pickle is not portable across versions.", "", "```python",
                "import joblib", "import pandas as pd", "model = joblib.load('model.joblib')  # runs code: trust it",
                "rows = pd.read_csv('rows.csv')", "print(model.predict(rows))",
                *([proba + ", ".join(map(str, classes))] if classes else []), "```",
                "`automl predict` loads it only with `--trust`.", ""]
    if "model.onnx" in included:
        out += ["## model.onnx (any ONNX runtime, no automl needed)", "",
                "Needs only: `pip install onnxruntime numpy`. One input per column, shape [rows, 1]: float32 for "
                f"numbers (NaN = missing), string for categories ('{MISSING_STRING}' = missing); the mapping "
                "from columns to inputs is in the file's metadata (`automl.inputs`).", "", "```python",
                "import json, numpy as np, onnxruntime as rt",
                "sess = rt.InferenceSession('model.onnx', providers=['CPUExecutionProvider'])",
                "inputs = json.loads(sess.get_modelmeta().custom_metadata_map['automl.inputs'])",
                f"row = {example_row(experiment)!r}",
                "feeds = {i['input']: np.array([[row[i['column']]]], dtype=np.float32 if i['type'] == 'float' "
                "else object) for i in inputs}",
                "print(sess.run(None, feeds))  # " + ("[labels, class probabilities]" if classes else "[predictions]"),
                "```", "With automl installed, `automl.deploy.load_model('model.onnx').predict(table)` casts a "
                "table for you.", ""]
    for fmt, why in skipped.items():
        out += [f"Not included: {fmt}. {why}", ""]
    return "\n".join(out)


def example_row(experiment: Experiment) -> dict[str, Any]:
    """One made-up row of the model's columns (the smallest training value, the most frequent category):
    a runnable example that shares no real row of the data."""
    row: dict[str, Any] = {}
    for col in experiment.schema.columns:
        if not col.usable:
            continue
        if col.kind == NUMERIC:
            row[col.name] = float(col.minimum) if col.minimum is not None else 0.0
        else:
            row[col.name] = str(col.categories[0]) if col.categories else MISSING_STRING
    return row

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

from automl.deploy._model_card import model_card, model_card_markdown
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


def readme(experiment: Experiment, included: list[str], skipped: dict[str, str]) -> str:
    """How to load and call each included file."""
    task, classes = experiment.task, experiment.classes
    cols = ", ".join(experiment.schema.features[:6]) + (" …" if len(experiment.schema.features) > 6 else "")
    out = [f"# Model {experiment.name} ({experiment.id})", "",
           f"Predicts `{experiment.target}` ({task}) from the columns: {cols}.",
           "Every file predicts on raw rows: a table with the training columns (extra columns are ignored).",
           "See model_card.md for the columns, their types and allowed values, scores and limits.", ""]
    if Path(JOBLIB_FILE).name in included:
        out += ["## model.joblib (scikit-learn Pipeline)", "", "```python", "import joblib, pandas as pd",
                "model = joblib.load('model.joblib')  # a pickle: only load files you trust",
                "model.predict(pd.read_csv('rows.csv'))" + ("  # and model.predict_proba(...)" if classes else ""),
                "```", "Needs this project (`automl`) installed, with the library versions in the model card. "
                "`automl predict` loads it only with `--trust`.", ""]
    if "model.skops" in included:
        out += ["## model.skops (safe to load: no code runs on load)", "", "```python", "import skops.io as sio",
                "types = sio.get_untrusted_types(file='model.skops')  # review these before trusting them",
                "model = sio.load('model.skops', trusted=types)", "```",
                "Or `automl.deploy.load_model('model.skops')`, which refuses types outside its trusted list "
                "and checks the trees' indices.", ""]
    if "model.onnx" in included:
        out += ["## model.onnx (any ONNX runtime, no Python model code needed)", "",
                "One input per column, shape [rows, 1]: float32 for numbers (NaN = missing), string for "
                "categories (empty string = missing). The input names are in the file's metadata "
                "(`automl.inputs`), e.g. with onnxruntime:", "", "```python", "import onnxruntime as rt",
                "sess = rt.InferenceSession('model.onnx')", "[i.name for i in sess.get_inputs()]",
                "outputs = sess.run(None, feeds)  # " + ("[labels, probabilities]" if classes else "[predictions]"),
                "```", "Or `automl.export.onnx_predict('model.onnx', frame)` to cast a table for you.", ""]
    for fmt, why in skipped.items():
        out += [f"Not included: {fmt}. {why}", ""]
    return "\n".join(out)

"""Model files an experiment can be deployed as, and the bundle that ships them.

Three formats, each predicting on raw rows:

* ``joblib`` - the experiment's own model.joblib (a pickle: load only files you trust);
* ``skops`` - the same objects in a format that is loaded without running code, and that
  :func:`load_skops` refuses unless every type in it is on :data:`TRUSTED_TYPES`;
* ``onnx`` - see :mod:`automl.onnx_export` (single pipelines without date columns).

Exports are written atomically into ``<experiment>/export/`` and reused while
model.joblib is unchanged.
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
from automl.experiment import MODEL, Experiment, atomic_write_with

__all__ = ["FORMATS", "TRUSTED_TYPES", "bundle", "export_onnx", "export_skops", "load_model",
           "load_skops", "model_card", "model_card_markdown", "onnx_predict", "onnx_support", "untrusted_types"]

FORMATS = ("joblib", "skops", "onnx")
SKOPS_FILE = "export/model.skops"
SKOPS_STATUS = "export/skops.json"
# Types a skops file of ours may contain beyond what skops trusts by default (scikit-learn's own
# estimators and numpy arrays). Anything else - a function, a class from another module - is refused.
TRUSTED_TYPES = frozenset({
    "automl.data._preprocess.FrameCoercer", "automl.data._preprocess.DatetimeParts",
    "automl.final._ensemble.WeightedEnsemble",
    "automl.evaluation._threshold.ThresholdClassifier",
    "collections.OrderedDict", "numpy.dtype",
    "lightgbm.basic.Booster", "lightgbm.sklearn.LGBMClassifier", "lightgbm.sklearn.LGBMRegressor",
    "sklearn.tree._tree.Tree", "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    "sklearn.metrics._dist_metrics.EuclideanDistance64", "sklearn.metrics._dist_metrics.MinkowskiDistance64",
    "sklearn.metrics._dist_metrics.ManhattanDistance64",
    "sklearn.neighbors._kd_tree.KDTree", "sklearn.neighbors._ball_tree.BallTree",
})


# -- skops ------------------------------------------------------------------------------------------------------------
def export_skops(experiment: Experiment) -> Path:
    """Write (or reuse) export/model.skops, checked to load back with only trusted types."""
    import skops.io as sio

    path, fingerprint = experiment.file(SKOPS_FILE), model_fingerprint(experiment)
    status = experiment.read_json(SKOPS_STATUS, {}) or {}
    if path.exists() and status.get("fingerprint") == fingerprint:
        return path
    model = experiment.load_model()
    atomic_write_with(path, lambda p: sio.dump(model, p))
    untrusted = untrusted_types(path)
    if untrusted:  # a new model part we have not vetted: say so now rather than at load time
        path.unlink(missing_ok=True)
        raise AutoMLError(f"The skops file would contain types not on our trusted list: {', '.join(untrusted)}.",
                          "Use the joblib file, or add the types to automl.export.TRUSTED_TYPES after review.")
    experiment.write_json(SKOPS_STATUS, {"fingerprint": fingerprint})
    return path


def untrusted_types(path: str | Path) -> list[str]:
    """The types in a skops file that are neither trusted by skops nor on :data:`TRUSTED_TYPES`."""
    import skops.io as sio

    try:
        found = sio.get_untrusted_types(file=str(path))
    except Exception as err:  # not a zip, or a broken schema
        raise AutoMLError(f"'{Path(path).name}' is not a readable skops file ({type(err).__name__}: {err}).",
                          "Export the model again.") from err
    return sorted(t for t in found if t not in TRUSTED_TYPES)


def load_skops(path: str | Path) -> Any:
    """Load a skops file, refusing it if it holds any type outside skops' defaults and :data:`TRUSTED_TYPES`."""
    import skops.io as sio

    untrusted = untrusted_types(path)
    if untrusted:
        raise AutoMLError(f"Refusing to load '{Path(path).name}': it contains untrusted type(s) "
                          f"{', '.join(untrusted)}.",
                          "Only load model files exported by this tool; re-export the model from its experiment.")
    trusted = sorted(set(sio.get_untrusted_types(file=str(path))))
    return sio.load(str(path), trusted=trusted)


# -- any format -------------------------------------------------------------------------------------------------------
def load_model(path: str | Path) -> Any:
    """A model predicting on raw rows from a .joblib, .skops or .onnx file (chosen by extension)."""
    path = Path(path)
    if not path.exists():
        raise AutoMLError(f"There is no model file '{path}'.", "Check the path.")
    suffix = path.suffix.lower()
    if suffix == ".joblib":
        import joblib

        return joblib.load(path)  # a pickle: the caller chose to trust this file
    if suffix == ".skops":
        return load_skops(path)
    if suffix == ".onnx":
        return OnnxModel(path)
    raise AutoMLError(f"'{path.name}' is not a model file this tool knows ({suffix or 'no extension'}).",
                      "Give a .joblib, .skops or .onnx file.")


def export_path(experiment: Experiment, fmt: str) -> Path:
    """The file of format ``fmt`` for this experiment, exporting it first if needed."""
    if fmt == "joblib":
        path = experiment.model_path
        if not path.exists():
            raise AutoMLError(f"Experiment {experiment.id} has no model yet.", "Wait for the search to finish.")
        return path
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
    if MODEL in included:
        out += ["## model.joblib (scikit-learn Pipeline)", "", "```python", "import joblib, pandas as pd",
                "model = joblib.load('model.joblib')  # a pickle: only load files you trust",
                "model.predict(pd.read_csv('rows.csv'))" + ("  # and model.predict_proba(...)" if classes else ""),
                "```", "Needs this project (`automl`) installed, with the library versions in the model card.", ""]
    if "model.skops" in included:
        out += ["## model.skops (safe to load: no code runs on load)", "", "```python", "import skops.io as sio",
                "types = sio.get_untrusted_types(file='model.skops')  # review these before trusting them",
                "model = sio.load('model.skops', trusted=types)", "```",
                "Or `automl.export.load_model('model.skops')`, which refuses types outside its trusted list.", ""]
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

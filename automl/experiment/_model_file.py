"""The experiment's model file: skops with an explicit list of trusted types, checked before it is used.

A pickle (joblib) runs whatever code its bytes name while it loads, so the product never unpickles a
model file it did not just write in this process. skops stores the same objects as data and builds
them only from types it is told to trust: the ones skops trusts by default (scikit-learn's estimators,
numpy arrays) and :data:`TRUSTED_TYPES`. A trusted type can still hold a tampered index array that
compiled code follows without bounds checks, so :func:`load_model_file` also checks those
(``_model_check``) before anything predicts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from automl.errors import AutoMLError
from automl.experiment._files import atomic_write_with
from automl.experiment._model_check import check_model
from automl.experiment._packed_trees import pack_trees

# Types a model file of ours may hold beyond skops' defaults, as the names skops reports
# (``skops.io.get_untrusted_types``) for a model of every algorithm in the registry, an ensemble and a
# threshold. Strings, so this package needs no import of the stages that define them. Each is built from
# data only: our classes from their attributes, LightGBM's Booster by LightGBM from its model string.
TRUSTED_TYPES = frozenset({
    "automl.data._preprocess.FrameCoercer", "automl.data._preprocess.DatetimeParts",
    "automl.final._ensemble.WeightedEnsemble",
    "automl.evaluation._threshold.ThresholdClassifier",
    "automl.experiment._packed_trees.PackedTrees",  # HistGradientBoosting's trees as arrays, sliced when read
    "collections.OrderedDict", "numpy.dtype",
    "lightgbm.basic.Booster", "lightgbm.sklearn.LGBMClassifier", "lightgbm.sklearn.LGBMRegressor",
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",  # files written before PackedTrees
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.calibration._CalibratedClassifier",  # inside CalibratedClassifierCV (a calibrated model to monitor)
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    "sklearn.metrics._dist_metrics.EuclideanDistance64", "sklearn.metrics._dist_metrics.MinkowskiDistance64",
    "sklearn.metrics._dist_metrics.ManhattanDistance64",
    "sklearn.neighbors._kd_tree.KDTree", "sklearn.neighbors._ball_tree.BallTree",
})


def untrusted_types(path: str | Path) -> list[str]:
    """The types in a skops file that are neither trusted by skops nor on :data:`TRUSTED_TYPES`."""
    import skops.io as sio

    try:
        found = sio.get_untrusted_types(file=str(path))
    except Exception as err:  # not a zip, or a broken schema: skops says which
        raise AutoMLError(f"'{Path(path).name}' is not a readable skops file ({type(err).__name__}: {err}).",
                          "Export the model again, or train the experiment again.") from err
    return sorted(t for t in found if t not in TRUSTED_TYPES)


def dump_model(model: Any, path: Path) -> None:
    """Write ``model`` to ``path`` as skops, atomically; refuse (and keep the old file) if it would hold a type
    we would refuse to load back."""
    import zipfile

    import skops.io as sio

    pack_trees(model)  # thousands of HistGradientBoosting trees: a few arrays, not an object each (10 s -> ms)

    def write(tmp: Path) -> None:
        # Deflated: skops' schema is verbose JSON; compressed, the file is ~10x smaller and loads faster. Level 1:
        # a forest of 500 deep trees wrote in 1.6 s instead of 3.6 s at the default level, 55 MB instead of 42.
        sio.dump(model, tmp, compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        bad = untrusted_types(tmp)
        if bad:  # a new model part nobody has vetted: say so now rather than at load time
            raise AutoMLError(f"The model holds types not on the trusted list: {', '.join(bad)}.",
                              "Add them to automl.experiment.TRUSTED_TYPES after review.")

    atomic_write_with(Path(path), write)


def load_model_file(path: str | Path) -> Any:
    """Load a skops model file: refused (naming the type) if it holds any type outside the trusted list, and
    refused if a tree or neighbour index points outside its arrays."""
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    path = Path(path)
    try:  # one pass: skops audits every type against its defaults and our list before building anything
        model = sio.load(str(path), trusted=sorted(TRUSTED_TYPES))
    except UntrustedTypesFoundException as err:
        raise AutoMLError(f"Refusing to load '{path.name}': it contains untrusted type(s) "
                          f"{', '.join(untrusted_types(path))}.",
                          "Only load model files written by this tool; export the model again from its "
                          "experiment.") from err
    except Exception as err:  # not a skops archive, or a trusted type given inconsistent state
        raise AutoMLError(f"'{path.name}' is not a readable skops file ({type(err).__name__}: {err}).",
                          "The file is damaged or was edited; export the model again, or train the experiment "
                          "again.") from err
    check_model(model, path.name)
    return model

"""What every contender shares: the datasets, the fixed splits, the metrics, the stored predictions.

Every contender sees the same training rows and is scored by the same code on
the same test rows, so a difference in the table is a difference in the tool.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DATA_ENV = "AUTOML_BENCH_DATA"
PRIMARY = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}
SECONDARY = {"binary": "accuracy", "multiclass": "accuracy", "regression": "r2"}
GREATER = {"roc_auc": True, "log_loss": False, "rmse": False, "accuracy": True, "r2": True}
TEST_SIZE = 0.2


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """``--data-dir``, else $AUTOML_BENCH_DATA, else ../shared/datasets next to the repository."""
    return Path(explicit or os.environ.get(DATA_ENV) or ROOT.parent / "shared" / "datasets")


@dataclass(frozen=True)
class Spec:
    name: str
    file: str
    target: str
    task: str
    rows: int


def manifest(directory: Path) -> list[Spec]:
    """The datasets listed in manifest.json, smallest first (a partial run then covers the most)."""
    entries = json.loads((directory / "manifest.json").read_text())
    specs = [Spec(e["name"], e["file"], e["target"], e["task"], int(e.get("rows", 0))) for e in entries]
    return sorted(specs, key=lambda s: s.rows)


def split(spec: Spec, directory: Path, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One fixed 80/20 split per seed, stratified for classification; rows without a target dropped."""
    frame = pd.read_csv(directory / spec.file)
    frame = frame[frame[spec.target].notna()].reset_index(drop=True)
    stratify = frame[spec.target] if spec.task != "regression" else None
    return train_test_split(frame, test_size=TEST_SIZE, random_state=seed, stratify=stratify)


def classes_of(y: pd.Series) -> list[str]:
    """Class labels as sorted strings: the column order every stored probability matrix uses."""
    return sorted(str(c) for c in pd.unique(y))


def align_proba(proba: np.ndarray, model_classes, classes: list[str]) -> np.ndarray:
    """Probabilities in ``classes`` order (zeros for a class the model never saw), rows summing to 1."""
    out = np.zeros((proba.shape[0], len(classes)))
    for j, c in enumerate(model_classes):
        out[:, classes.index(str(c))] = proba[:, j]
    total = out.sum(axis=1, keepdims=True)
    return out / np.where(total > 0, total, 1.0)


def score(task: str, y_true: np.ndarray, pred: np.ndarray, classes: list[str] | None = None) -> dict[str, float]:
    """The primary and secondary metric of a task.

    ``pred`` is the value vector for regression and the (n, n_classes) probability
    matrix in ``classes`` order for classification; ``y_true`` holds strings then.
    """
    if task == "regression":
        return {"rmse": float(skm.root_mean_squared_error(y_true, pred)), "r2": float(skm.r2_score(y_true, pred))}
    labels = np.asarray(classes, dtype=object)
    accuracy = float(np.mean(labels[np.argmax(pred, axis=1)] == y_true))
    if task == "binary":
        return {"roc_auc": float(skm.roc_auc_score(y_true == classes[1], pred[:, 1])), "accuracy": accuracy}
    return {"log_loss": float(skm.log_loss(y_true, np.clip(pred, 1e-15, 1), labels=classes)), "accuracy": accuracy}


def preds_path(results: Path, dataset: str, contender: str, seed: int, budget: float) -> Path:
    return results / "preds" / f"b{budget:g}" / f"{dataset}__{contender}__s{seed}.npz"


def save_preds(path: Path, y_true: np.ndarray, pred: np.ndarray, classes: list[str] | None) -> None:
    """Test-row predictions, kept so ties can be judged by bootstrap after the run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    y = np.asarray(y_true, dtype=str if classes else float)
    np.savez_compressed(path, y_true=y, pred=np.asarray(pred, dtype=float),
                        classes=np.asarray(classes or [], dtype=str))


def load_preds(path: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    with np.load(path) as data:
        return data["y_true"], data["pred"], [str(c) for c in data["classes"]]


def machine() -> dict[str, object]:
    """CPU count, RAM and load, written next to every figure since the machine may be shared."""
    info: dict[str, object] = {"cpus": os.cpu_count()}
    try:
        mem = Path("/proc/meminfo").read_text().split("\n")[0].split()
        info["ram_gb"] = round(int(mem[1]) / 1024 ** 2, 1)
        info["load_1_5_15"] = tuple(round(x, 2) for x in os.getloadavg())
    except (OSError, IndexError, ValueError):
        pass
    return info

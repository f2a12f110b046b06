"""Retrain on training + labelled live rows; champion and challenger on the same held-out rows; promote."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from conftest import SAMPLES

from automl.errors import AutoMLError
from automl.experiment import Workspace
from automl.monitor import champion_vs_challenger, promote
from automl.runner import start_retrain


def test_retrain_scores_both_on_the_champions_holdout(trained_titanic, tmp_path):
    live = pd.read_csv(SAMPLES / "titanic.csv").sample(200, random_state=1)
    with pytest.raises(AutoMLError, match="no 'Survived' column"):
        start_retrain(trained_titanic, live.drop(columns=["Survived"]))
    challenger = start_retrain(trained_titanic, live, trials=4)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and challenger.status not in ("completed", "failed"):
        time.sleep(0.5)
    assert challenger.status == "completed", challenger.meta.get("error")
    meta = challenger.meta
    assert meta["champion"] == trained_titanic.id and meta["live_rows_added"] == 200
    assert meta["rows"]["train"] == trained_titanic.meta["rows"]["train"] + 200
    same = challenger.holdout()["PassengerId"].tolist() == trained_titanic.holdout()["PassengerId"].tolist()
    assert same  # the very same held-out rows
    table = champion_vs_challenger(trained_titanic, challenger)
    assert set(table["metric"]) >= {"roc_auc", "accuracy"} and table["challenger"].notna().all()
    promote(trained_titanic, challenger)
    ws = Workspace(trained_titanic.path.parent)
    assert ws.get(trained_titanic.id).meta["superseded_by"] == challenger.id  # the link is on disk
    assert ws.get(challenger.id).meta["replaces"] == trained_titanic.id
    trained_titanic.update(superseded_by=None)  # leave the shared fixture as it was

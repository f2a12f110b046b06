"""Bad arguments to ``automl fit`` / ``automl.fit``: exit 2 with the sklearn-style message, and no experiment made.

(Here, beside the data tests, because the checks need the table: folds per class after the split.)
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import DATA

import automl
from automl.api import FitConfig
from automl.cli._main import main
from automl.errors import AutoMLError, ExperimentNotFound
from automl.experiment import Workspace

BAD = {
    "--time-budget nan": (["--time-budget", "nan"], "'time_budget' parameter of fit must be a finite number > 0"),
    "--time-budget inf": (["--time-budget", "inf"], "Got inf instead"),
    "--time-budget -5": (["--time-budget", "-5"], "Got -5.0 instead"),
    "--trials 0": (["--trials", "0"], "'trials' parameter of fit must be an integer >= 1"),
    "--seed -1": (["--seed", "-1"], "'seed' parameter of fit must be an integer >= 0 and < 4,294,967,296"),
    "--seed 2**32": (["--seed", str(2**32)], "'seed' parameter"),
    "--cv-folds 1": (["--cv-folds", "1"], "'cv_folds' parameter of fit must be an integer >= 2 and <= 20"),
    "--holdout 0.9": (["--holdout", "0.9"], "'holdout' parameter of fit must be a finite number > 0 and <= 0.5"),
    "--holdout 0": (["--holdout", "0"], "'holdout' parameter"),
    "--storage /etc/passwd": (["--storage", "sqlite:////etc/passwd"], "SQLite file inside the workspace"),
    "--storage redis": (["--storage", "redis://localhost/0"], "'storage' parameter of fit must be a database URL"),
    "--name 300 chars": (["--name", "n" * 300], "'name' parameter of fit must be a text of 1 to 200"),
    "--metric nope": (["--metric", "nope"], "Unknown metric 'nope'"),
    "--algorithms nope": (["--algorithms", "nope"], "Unknown algorithm"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_argument_exits_2_and_leaves_no_experiment(case, tmp_path, capsys):
    args, message = BAD[case]
    workspace = tmp_path / "ws"
    code = main(["fit", str(DATA / "credit-g.csv"), "--target", "class", "--trials", "1", *args,
                 "--workspace", str(workspace)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "fix:" in err, err
    assert not workspace.exists() or list(workspace.iterdir()) == []


def test_more_folds_than_a_class_has_training_rows_is_refused_before_an_experiment(tmp_path, capsys):
    frame = pd.DataFrame({"x": np.arange(40) % 9, "z": np.arange(40) % 5, "y": ["a"] * 30 + ["b"] * 10})
    path = tmp_path / "small.csv"
    frame.to_csv(path, index=False)
    code = main(["fit", str(path), "--target", "y", "--cv-folds", "10", "--workspace", str(tmp_path / "ws")])
    err = capsys.readouterr().err
    assert code == 2 and "'cv_folds' parameter of fit must be at most 8" in err and "class 'b'" in err, err
    assert not (tmp_path / "ws").exists() or list((tmp_path / "ws").iterdir()) == []


def test_the_cli_prints_the_data_pages_warnings_before_searching(tmp_path):
    frame = pd.read_csv(DATA / "credit-g.csv").head(300)
    frame.insert(0, "row_id", range(len(frame)))
    frame["duration"] = frame["duration"].astype(object)
    frame.loc[7, "duration"] = "unknown"
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    out = subprocess.run([sys.executable, "-m", "automl", "fit", str(path), "--target", "class", "--trials", "1",
                          "--algorithms", "hist_gradient_boosting", "--no-ensemble", "--workspace",
                          str(tmp_path / "ws")], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "warning: 'row_id': id-like" in out.stderr
    assert "warning: 'duration': read as numbers; 1 value(s) that are not numbers ('unknown') became missing" \
        in out.stderr
    assert out.stderr.index("warning:") < out.stderr.index("Experiment ")


def test_a_nan_budget_from_a_subprocess_is_a_message_not_a_traceback(tmp_path):
    out = subprocess.run([sys.executable, "-m", "automl", "fit", str(DATA / "credit-g.csv"), "--target", "class",
                          "--time-budget", "nan", "--workspace", str(tmp_path / "ws")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "must be a finite number > 0 and <= 10,000,000. Got nan instead." in out.stderr


@pytest.mark.parametrize("value", [math.nan, math.inf, -5, 0, True])
def test_fit_config_refuses_bad_budgets_in_the_api_too(value, tmp_path):
    with pytest.raises(AutoMLError, match="'time_budget' parameter of fit"):
        FitConfig(target="y", time_budget=value)
    with pytest.raises(AutoMLError, match="'time_budget' parameter of fit"):
        automl.fit(DATA / "credit-g.csv", "class", time_budget=value, workspace=tmp_path / "ws")
    assert not (tmp_path / "ws").exists() or list((tmp_path / "ws").iterdir()) == []


def test_the_api_refuses_a_sqlite_study_outside_the_workspace(tmp_path):
    with pytest.raises(AutoMLError, match="inside the workspace"):
        automl.fit(DATA / "credit-g.csv", "class", trials=1, storage="sqlite:////etc/passwd",
                   workspace=tmp_path / "ws")
    assert not (tmp_path / "ws").exists() or list((tmp_path / "ws").iterdir()) == []


@pytest.mark.parametrize("exp_id", ["a" * 300, "../etc", "x/y", "²³", "", " ", "abc\x00", "." * 5])
def test_a_malformed_experiment_id_is_no_experiment(exp_id, tmp_path):
    workspace = Workspace(tmp_path)
    workspace.create(name="real")
    with pytest.raises(ExperimentNotFound, match="There is no experiment") as info:
        workspace.get(exp_id)
    assert len(info.value.problem) < 200 + len(str(tmp_path))

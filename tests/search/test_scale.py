"""Large tables: compact reading, the fast tree matrix, row samples that grow, two processes on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import optuna
import pandas as pd
import pytest
from conftest import DATA, ROOT, SAMPLES
from sklearn.metrics import roc_auc_score

import automl
from automl.algorithms import ALGORITHMS
from automl.data import build_pipeline, build_preprocessor, make_coercer, prepare_dataset, read_table
from automl.errors import DataError
from automl.experiment import Workspace
from automl.final import fit_final, representative_rows
from automl.metrics import get_metric
from automl.search import (
    OOF_KEPT,
    Budget,
    FoldOrSamplePruner,
    Objective,
    RowSchedule,
    SearchSpace,
    load_trials,
    nested_order,
    tree_matrix,
)

REAL = [(SAMPLES / "titanic.csv", "Survived"), (DATA / "credit-g.csv", "class"), (DATA / "wine-quality.csv", "quality"),
        (SAMPLES / "ames-house-prices.csv", "SalePrice")]


def _same_values(a: pd.Series, b: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(a) and not pd.api.types.is_bool_dtype(a):
        return np.allclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-6, equal_nan=True)
    return a.astype(object).where(a.notna(), None).tolist() == b.astype(object).where(b.notna(), None).tolist()


@pytest.mark.parametrize("path,target", REAL)
def test_compact_read_keeps_values_and_schema(path, target):
    plain, compact = read_table(path), read_table(path, compact=True)
    assert list(compact.columns) == list(plain.columns)
    assert all(_same_values(plain[c], compact[c]) for c in plain.columns)
    assert compact.memory_usage(deep=True).sum() < 0.7 * plain.memory_usage(deep=True).sum()
    kinds = [(c.name, c.kind, c.n_unique, c.categories) for c in prepare_dataset(plain, target).schema.columns]
    assert kinds == [(c.name, c.kind, c.n_unique, c.categories)
                     for c in prepare_dataset(compact, target).schema.columns]


def test_compact_dtypes_only_where_values_survive(tmp_path):
    rng = np.random.default_rng(1)
    n = 5000
    frame = pd.DataFrame({
        "small_float": rng.normal(size=n).round(4),
        "big_ids_as_float": np.where(rng.random(n) < 0.1, np.nan, 2**40 + np.arange(n)),
        "epoch_seconds": 1.7e9 + rng.random(n) * 100,  # float32 would merge these
        "small_int": rng.integers(-5, 5, n),
        "huge_int": 2**40 + rng.integers(0, 9, n),
        "few_strings": rng.choice(["red", "green", "blue"], n),
        "many_strings": [f"user-{i}" for i in range(n)],
        "day": pd.date_range("2020-01-01", periods=n, freq="h").strftime("%Y-%m-%d %H:%M"),
    })
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet")
    plain = read_table(tmp_path / "t.csv")
    for name in ("t.csv", "t.parquet"):
        got = read_table(tmp_path / name, compact=True)
        dtypes = {c: str(t) for c, t in got.dtypes.items()}
        assert dtypes["small_float"] == "float32" and dtypes["small_int"] == "int32"
        assert dtypes["big_ids_as_float"] == "float64" and dtypes["epoch_seconds"] == "float64"
        assert dtypes["huge_int"] == "int64" and dtypes["few_strings"] == "category"
        assert dtypes["many_strings"] != "category" and dtypes["day"] in ("str", "object")  # dates stay text
        assert all(_same_values(plain[c], got[c]) for c in plain.columns)
        assert got["epoch_seconds"].nunique() == frame["epoch_seconds"].nunique()


def test_large_files_are_read_compact_automatically(monkeypatch, credit_path, tmp_path):
    assert str(read_table(credit_path)["purpose"].dtype) != "category"
    monkeypatch.setenv("AUTOML_COMPACT_MIN_MB", "0.01")
    assert str(read_table(credit_path)["purpose"].dtype) == "category"
    text = "nom;ville;prix\n" + "\n".join(f"café{i % 3};Liège;{i}" for i in range(50))
    frame = read_table(text.encode("cp1252"), name="prices.csv")  # sniffing works the same
    assert list(frame.columns) == ["nom", "ville", "prix"] and frame.loc[0, "ville"] == "Liège"
    with pytest.raises(DataError, match="could not be parsed"):
        read_table(b"a,b\n1,2\n3,4,5,6\n" * 10, name="ragged.csv")


def test_pipelines_on_category_columns_predict_like_on_strings(credit_path):
    plain, compact = read_table(credit_path), read_table(credit_path, compact=True)
    ds_plain, ds_compact = prepare_dataset(plain, "class"), prepare_dataset(compact, "class")
    for name in ("lightgbm", "logistic_regression"):
        algo = ALGORITHMS[name]
        fitted = [build_pipeline(ds.schema, algo.make(algo.defaults[0], "binary", 0, n_rows=1000), algo.style,
                                 "binary").fit(ds.X, ds.y) for ds in (ds_plain, ds_compact)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = [m.predict_proba(ds_plain.X) for m in fitted] + [fitted[0].predict_proba(ds_compact.X)]
        np.testing.assert_allclose(p[0], p[1], atol=1e-9)
        np.testing.assert_allclose(p[0], p[2], atol=1e-12)


def test_tree_matrix_equals_the_tree_preprocessing(titanic):
    rng = np.random.default_rng(0)
    n = 400
    odd = pd.DataFrame({"mixed": pd.Series(rng.choice(["2", "3", " a", "b"], n), dtype=object),
                        "flag": rng.random(n) < 0.3,
                        "day": pd.date_range("2021-03-01", periods=n, freq="37h").strftime("%Y-%m-%d %H:00"),
                        "x": rng.normal(size=n).astype("float32"), "y": rng.integers(0, 2, n)})
    odd.loc[odd.index[::7], "mixed"] = 2.0  # 2.0 and "2" are one category
    odd.loc[odd.index[::11], "mixed"] = np.nan
    for frame, target in [(titanic, "Survived"), (pd.read_csv(SAMPLES / "ames-house-prices.csv"), "SalePrice"),
                          (odd, "y")]:
        ds = prepare_dataset(frame, target)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = build_preprocessor(ds.schema, "tree").fit_transform(make_coercer(ds.schema).transform(ds.X))
        as_category = ds.X.astype({c: "category" for c in ds.schema.of_kind("categorical")})
        rows = rng.permutation(len(ds.X))
        for X in (ds.X, as_category):
            np.testing.assert_allclose(tree_matrix(X, ds.schema, dtype=np.float64), expected, equal_nan=True)
            np.testing.assert_allclose(tree_matrix(X, ds.schema, rows=rows), expected[rows], rtol=1e-6,
                                       equal_nan=True)


def test_final_fit_without_object_rows_matches_the_usual_fit(titanic):
    """The refit fits the preprocessing on one row per distinct value and the model on the search's matrix:
    the same pipeline as ``pipeline.fit(X, y)`` on K-fold tables, the same features when rows were sampled."""
    frame = titanic.assign(Embarked=titanic["Embarked"].astype(pd.CategoricalDtype(["C", "Q", "S", "unused"])),
                           booked=pd.date_range("2021-03-01", periods=len(titanic), freq="37h"))
    ds = prepare_dataset(frame, "Survived")
    space = SearchSpace(X=ds.X, y=ds.y, schema=ds.schema, task="binary", metric=get_metric("roc_auc", "binary"),
                        algorithms=[ALGORITHMS["lightgbm"]], classes=[0, 1], positive=1)
    params = dict(ALGORITHMS["lightgbm"].defaults[0])
    light = fit_final(space, Objective(space, Budget(None), schedule=None), "lightgbm", params, ds.X, ds.y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        usual = build_pipeline(ds.schema, ALGORITHMS["lightgbm"].make(params, "binary", 0, n_rows=len(ds.y),
                                                                   schema=ds.schema),
                               "tree", "binary").fit(ds.X, ds.y)
        new_rows = ds.X.sample(200, random_state=1).assign(Embarked="never seen", Sex=np.nan)
        np.testing.assert_allclose(light.predict_proba(new_rows), usual.predict_proba(new_rows), atol=1e-12)
        np.testing.assert_allclose(light.predict_proba(ds.X), usual.predict_proba(ds.X), atol=1e-12)
        sampled = Objective(space, Budget(None), schedule=RowSchedule(min_rows=100, first=100))
        light = fit_final(space, sampled, "lightgbm", params, ds.X, ds.y)
        features = light[:-1].transform(ds.X.iloc[sampled.plan.order])
    repeated = pd.concat([ds.X] * 20, ignore_index=True)  # the rows kept grow with distinct values, not rows
    assert len(representative_rows(repeated, ds.schema)) == len(representative_rows(ds.X, ds.schema)) < len(ds.X)
    np.testing.assert_allclose(features, sampled.tree_matrix, rtol=1e-6, equal_nan=True)


def test_row_plan_keeps_class_shares_in_every_sample():
    rng = np.random.default_rng(0)
    y = rng.choice(np.array(["a", "b", "c"], dtype=object), 250_000, p=[0.9, 0.08, 0.02])
    assert RowSchedule().plan(y[:20_000], "binary", 0) is None  # small: K-fold CV as before
    assert RowSchedule().plan(y[:30_000], "binary", 0).rungs == (24_000,)  # mid-size: one validation part
    plan = RowSchedule().plan(y, "multiclass", 0)
    assert plan.n_val == 50_000 and plan.rungs == (20_000, 80_000, 200_000)
    assert sorted(plan.order.tolist()) == list(range(len(y)))
    share = (y == "c").mean()
    for part in [plan.validation] + [plan.sample(r) for r in plan.rungs]:
        rows = y[plan.order[part]]
        assert abs((rows == "c").sum() - share * len(rows)) <= 2
    unstratified = nested_order(y, False, np.random.default_rng(0))
    assert sorted(unstratified.tolist()) == list(range(len(y)))


def _phoneme_space(seed: int = 0) -> SearchSpace:
    ds = prepare_dataset(pd.read_csv(DATA / "phoneme.csv"), "Class")
    algos = [ALGORITHMS[n] for n in ("lightgbm", "hist_gradient_boosting", "logistic_regression")]
    return SearchSpace(X=ds.X, y=ds.y, schema=ds.schema, task="binary", metric=get_metric("roc_auc", "binary"),
                       algorithms=algos, classes=sorted(ds.y.unique().tolist()), positive=2, seed=seed)


def test_sampled_search_prunes_on_samples_and_scores_on_the_pool():
    space = _phoneme_space()
    objective = Objective(space, Budget(None), schedule=RowSchedule(min_rows=1000, first=250, eta=3), n_jobs=1)
    plan = objective.plan
    assert plan.rungs == (250, 750, 2250, 4324) and plan.n_val == 1080
    study = optuna.create_study(direction="maximize", pruner=FoldOrSamplePruner(3),
                                sampler=optuna.samplers.TPESampler(seed=0))
    study.enqueue_trial({"algorithm": "lightgbm"}, user_attrs={"default": 0})
    study.optimize(objective, n_trials=16)
    complete = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    pruned = study.get_trials(states=(optuna.trial.TrialState.PRUNED,))
    assert pruned and all(t.user_attrs["rows"] < plan.rungs[-1] for t in pruned)
    assert all(t.user_attrs["rows"] == plan.rungs[-1] for t in complete)
    assert all(set(t.intermediate_values) <= set(plan.rungs) for t in study.trials)
    # the trials fitted on the whole pool keep their validation predictions: the ensemble is chosen on those rows
    assert set(objective.oof) == {t.number for t in complete} or len(objective.oof) == OOF_KEPT
    assert len(objective.oof_target) == plan.n_val and all(len(p) == plan.n_val for p in objective.oof.values())
    # the first trial's value, by hand: LightGBM defaults on the pool rows, stopped early and scored on the
    # validation rows
    X = tree_matrix(space.X, space.schema, rows=plan.order)
    y = space.y.to_numpy()[plan.order]
    lgbm = ALGORITHMS["lightgbm"]
    model = lgbm.make({}, "binary", 0, n_rows=plan.rungs[-1])
    model.fit(X[plan.sample(plan.rungs[-1])], y[plan.sample(plan.rungs[-1])],
              **lgbm.validation_stop(X[plan.validation], y[plan.validation]))
    expected = roc_auc_score(y[plan.validation] == 2, model.predict_proba(X[plan.validation])[:, 1])
    assert study.trials[0].value == pytest.approx(expected, abs=1e-12)
    assert not set(plan.order[plan.validation]) & set(plan.order[plan.sample(plan.rungs[-1])])


@pytest.mark.parametrize("cancel", [False, True])
def test_a_trial_the_budget_stops_keeps_its_last_sample_score(cancel):
    """Out of time after the first sample: scored on it (not thrown away); cancelled: pruned."""
    calls: list[int] = []

    def second_check_runs_out() -> bool:
        calls.append(1)
        if len(calls) == 2:  # from the second sample on, 0.05 s are left (and room for the refit)
            objective.budget = Budget(100.0, refit_reserve_s=99.95)
        return cancel and len(calls) >= 2

    objective = Objective(_phoneme_space(), Budget(None), should_stop=second_check_runs_out, n_jobs=1,
                          schedule=RowSchedule(min_rows=1000, first=250, eta=3))
    study = optuna.create_study(direction="maximize", pruner=FoldOrSamplePruner(3))
    heavy = {"n_estimators": 1500, "num_leaves": 64, "min_child_samples": 2, "learning_rate": 0.01,
             "subsample": 1.0, "colsample_bytree": 1.0, "reg_alpha": 1e-8, "reg_lambda": 1e-8, "class_weight": None}
    study.enqueue_trial({"algorithm": "lightgbm", **{f"lightgbm:{k}": v for k, v in heavy.items()}})
    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    assert trial.user_attrs["rows"] == 250 and list(trial.intermediate_values) == [250]
    if cancel:
        assert trial.state == optuna.trial.TrialState.PRUNED and trial.user_attrs["stopped"] == "cancelled"
    else:
        assert trial.state == optuna.trial.TrialState.COMPLETE, trial.user_attrs
        assert trial.value == trial.intermediate_values[250] and "scored on 250 rows" in trial.user_attrs["stopped"]


def test_fit_end_to_end_with_row_sampling(monkeypatch, tmp_path):
    monkeypatch.setenv("AUTOML_SAMPLE_MIN_ROWS", "1000")
    monkeypatch.setenv("AUTOML_SAMPLE_FIRST_ROWS", "300")
    exp = automl.fit(DATA / "phoneme.csv", "Class", trials=10, workspace=tmp_path,
                     algorithms=["lightgbm", "hist_gradient_boosting", "logistic_regression"])
    meta = exp.meta
    assert meta["status"] == "completed" and meta["holdout"]["roc_auc"] > 0.85
    trials = optuna.load_study(study_name=exp.id, storage=exp.storage_url).trials
    pool = meta["rows"]["train"] - int(meta["rows"]["train"] * 0.2)
    assert trials[meta["best"]["trial"]].user_attrs["rows"] == pool
    assert any(t.state == optuna.trial.TrialState.PRUNED and t.user_attrs.get("rows", pool) < pool for t in trials)
    assert exp.load_model().predict(exp.holdout().drop(columns=["Class"])).shape == (meta["rows"]["holdout"],)


def test_leader_and_worker_on_sqlite_at_once(tmp_path, credit_path):
    """The default storage (SQLite in the experiment folder) also takes a second process on this machine."""
    exp = Workspace(tmp_path).create(name="sqlite-two")
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "PYTHONPATH": str(ROOT)}
    leader = subprocess.Popen([sys.executable, "-c", (
        "import automl; from automl.experiment import Experiment; "
        f"automl.fit({str(credit_path)!r}, 'class', experiment=Experiment({str(exp.path)!r}), time_budget=18, "
        "algorithms=['lightgbm', 'logistic_regression', 'hist_gradient_boosting'])")], env=env, cwd=ROOT)
    worker = subprocess.run([sys.executable, "-m", "automl", "worker", exp.id, "--workspace", str(tmp_path),
                             "--quiet"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=90)
    assert leader.wait(timeout=90) == 0, exp.meta.get("error")
    assert worker.returncode == 0, worker.stderr
    assert "stopped:" in worker.stdout
    study = optuna.load_study(study_name=exp.id, storage=exp.storage_url)
    states = {t.state for t in study.trials}
    assert states <= {optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED}
    defaults = [(t.params["algorithm"], t.user_attrs["default"]) for t in study.trials if "default" in t.user_attrs]
    assert sorted(defaults) == sorted({("lightgbm", 0), ("lightgbm", 1), ("lightgbm", 2), ("lightgbm", 3),
                                       ("logistic_regression", 0), ("hist_gradient_boosting", 0)})
    by_worker = [t for t in study.trials if "worker" in t.user_attrs]
    assert by_worker and len(by_worker) < len(study.trials)  # both processes ran trials
    assert exp.meta["status"] == "completed"
    # the leader's count (from the study) includes the worker's trials
    assert exp.meta["timing"]["trials"] > len(study.trials) - len(by_worker)
    assert len(load_trials(exp.storage_url, exp.id)) == len(study.trials)

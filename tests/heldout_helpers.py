"""Experiments written from pieces (a real pipeline, its held-out rows), for tests of evaluation and its plots.

A plain module beside conftest.py, so any test folder can import it.
"""

from __future__ import annotations

import warnings

from sklearn.model_selection import train_test_split

from automl.data import build_pipeline, load_dataset, proba_column
from automl.experiment import HOLDOUT, Workspace
from automl.metrics import DEFAULT_METRIC, positive_class


def fitted(path, target, estimator, style="linear", task=None, test_size=0.3):
    """A real pipeline fitted on part of a real table, and its held-out rows."""
    d = load_dataset(path, target, task=task)
    strat = d.y if d.task != "regression" else None
    X_tr, X_te, y_tr, y_te = train_test_split(d.X, d.y, test_size=test_size, random_state=0, stratify=strat)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build_pipeline(d.schema, estimator, style, d.task).fit(X_tr, y_tr)
    return d, model, X_te, y_te


def predictions(path, target, estimator, style="linear", task=None, fit=None, test_size=0.3):
    d, model, X_te, y_te = fit or fitted(path, target, estimator, style, task, test_size)
    proba = model.predict_proba(X_te) if d.task != "regression" else None
    classes = list(model.classes_) if proba is not None else []
    return d.task, y_te.to_numpy(), model.predict(X_te), proba, classes


def make_experiment(root, path, target, estimator, style="linear", fit=None):
    """A completed experiment folder written from pieces, as automl.fit lays it out."""
    d, model, X_te, y_te = fit or fitted(path, target, estimator, style)
    classes = list(model.classes_) if d.task != "regression" else []
    exp = Workspace(root).create(status="completed", task=d.task, target=target, metric=DEFAULT_METRIC[d.task],
                                 schema=d.schema.to_dict(), classes=classes,
                                 positive_class=positive_class(d.y) if d.task == "binary" else None)
    exp.save_model(model)
    hold = X_te.assign(**{target: y_te})
    hold["prediction"] = model.predict(X_te)
    if classes:
        for j, c in enumerate(classes):
            hold[proba_column(c)] = model.predict_proba(X_te)[:, j]
    exp.write_frame(HOLDOUT, hold)
    return exp, model, X_te

"""Preprocessing styles: what an algorithm needs done to the raw columns, as an object the code asks.

:mod:`automl.data` builds the ColumnTransformer for a style name; a :class:`Preprocessing`
names the style once, says in words what it does (for the report and the model card), and
says whether it may be fitted once on all training rows, which the search and the refit
use to skip re-encoding per fold and per trial.
"""

from __future__ import annotations

from dataclasses import dataclass

from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from automl.data import Schema, build_pipeline, build_preprocessor


@dataclass(frozen=True)
class Preprocessing:
    """One preprocessing style.

    ``name``: the style :func:`automl.data.build_preprocessor` takes. ``summary``: what it does, in words.
    ``encode_once``: it learns only which distinct values each column has (nothing from the target or the
    value distribution), so fitting it on all training rows leaks nothing into the CV folds: the search
    encodes the training rows once for every trial (``Objective.tree_matrix``) and the refit fits it on one
    row per distinct value. Only :data:`TREE` does; the search's shared matrix is that encoding.
    """

    name: str
    summary: str
    encode_once: bool = False

    def preprocessor(self, schema: Schema, task: str = "binary", seed: int = 0) -> ColumnTransformer:
        """The unfitted ColumnTransformer for ``schema`` (``seed`` fixes a target encoder's folds)."""
        return build_preprocessor(schema, self.name, task, seed)

    def pipeline(self, schema: Schema, estimator: BaseEstimator, task: str = "binary", seed: int = 0) -> Pipeline:
        """Raw rows in, predictions out: coercer, this preprocessing, ``estimator``."""
        return build_pipeline(schema, estimator, self.name, task, seed)

    def __str__(self) -> str:
        return self.name


TREE = Preprocessing("tree", "numbers as they are (missing values kept for the trees), categories as ordinal "
                             "codes, dates as their parts", encode_once=True)
LINEAR = Preprocessing("linear", "numbers imputed (with a missing indicator) and scaled, categories one-hot "
                                 "encoded (target encoded above 20 values), dates as scaled parts")

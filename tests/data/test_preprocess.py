"""The preprocessing built from a schema: the coercer, both styles, date parts and ``feature_origins``.

On the Titanic sample (missing ages and ports, two high-cardinality text-like categories) and small
synthetic frames whose every value is known.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from automl.data import (
    FrameCoercer,
    build_pipeline,
    build_preprocessor,
    feature_origins,
    infer_schema,
    make_coercer,
)
from automl.errors import DataError


@pytest.fixture(scope="module")
def titanic_xy(titanic):
    X = titanic.drop(columns=["Survived"])
    return X, titanic["Survived"], infer_schema(X)


def _transform(schema, X, y, style, task="binary", fit_on=None):
    """Coerce then preprocess: fitted on ``fit_on`` (default ``X``), applied to ``X``."""
    coercer = make_coercer(schema).fit(X)
    pre = build_preprocessor(schema, style, task)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = X if fit_on is None else fit_on
        pre.fit(coercer.transform(base), y)
    names = [str(n) for n in pre.get_feature_names_out()]
    return pd.DataFrame(pre.transform(coercer.transform(X)), columns=names, index=X.index), pre


def _dated(n: int = 120, with_time: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    when = pd.date_range("2023-01-01 00:00" if not with_time else "2023-01-01 09:30", periods=n, freq="37h"
                         if with_time else "D")
    return pd.DataFrame({"when": when, "amount": rng.normal(size=n),
                         "colour": rng.choice(["red", "green", "blue"], size=n)})


# ---------------------------------------------------------------- FrameCoercer


def test_coercer_keeps_the_training_columns_in_kind_order_and_ignores_extras(titanic_xy):
    X, _, schema = titanic_xy
    coercer = make_coercer(schema).fit(X)
    out = coercer.transform(X.assign(extra=1))
    numeric = schema.of_kind("numeric")
    categorical = schema.of_kind("categorical", "boolean")
    assert list(out.columns) == numeric + categorical == list(coercer.get_feature_names_out())
    assert "Name" not in out.columns and "PassengerId" not in out.columns  # text and id are not features
    assert all(out[c].dtype == np.float64 for c in numeric) and all(out[c].dtype == object for c in categorical)
    assert out.index.equals(X.index)


def test_coercer_names_every_missing_column(titanic_xy):
    X, _, schema = titanic_xy
    coercer = make_coercer(schema).fit(X)
    with pytest.raises(DataError, match="Age, Embarked") as excinfo:
        coercer.transform(X.drop(columns=["Age", "Embarked"]))
    assert "empty values are fine" in excinfo.value.fix


def test_coercer_casts_numbers_written_as_text_and_makes_garbage_missing():
    coercer = FrameCoercer(numeric=["x"]).fit(None)
    out = coercer.transform(pd.DataFrame({"x": ["22", " 40 ", "1e3", "abc", None, "", 7]}, dtype=object))
    np.testing.assert_array_equal(out["x"].to_numpy(), [22.0, 40.0, 1000.0, np.nan, np.nan, np.nan, 7.0])


def test_coercer_treats_2_2point0_and_text_2_as_one_category():
    coercer = FrameCoercer(categorical=["c"]).fit(None)
    out = coercer.transform(pd.DataFrame({"c": [2, 2.0, "2", " 2 ", "b", np.nan, None, 2.5]}, dtype=object))
    values = out["c"].tolist()
    assert values[:4] == ["2", "2", "2", "2"] and values[4] == "b" and values[7] == "2.5"
    assert pd.isna(values[5]) and pd.isna(values[6])
    # an integer column read with a gap arrives as floats: 1.0 must still be the category "1"
    floats = coercer.transform(pd.DataFrame({"c": [1.0, 2.0, np.nan]}))["c"].tolist()
    assert floats[:2] == ["1", "2"] and pd.isna(floats[2])


def test_coercer_parses_dates_and_blanks_what_is_not_a_date():
    coercer = FrameCoercer(datetime=["d"]).fit(None)
    out = coercer.transform(pd.DataFrame({"d": ["2024-03-01", "01/02/2024", "not a date", None]}))
    assert pd.api.types.is_datetime64_any_dtype(out["d"])
    assert out["d"].iloc[0] == pd.Timestamp("2024-03-01") and out["d"].iloc[2:].isna().all()


def test_coercer_accepts_an_array_in_training_order():
    coercer = FrameCoercer(numeric=["a"], categorical=["b"]).fit(None)
    out = coercer.transform(np.array([["1.5", "x"], ["2", 3]], dtype=object))
    assert out["a"].tolist() == [1.5, 2.0] and out["b"].tolist() == ["x", "3"]


def test_a_pipeline_predicts_the_same_on_numbers_sent_as_text(titanic_xy):
    X, y, schema = titanic_xy
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build_pipeline(schema, LogisticRegression(max_iter=1000), "linear").fit(X, y)
    rows = X.head(50)
    as_text = rows.astype(object)
    for col in ("Age", "Fare", "Pclass"):
        as_text[col] = [None if pd.isna(v) else f" {v} " for v in rows[col]]
    np.testing.assert_allclose(model.predict_proba(as_text), model.predict_proba(rows))


# ---------------------------------------------------------------- the two styles


def test_tree_style_passes_numbers_and_their_missing_values_through(titanic_xy):
    X, y, schema = titanic_xy
    out, _ = _transform(schema, X, y, "tree")
    assert list(out.columns) == schema.of_kind("numeric") + schema.of_kind("categorical", "boolean")
    np.testing.assert_array_equal(out["Age"].to_numpy(), X["Age"].to_numpy())  # NaN kept for the trees
    assert out["Embarked"].isna().sum() == X["Embarked"].isna().sum() == 2


def test_tree_style_codes_categories_in_sorted_order_and_unseen_ones_as_minus_one(titanic_xy):
    X, y, schema = titanic_xy
    rows = X.head(4).copy()
    rows["Embarked"] = ["C", "Q", "S", "Atlantis"]
    rows["Sex"] = ["female", "male", "unknown", "male"]
    out, _ = _transform(schema, rows, y, "tree", fit_on=X)
    assert out["Embarked"].tolist() == [0.0, 1.0, 2.0, -1.0]
    assert out["Sex"].tolist() == [0.0, 1.0, -1.0, 1.0]


def test_linear_style_leaves_no_missing_value_and_flags_missing_ages(titanic_xy):
    X, y, schema = titanic_xy
    out, _ = _transform(schema, X, y, "linear")
    assert not out.isna().any().any()
    indicator = out["missingindicator_Age"]  # scaled with the value, so two levels: high means missing
    assert indicator.nunique() == 2 and (indicator > indicator.min()).tolist() == X["Age"].isna().tolist()
    assert out["Fare"].mean() == pytest.approx(0, abs=1e-9) and out["Fare"].std(ddof=0) == pytest.approx(1)


def test_linear_style_one_hot_encodes_few_categories_with_missing_as_its_own(titanic_xy):
    X, y, schema = titanic_xy
    out, _ = _transform(schema, X, y, "linear")
    onehot = ["Embarked_C", "Embarked_Q", "Embarked_S", "Embarked___missing__"]
    assert set(onehot) <= set(out.columns)
    assert (out[onehot].sum(axis=1) == 1).all()
    assert out.loc[X["Embarked"].isna(), "Embarked___missing__"].eq(1).all()
    assert out.loc[X["Embarked"] == "Q", "Embarked_Q"].eq(1).all()


def test_linear_style_gives_an_unseen_category_no_one_hot_column(titanic_xy):
    X, y, schema = titanic_xy
    rows = X.head(3).copy()
    rows["Embarked"] = ["Atlantis", "S", None]
    out, _ = _transform(schema, rows, y, "linear", fit_on=X)
    block = out.filter(like="Embarked_")
    assert block.iloc[0].tolist() == [0.0] * block.shape[1]
    assert block.iloc[1]["Embarked_S"] == 1 and block.iloc[2]["Embarked___missing__"] == 1


def test_linear_style_target_encodes_many_categories_into_one_column(titanic_xy):
    X, y, schema = titanic_xy
    assert schema["Ticket"].n_unique > 20
    out, _ = _transform(schema, X, y, "linear")
    assert "Ticket" in out.columns and not any(c.startswith("Ticket_") for c in out.columns)
    by_ticket = out["Ticket"].groupby(X["Ticket"]).nunique()
    assert (by_ticket == 1).all()  # one value per ticket
    assert out["Ticket"].corr(y) > 0.3  # which carries what the ticket says about survival


def test_the_task_tells_the_target_encoder_what_the_target_is():
    """A float target with integer values is continuous for a regression, one column per class otherwise."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"code": [f"k{i}" for i in rng.integers(0, 40, size=300)], "x": rng.normal(size=300)})
    schema = infer_schema(X)
    y_float = pd.Series(rng.integers(0, 3, size=300).astype(float))
    regression, _ = _transform(schema, X, y_float, "linear", task="regression")
    multiclass, _ = _transform(schema, X, y_float.astype(int), "linear", task="multiclass")
    assert sum(c.startswith("code") for c in regression.columns) == 1
    assert sum(c.startswith("code") for c in multiclass.columns) == 3


def test_a_seed_repeats_the_target_encoding_exactly(titanic_xy):
    X, y, schema = titanic_xy
    outs = []
    for seed in (3, 3, 4):
        pre = build_preprocessor(schema, "linear", "binary", seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outs.append(pre.fit_transform(make_coercer(schema).transform(X), y))
    np.testing.assert_array_equal(outs[0], outs[1])
    assert not np.array_equal(outs[0], outs[2])  # cross-fitting folds follow the seed


def test_an_unknown_style_is_refused_with_the_choices(titanic_xy):
    with pytest.raises(ValueError, match="'tree' or 'linear'. Got 'forest' instead"):
        build_preprocessor(titanic_xy[2], "forest")


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize("style", ["tree", "linear"])
def test_dates_become_calendar_parts(style):
    frame = _dated()
    schema = infer_schema(frame)
    out, _ = _transform(schema, frame, None, style)
    parts = ["when_year", "when_month", "when_day", "when_weekday", "when_dayofyear"]
    assert [c for c in out.columns if c.startswith("when")] == parts  # midnight everywhere: no hour
    if style == "tree":
        when = frame["when"]
        expected = np.column_stack([when.dt.year, when.dt.month, when.dt.day, when.dt.dayofweek, when.dt.dayofyear])
        np.testing.assert_array_equal(out[parts].to_numpy(), expected)
    else:
        assert not out.isna().any().any() and out["when_dayofyear"].std(ddof=0) == pytest.approx(1)


def test_an_hour_part_only_when_training_had_times_and_missing_dates_stay_missing():
    frame = _dated(with_time=True)
    schema = infer_schema(frame)
    rows = frame.head(3).astype({"when": object})
    rows.loc[rows.index[2], "when"] = "garbage"
    out, _ = _transform(schema, rows, None, "tree", fit_on=frame)
    assert out["when_hour"].tolist()[:2] == [9.0, 22.0]  # 09:30, then 37 hours later
    assert out.filter(like="when_").iloc[2].isna().all()


# ---------------------------------------------------------------- feature_origins


@pytest.mark.parametrize("style", ["tree", "linear"])
def test_feature_origins_name_the_column_each_output_came_from(titanic_xy, style):
    X, y, schema = titanic_xy
    estimator = DecisionTreeClassifier(max_depth=3, random_state=0) if style == "tree" else \
        LogisticRegression(max_iter=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build_pipeline(schema, estimator, style).fit(X, y)
    origins = feature_origins(model)
    names = [str(n) for n in model.named_steps["preprocess"].get_feature_names_out()]
    assert len(origins) == len(names) == model.named_steps["model"].n_features_in_
    assert set(origins) == set(schema.features)
    for name, origin in zip(names, origins):
        assert name == origin or name.startswith(f"{origin}_") or name == f"missingindicator_{origin}"
    if style == "linear":
        assert origins.count("Embarked") == 4 and origins.count("Age") == 2  # one-hot; value + missing flag


def test_feature_origins_of_dates_and_a_multiclass_target_encoder():
    rng = np.random.default_rng(1)
    frame = _dated(300).assign(code=[f"k{i}" for i in rng.integers(0, 40, size=300)])
    y = pd.Series(rng.integers(0, 3, size=300))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build_pipeline(infer_schema(frame), LogisticRegression(max_iter=500), "linear", "multiclass").fit(
            frame, y)
    origins = feature_origins(model)
    assert origins.count("when") == 5 and origins.count("code") == 3 and origins.count("colour") == 3
    assert len(origins) == model.named_steps["model"].n_features_in_


def test_a_regression_pipeline_predicts_on_raw_rows_with_gaps(titanic_xy):
    X, _, schema = titanic_xy
    y = X["Fare"].fillna(0)
    schema = infer_schema(X.drop(columns=["Fare"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build_pipeline(schema, LinearRegression(), "linear", "regression").fit(X, y)
    rows = X.head(5).copy()
    rows.loc[rows.index[0], ["Age", "Embarked", "Sex"]] = [None, None, "unknown"]
    pred = model.predict(rows)
    assert pred.shape == (5,) and np.isfinite(pred).all()

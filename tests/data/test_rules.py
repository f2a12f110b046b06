"""The rules every stage shares: one category rule, one name for probability columns, one missing-column check.

Each rule is tested on its own, then through the stages that must apply it
(the model's coercer, the schema, the search's tree matrix, prediction,
monitoring, explanations), so a stage that grows its own copy fails here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.tree import DecisionTreeClassifier

from automl.data import (
    build_pipeline,
    build_preprocessor,
    canonical_categories,
    canonical_category,
    infer_schema,
    make_coercer,
    proba_class,
    proba_column,
    require_columns,
)
from automl.errors import AutoMLError, DataError

ONE_CATEGORY = [2, 2.0, "2", " 2 ", np.int64(2), np.float32(2.0)]


# -- what one category is -----------------------------------------------------------------------------
@pytest.mark.parametrize("value", ONE_CATEGORY)
def test_two_as_int_float_and_text_is_one_category(value):
    assert canonical_category(value) == "2"


@pytest.mark.parametrize("value", [None, np.nan, float("nan"), pd.NA, pd.NaT])
def test_missing_values_are_no_category(value):
    assert canonical_category(value) is None


@pytest.mark.parametrize("value,expected", [(2.5, "2.5"), ("2.0", "2.0"), ("b ", "b"), (True, "True"), (-0.0, "0")])
def test_other_values_keep_their_text(value, expected):
    # Text is taken as written ("2.0" stays "2.0"); only a float that is whole loses its ".0".
    assert canonical_category(value) == expected


def test_a_column_is_canonicalised_row_by_row_with_missing_as_nan():
    column = pd.Series([2, 2.0, "2", None, " x", np.nan], index=[5, 4, 3, 2, 1, 0], dtype=object)
    out = canonical_categories(column)
    assert out.index.tolist() == column.index.tolist()
    assert out.iloc[:3].tolist() == ["2", "2", "2"] and out.iloc[4] == "x"
    assert out.iloc[[3, 5]].isna().all()


def _mixed_frame(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    c = rng.choice(["1", "2", "3"], size=n)
    return pd.DataFrame({"c": c.astype(object), "x": rng.normal(size=n), "y": np.where(c == "2", "yes", "no")})


def test_the_schema_names_categories_as_the_model_sees_them():
    frame = pd.DataFrame({"c": pd.Series([2, 2.0, "2", " 2", 3, 3.0, "3", 2] * 10, dtype=object)})
    info = infer_schema(frame)["c"]
    assert info.kind == "categorical" and sorted(info.categories) == ["2", "3"]


def test_the_model_and_the_tree_matrix_read_one_category():
    from automl.search import tree_matrix

    frame = _mixed_frame()
    schema = infer_schema(frame.drop(columns=["y"]))
    rows = pd.DataFrame({"c": pd.Series(ONE_CATEGORY + ["3"], dtype=object), "x": 0.0})
    coerced = make_coercer(schema).fit(rows).transform(rows)
    assert coerced["c"].tolist() == ["2"] * len(ONE_CATEGORY) + ["3"]
    matrix = tree_matrix(rows, schema)
    np.testing.assert_array_equal(matrix, build_preprocessor(schema, "tree").fit_transform(coerced))
    codes = matrix[:, 1]  # numbers first, then categories
    assert len(set(codes[:len(ONE_CATEGORY)])) == 1 and codes[-1] != codes[0]


def test_prediction_treats_2_20_and_text_2_alike_without_an_unseen_warning():
    from automl.deploy import predict_frame

    frame = _mixed_frame()
    X, y = frame.drop(columns=["y"]), frame["y"]
    schema = infer_schema(X)
    model = build_pipeline(schema, DecisionTreeClassifier(random_state=0)).fit(X, y)
    rows = pd.DataFrame({"c": pd.Series([2, 2.0, "2", " 2 "], dtype=object), "x": 0.0})
    result = predict_frame(model, rows, schema, "binary", list(model.classes_))
    assert not [w for w in result.warnings if "not seen" in w]
    proba = result.frame[[proba_column(c) for c in model.classes_]].to_numpy()
    np.testing.assert_allclose(proba, np.repeat(proba[:1], len(rows), axis=0))
    assert result.frame["prediction"].tolist() == ["yes"] * len(rows)


def test_monitoring_profiles_count_2_and_20_as_one_category():
    from automl.monitor import build_reference

    train = pd.DataFrame({"c": pd.Series([2, 2.0, "2", 3] * 30, dtype=object), "x": np.arange(120.0)})
    ref = build_reference(train, infer_schema(train), None, "binary")
    profile = ref["features"]["c"]
    assert dict(zip(profile["categories"], profile["counts"])) == {"2": 90, "3": 30}


# -- probability column names ---------------------------------------------------------------------
@pytest.mark.parametrize("label", ["good", 1, 2.5, "proba_x", "a b"])
def test_proba_column_names_round_trip(label):
    column = proba_column(label)
    assert column.startswith("proba_") and proba_class(column) == str(label)


@pytest.mark.parametrize("column", ["prediction", "errors", "predicted_class", "probability_a", 3])
def test_other_columns_name_no_class(column):
    assert proba_class(column) is None


def test_prediction_output_columns_follow_the_naming_rule():
    from automl.deploy import predict_frame

    frame = _mixed_frame()
    X, y = frame.drop(columns=["y"]), frame["y"]
    schema = infer_schema(X)
    model = build_pipeline(schema, DecisionTreeClassifier(random_state=0)).fit(X, y)
    result = predict_frame(model, X.head(5), schema, "binary", list(model.classes_))
    named = {proba_class(c): c for c in result.output_columns if proba_class(c) is not None}
    assert set(named) == {"no", "yes"}


# -- the missing-column check ------------------------------------------------------------------------
def test_present_columns_pass_and_extra_ones_are_ignored():
    require_columns(pd.DataFrame({"a": [1], "b": [2], "extra": [3]}), ["a", "b"])


def test_missing_columns_message_names_them_and_the_fix():
    with pytest.raises(DataError) as info:
        require_columns(pd.DataFrame({"a": [1]}), ["a", "age", "fare"], where="The live table",
                        then="run the monitor again")
    err = info.value
    assert isinstance(err, AutoMLError)
    assert err.problem == "The live table lacks 2 column(s) the model was trained on: age, fare."
    assert err.fix == "Add those columns (empty values are fine) and run the monitor again."


def test_many_missing_columns_are_counted_beyond_the_first_ten():
    needed = [f"c{i}" for i in range(13)]
    with pytest.raises(DataError, match=r"lacks 13 column\(s\).*c9 and 3 more\.") as info:
        require_columns(pd.DataFrame({"x": [1]}), needed)
    assert "c10" not in info.value.problem


def test_the_model_and_the_monitor_raise_the_same_check():
    from automl.monitor import build_reference, monitor

    frame = _mixed_frame()
    X, y = frame.drop(columns=["y"]), frame["y"]
    schema = infer_schema(X)
    model = build_pipeline(schema, DecisionTreeClassifier(random_state=0)).fit(X, y)
    with pytest.raises(DataError, match="The input lacks 1 column.*: x\\.") as raised:
        model.predict(X.drop(columns=["x"]))
    assert raised.value.fix == "Add those columns (empty values are fine) and predict again."
    ref = build_reference(X, schema, None, "binary")
    with pytest.raises(DataError, match="The live table lacks 1 column.*: c\\.") as raised:
        monitor(ref, X.drop(columns=["c"]))
    assert "Add those columns" in raised.value.fix

"""Schema inference: each kind on the frames that define it, the stored round trip, and any small table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, SAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from automl.data import (
    BOOLEAN,
    CATEGORICAL,
    CONSTANT,
    DATETIME,
    ID,
    MAX_CATEGORIES_STORED,
    NUMERIC,
    TEXT,
    USABLE_KINDS,
    Schema,
    infer_schema,
)
from automl.data._schema import KINDS, infer_column

RNG = np.random.default_rng(0)
N = 200
WORDS = ["the", "cat", "sat", "on", "a", "mat", "and", "then", "left", "home", "quickly", "slowly"]


def kind(values, name: str = "c") -> str:
    return infer_column(pd.Series(values, name=name)).kind


@pytest.mark.parametrize("values,expected", [
    (RNG.normal(size=N), NUMERIC),
    (RNG.integers(0, 10, size=N), NUMERIC),  # small integers are numbers, not an id
    (np.where(RNG.random(N) < 0.2, np.nan, RNG.normal(size=N)), NUMERIC),
    (RNG.choice(["red", "green", "blue"], size=N), CATEGORICAL),
    (RNG.choice(["male", "female"], size=N), CATEGORICAL),  # two values, but not yes/no-like
    (RNG.choice([True, False], size=N), BOOLEAN),
    (RNG.choice(["yes", "no"], size=N), BOOLEAN),
    (RNG.choice([" Y", "n "], size=N), BOOLEAN),  # tokens compared stripped and lower-cased
    (RNG.choice([0, 1], size=N), BOOLEAN),
    (RNG.choice([0.5, 1.5], size=N), NUMERIC),  # two numbers that aren't 0/1
    (pd.date_range("2024-01-01", periods=N, freq="h"), DATETIME),
    (pd.date_range("2024-01-01", periods=N, freq="D").strftime("%Y-%m-%d"), DATETIME),
    (pd.date_range("2024-01-01", periods=N, freq="D").strftime("%d.%m.%Y %H:%M"), DATETIME),
    ([" ".join(RNG.choice(WORDS, size=6)) + f" {i}" for i in range(N)], TEXT),
    ([f"C{i:06d}" for i in RNG.permutation(N)], ID),  # unique short codes
    (np.arange(N) + 1000, ID),  # a row number
    (np.arange(N)[::-1], ID),  # counting down is still a key
    (["x"] * N, CONSTANT),
    ([np.nan] * N, CONSTANT),
    ([None] * N, CONSTANT),
])
def test_each_kind_is_recognised(values, expected):
    assert kind(values) == expected


def test_a_shuffled_unique_integer_column_is_a_number_and_short_tables_have_no_integer_ids():
    assert kind(RNG.permutation(N)) == NUMERIC  # unique but not in order: a measurement
    assert kind(np.arange(30)) == NUMERIC  # under 50 rows, a row number can't be told apart


def test_the_reason_says_why_a_column_is_not_used():
    assert infer_column(pd.Series(["x"] * 10, name="c")).reason == "a single value"
    assert infer_column(pd.Series([None] * 10, name="c")).reason == "all values missing"
    assert "identifier" in infer_column(pd.Series([f"C{i}" for i in range(N)], name="c")).reason
    assert "row number" in infer_column(pd.Series(np.arange(N), name="c")).reason
    assert infer_column(pd.Series(RNG.normal(size=N), name="c")).reason == ""


def test_counts_ranges_and_categories_most_frequent_first():
    info = infer_column(pd.Series([3.0, np.nan, -1.5, 3.0, 10.0, np.nan], name="n"))
    assert (info.n_missing, info.n_unique, info.minimum, info.maximum) == (2, 3, -1.5, 10.0)
    info = infer_column(pd.Series(["b", "a", "b", "c", "b", "a", None], name="c"))
    assert info.kind == CATEGORICAL and info.categories == ["b", "a", "c"] and info.n_missing == 1
    dates = pd.Series(pd.to_datetime(["2024-01-02", "2023-05-01", None]), name="d")
    info = infer_column(dates)
    assert info.minimum == pd.Timestamp("2023-05-01").timestamp() and info.maximum == pd.Timestamp(
        "2024-01-02").timestamp()


def test_stored_categories_are_capped_and_high_cardinality_is_flagged():
    values = pd.Series([f"k{i % 300}" for i in range(3000)], name="k")
    info = infer_column(values)
    assert info.kind == CATEGORICAL and info.n_unique == 300
    assert len(info.categories) == MAX_CATEGORIES_STORED and info.high_cardinality
    assert not infer_column(pd.Series([f"k{i % 50}" for i in range(3000)], name="k")).high_cardinality


def test_schema_lookup_features_and_exclude(titanic):
    schema = infer_schema(titanic, exclude=("Survived",))
    assert "Survived" not in schema.names and schema.names == [c for c in titanic.columns if c != "Survived"]
    assert schema.n_rows == len(titanic)
    assert schema.features == [c.name for c in schema.columns if c.kind in USABLE_KINDS]
    assert schema.of_kind(TEXT, ID) == ["PassengerId", "Name"]
    assert schema["Fare"].usable and not schema["Name"].usable
    with pytest.raises(KeyError):
        schema["Survived"]


@pytest.mark.parametrize("path", [SAMPLES / "titanic.csv", SAMPLES / "ames-house-prices.csv", DATA / "credit-g.csv"])
def test_to_dict_from_dict_round_trip_through_json(path):
    schema = infer_schema(pd.read_csv(path))
    stored = json.loads(json.dumps(schema.to_dict()))  # what the experiment folder holds
    assert Schema.from_dict(stored) == schema


# ---------------------------------------------------------------- any small table

_DATES = st.datetimes(min_value=pd.Timestamp("1900-01-01").to_pydatetime(),
                      max_value=pd.Timestamp("2200-01-01").to_pydatetime())
_SENTENCES = st.lists(st.sampled_from(WORDS), min_size=1, max_size=8).map(" ".join)
_cell = st.one_of(
    st.none(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=12),
    _SENTENCES,
    st.sampled_from(["yes", "no", "1", "0", "2024-01-31", "01/02/2023 10:00", " ", "", "nan", "NaT", "1e400"]),
    _DATES,
)


@st.composite
def _columns(draw, n: int) -> pd.Series:
    """A column of one type (as a reader produces) or of mixed objects (as a hand-made frame may hold)."""
    element = draw(st.sampled_from(["int", "sorted_int", "float", "bool", "text", "date", "date_text", "mixed"]))

    def some(values):  # n values, some missing
        return draw(st.lists(st.one_of(st.none(), values), min_size=n, max_size=n))

    if element == "int":
        return pd.Series(draw(st.lists(st.integers(-(10**9), 10**9), min_size=n, max_size=n)), dtype="int64")
    if element == "sorted_int":  # sorted and unique: the id heuristic's own territory
        start = draw(st.integers(-100, 100))
        return pd.Series(np.arange(start, start + n) * draw(st.sampled_from([1, -1])), dtype="int64")
    if element == "float":
        return pd.Series(draw(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=n, max_size=n)),
                         dtype="float64")
    if element == "bool":
        return pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    if element == "text":
        return pd.Series(some(st.one_of(st.text(max_size=40), _SENTENCES)), dtype=object)
    if element == "date":
        return pd.Series(pd.to_datetime(some(_DATES)))
    if element == "date_text":
        return pd.Series([None if d is None else d.strftime(draw(st.sampled_from(["%Y-%m-%d", "%d/%m/%Y %H:%M"])))
                          for d in some(_DATES)], dtype=object)
    return pd.Series(draw(st.lists(_cell, min_size=n, max_size=n)), dtype=object)


@st.composite
def _frames(draw) -> pd.DataFrame:
    n = draw(st.integers(0, 70))
    n_cols = draw(st.integers(1, 4))
    return pd.DataFrame({f"c{i}": draw(_columns(n)).to_numpy() for i in range(n_cols)})


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_frames())
def test_inference_never_raises_and_gives_every_column_one_kind(frame):
    schema = infer_schema(frame)
    assert schema.names == list(frame.columns) and schema.n_rows == len(frame)
    for col in schema.columns:
        assert col.kind in KINDS
        series = frame[col.name]
        assert col.n_missing == series.isna().sum() and col.n_unique == series.dropna().nunique()
        assert (col.kind == CONSTANT) == (col.n_unique <= 1)
        if col.kind in (NUMERIC, DATETIME) and col.n_unique:
            assert col.minimum <= col.maximum
    assert Schema.from_dict(json.loads(json.dumps(schema.to_dict()))) == schema

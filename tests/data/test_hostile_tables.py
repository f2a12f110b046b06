"""Hostile and awkward tables, generated: reading and preparing one ends in a Dataset or a clean AutoMLError.

Each strategy writes one class of trouble seen in real uploads (issue 16): odd delimiters, decimal commas,
thousands separators, byte-order marks, ragged rows, words in number columns, spaces in labels, non-finite
or huge targets, constant / id / empty columns, bad headers, tiny tables, one class, mixed types, Excel and
Parquet variants. Anything else escaping (a TypeError, an OSError, a hang) is a bug.
"""

from __future__ import annotations

import io
import signal
import tempfile
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import automl
from automl.data import prepare_dataset, read_table
from automl.errors import AutoMLError

SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
WORDS = ["n/a?", "unknown", "missing", "-", "?", "abc", "1.2.3", "—", "TBD"]
TIME_LIMIT_S = 30


@contextmanager
def time_limit(seconds: int):
    """A hang fails the test instead of stalling it (SIGALRM: the tests run in the main thread)."""
    def expire(signum, frame):
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def base_frame(seed: int, n: int, task: str = "binary") -> pd.DataFrame:
    """A learnable table: two numbers, a category, a target that depends on them."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n) * 100, rng.uniform(0, 5000, size=n)
    colour = rng.choice(["red", "green", "blue"], size=n)
    signal_ = x1 / 100 + (colour == "red") + rng.normal(scale=0.5, size=n)
    target = signal_ * 10 if task == "regression" else np.where(signal_ > 0.3, "yes", "no")
    return pd.DataFrame({"x1": x1.round(4), "x2": x2.round(2), "colour": colour, "y": target})


def outcome(data: bytes, name: str, target: str = "y", task: str | None = None) -> tuple[str, object]:
    """("dataset", Dataset) or ("error", AutoMLError); anything else propagates and fails the test."""
    with time_limit(TIME_LIMIT_S):
        try:
            frame = read_table(data, name=name)
            return "dataset", prepare_dataset(frame, target, task=task)
        except AutoMLError as err:
            assert err.problem and err.fix, f"an error without a fix: {err}"
            return "error", err


seeds, sizes = st.integers(0, 2**16), st.integers(0, 120)


@st.composite
def delimited(draw):
    frame = base_frame(draw(seeds), draw(sizes))
    return frame.to_csv(sep=draw(st.sampled_from([",", ";", "\t", "|"])), index=False).encode(), "t.csv"


@st.composite
def decimal_commas(draw):
    frame = base_frame(draw(seeds), draw(st.integers(20, 120)))
    return frame.to_csv(sep=draw(st.sampled_from([";", "\t"])), decimal=",", index=False).encode(), "t.csv"


@st.composite
def thousands(draw):
    frame = base_frame(draw(seeds), draw(st.integers(20, 120)))
    frame["x2"] = [f"{v:,.2f}" for v in frame["x2"] * 1000]
    return frame.to_csv(index=False, quoting=draw(st.sampled_from([0, 1]))).encode(), "t.csv"


@st.composite
def encodings(draw):
    frame = base_frame(draw(seeds), draw(sizes))
    frame["colour"] = frame["colour"].map({"red": "rouge é", "green": "grün ß", "blue": "azul ñ"})
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "cp1252", "latin-1"]))
    text = frame.to_csv(index=False)
    # utf-16-le without a BOM is NUL-ridden text we can't tell from binary: it must be refused, cleanly
    return text.encode(encoding), "t.csv"


@st.composite
def ragged(draw):
    frame = base_frame(draw(seeds), draw(st.integers(1, 80)))
    lines = frame.to_csv(index=False).splitlines()
    every = draw(st.booleans())
    row = draw(st.integers(1, len(lines) - 1))
    lines = [ln + ",extra" if (every and i) or i == row else ln for i, ln in enumerate(lines)]
    return ("\n".join(lines) + "\n").encode(), "t.csv"


@st.composite
def stray_words(draw):
    frame = base_frame(draw(seeds), draw(st.integers(20, 120)))
    column = frame["x2"].astype(object)
    for i in draw(st.lists(st.integers(0, len(frame) - 1), max_size=12)):
        column.iloc[i] = draw(st.sampled_from(WORDS))
    frame["x2"] = column
    return frame.to_csv(index=False).encode(), "t.csv"


@st.composite
def label_spaces(draw):
    frame = base_frame(draw(seeds), draw(st.integers(20, 120)))
    pads = draw(st.lists(st.sampled_from(["", " ", "  ", "\t", " \u00a0"]), min_size=1, max_size=4))
    frame["y"] = [v + pads[i % len(pads)] if i % 3 else " " + v for i, v in enumerate(frame["y"])]
    return frame.to_csv(index=False).encode(), "t.csv"


@st.composite
def non_finite_targets(draw):
    frame = base_frame(draw(seeds), draw(st.integers(20, 120)), task="regression").astype({"y": object})
    for i in draw(st.lists(st.integers(0, len(frame) - 1), max_size=5)):
        frame.loc[i, "y"] = draw(st.sampled_from([np.inf, -np.inf, np.nan, 1e308, -1e200, "inf", ""]))
    return frame.to_csv(index=False).encode(), "t.csv"


@st.composite
def odd_columns(draw):
    n = draw(st.integers(20, 120))
    frame = base_frame(draw(seeds), n)
    kinds = draw(st.lists(st.sampled_from(["constant", "id", "empty", "text", "huge", "mixed", "bool"]), max_size=4))
    for k, kind in enumerate(kinds):
        frame[f"{kind}{k}"] = {"constant": [7] * n, "id": range(n), "empty": [None] * n,
                               "text": [f"free text number {i} here" for i in range(n)],
                               "huge": [1e308 if i % 2 else -1e308 for i in range(n)],
                               "mixed": [i if i % 2 else f"s{i}" for i in range(n)],
                               "bool": [bool(i % 2) for i in range(n)]}[kind]
    if draw(st.booleans()):  # only odd columns left
        frame = frame[[c for c in frame.columns if c not in ("x1", "x2", "colour")]]
    return frame.to_csv(index=False).encode(), "t.csv"


@st.composite
def bad_headers(draw):
    frame = base_frame(draw(seeds), draw(st.integers(20, 60)))
    names = draw(st.lists(st.sampled_from(["x1", "", " ", "y ", "a,b", '"q"', "x1 "]), min_size=3, max_size=3))
    lines = frame.to_csv(index=False).splitlines()
    lines[0] = ",".join([*(f'"{n}"' if "," in n else n for n in names), "y"])
    return ("\n".join(lines) + "\n").encode(), "t.csv"


@st.composite
def tiny_or_one_class(draw):
    frame = base_frame(draw(seeds), draw(st.integers(0, 30)))
    if draw(st.booleans()):
        frame["y"] = "yes"
    return frame.to_csv(index=False).encode(), "t.csv"


@st.composite
def garbage_bytes(draw):
    head = draw(st.sampled_from([b"", b"\xff\xfe", b"\xef\xbb\xbf", b"PK\x03\x04", b"PAR1", b"a,y\n"]))
    name = draw(st.sampled_from(["t.csv", "t.parquet", "t.xlsx", "t.xls", "t.tsv"]))
    return head + draw(st.binary(max_size=300)), name


@st.composite
def excel_files(draw):
    frame = base_frame(draw(seeds), draw(st.integers(15, 60)))
    if draw(st.booleans()):
        frame["x2"] = frame["x2"].astype(object)
        frame.loc[0, "x2"] = "n/a?"  # one word in 15-60 numbers: at most 5%: still numbers
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    return buffer.getvalue(), "t.xlsx"


@st.composite
def parquet_files(draw):
    frame = base_frame(draw(seeds), draw(st.integers(15, 80)))
    table = pa.Table.from_pandas(frame, preserve_index=False)
    n = len(frame)
    extra = draw(st.sampled_from(["none", "list", "struct", "binary_text", "binary_raw", "dictionary"]))
    if extra == "list":
        table = table.append_column("tags", pa.array([[i, i + 1] for i in range(n)]))
    elif extra == "struct":
        table = table.append_column("point", pa.array([{"a": i, "b": str(i)} for i in range(n)]))
    elif extra == "binary_text":
        table = table.append_column("code", pa.array([f"c{i % 4}".encode() for i in range(n)], pa.binary()))
    elif extra == "binary_raw":
        table = table.append_column("blob", pa.array([bytes([255, i % 256]) for i in range(n)], pa.binary()))
    elif extra == "dictionary":
        table = table.set_column(2, "colour", table.column(2).dictionary_encode())
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue(), "t.parquet"


STRATEGIES = {
    "delimited": (delimited(), 25), "decimal_commas": (decimal_commas(), 20), "thousands": (thousands(), 20),
    "encodings": (encodings(), 20), "ragged": (ragged(), 20), "stray_words": (stray_words(), 20),
    "label_spaces": (label_spaces(), 15), "non_finite_targets": (non_finite_targets(), 20),
    "odd_columns": (odd_columns(), 20), "bad_headers": (bad_headers(), 15),
    "tiny_or_one_class": (tiny_or_one_class(), 15), "garbage_bytes": (garbage_bytes(), 25),
    "excel_files": (excel_files(), 10), "parquet_files": (parquet_files(), 15),
}
assert sum(n for _, n in STRATEGIES.values()) >= 200


@pytest.mark.parametrize("kind", sorted(STRATEGIES))
def test_any_table_gives_a_dataset_or_a_clean_error(kind):
    strategy, examples = STRATEGIES[kind]

    @settings(max_examples=examples, **SETTINGS)
    @given(strategy)
    def check(table):
        data, name = table
        result, value = outcome(data, name, task="regression" if kind == "non_finite_targets" else None)
        if result == "dataset":
            assert len(value.X) == len(value.y) >= 20 and value.schema.features
            assert value.y.notna().all()
            if value.task == "regression":
                assert np.isfinite(value.y.to_numpy(dtype=float)).all()
                assert np.abs(value.y.to_numpy(dtype=float)).max() <= 1e150
            else:
                assert all(not isinstance(v, str) or v == v.strip() for v in value.y.unique())
            if kind in ("delimited", "decimal_commas", "thousands", "encodings", "excel_files"):
                assert value.schema["x1"].kind == value.schema["x2"].kind == "numeric", value.schema
        elif kind == "ragged":
            assert "more fields than its header" in value.problem or "fields" in value.problem

    check()


@settings(max_examples=12, **SETTINGS)
@given(st.one_of(delimited(), decimal_commas(), stray_words(), label_spaces(), odd_columns(), parquet_files()))
def test_a_tiny_real_fit_gives_a_model_or_a_clean_error(table):
    data, name = table
    with tempfile.TemporaryDirectory() as workspace, time_limit(120):
        try:
            exp = automl.fit(read_table(data, name=name), "y", trials=1, algorithms=["hist_gradient_boosting"],
                             ensemble=False, workspace=workspace)
        except AutoMLError as err:
            assert err.fix
            return
        assert exp.has_model and exp.record.status == "completed"

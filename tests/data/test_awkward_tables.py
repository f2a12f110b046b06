"""Awkward but valid tables train like their clean twin; hostile ones are refused quickly, by name.

The twins are the same rows (tests/fixtures/phoneme.csv) written two ways: once plainly, once with
semicolons and decimal commas, quoted thousands separators, or as UTF-16 with a BOM (Excel's "Unicode
text"). Read right, both give the same table and the same held-out score.
"""

from __future__ import annotations

import io
import time
import zipfile

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import DATA

import automl
from automl.data import prepare_dataset, read_table
from automl.errors import DataError

ROWS = 1500


@pytest.fixture(scope="module")
def phoneme() -> pd.DataFrame:
    frame = pd.read_csv(DATA / "phoneme.csv").head(ROWS)
    frame["V1"] = (frame["V1"] * 10_000).round(2)  # values in the thousands, so separators show
    frame["Class"] = frame["Class"].map({1: "one", 2: "two"})
    return frame


def _fit_score(frame: pd.DataFrame, workspace) -> float:
    exp = automl.fit(frame, "Class", trials=1, algorithms=["hist_gradient_boosting"], ensemble=False, seed=0,
                     workspace=workspace)
    return exp.record.headline_score


def _write(frame: pd.DataFrame, style: str) -> bytes:
    if style == "semicolon_decimal_comma":
        return frame.to_csv(sep=";", decimal=",", index=False).encode()
    if style == "thousands":
        out = frame.astype({"V1": object})
        out["V1"] = [f"{v:,.2f}" for v in frame["V1"]]
        return out.to_csv(index=False).encode()
    if style == "utf16_bom":
        return frame.to_csv(sep="\t", index=False).encode("utf-16")
    raise ValueError(style)


@pytest.fixture(scope="module")
def clean_score(phoneme, tmp_path_factory) -> float:
    clean = read_table(phoneme.to_csv(index=False).encode(), name="clean.csv")
    return _fit_score(clean, tmp_path_factory.mktemp("clean"))


@pytest.mark.parametrize("style", ["semicolon_decimal_comma", "thousands", "utf16_bom"])
def test_awkward_twin_reads_and_trains_like_the_clean_one(style, phoneme, clean_score, tmp_path):
    awkward = read_table(_write(phoneme, style), name="awkward.csv")
    assert list(awkward.columns) == list(phoneme.columns)
    pd.testing.assert_frame_equal(awkward.astype({"Class": object}), phoneme.astype({"Class": object}),
                                  check_dtype=False, atol=1e-9)
    dataset = prepare_dataset(awkward, "Class")
    assert set(dataset.schema.features) == {"V1", "V2", "V3", "V4", "V5"}  # none dropped as id or text
    score = _fit_score(awkward, tmp_path)
    assert clean_score > 0.8 and abs(score - clean_score) <= 0.005


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "cp1252"])
def test_the_compact_reader_reads_other_encodings_like_the_plain_one(encoding, phoneme):
    """Large files go through pyarrow; a non-UTF-8 one is decoded first (its own transcoding once aborted)."""
    frame = phoneme.assign(Class=phoneme["Class"].map({"one": "caf\u00e9", "two": "na\u00efve"}))
    raw = frame.to_csv(sep="\t", index=False).encode(encoding)
    compact, plain = read_table(raw, name="t.csv", compact=True), read_table(raw, name="t.csv", compact=False)
    assert list(compact.columns) == list(frame.columns)
    pd.testing.assert_frame_equal(compact.astype({"Class": object}), plain.astype({"Class": object}),
                                  check_dtype=False, atol=1e-9)
    assert set(compact["Class"].astype(str)) == {"caf\u00e9", "na\u00efve"}


def test_a_few_words_in_a_number_column_become_missing_with_a_warning(phoneme):
    frame = phoneme.astype({"V2": object})
    frame.loc[[3, 50, 700], "V2"] = ["unknown", "n/a?", "unknown"]
    read = read_table(frame.to_csv(index=False).encode(), name="words.csv")
    assert pd.api.types.is_float_dtype(read["V2"]) and read["V2"].isna().sum() == 3
    dataset = prepare_dataset(read, "Class")
    assert dataset.schema["V2"].kind == "numeric"
    assert any("'V2': read as numbers; 3 value(s)" in w and "'unknown'" in w for w in dataset.warnings)
    many = phoneme.astype({"V2": object})
    many.loc[: ROWS // 10, "V2"] = "unknown"  # 10% words: a text column, left as it is
    assert not pd.api.types.is_float_dtype(read_table(many.to_csv(index=False).encode(), name="m.csv")["V2"])


def test_rows_with_more_fields_than_the_header_are_refused_with_the_line():
    body = "a,b,y\n" + "".join(f"{i},{i * 2},{i % 2}\n" for i in range(30))
    with pytest.raises(DataError, match="line 2 has 4 fields, the header 3"):
        read_table(body.replace("0,0,0\n", "0,0,0,9\n", 1).encode(), name="r.csv")
    every = "a,b\n" + "".join(f"{i},{i * 2},{i % 2}\n" for i in range(30))  # pandas would make 'a' the index
    with pytest.raises(DataError, match="more fields than its header"):
        read_table(every.encode(), name="r.csv")


def test_class_labels_with_spaces_are_one_class():
    frame = pd.DataFrame({"x": range(40), "z": np.tile([1.0, 2.5, 3.5, 0.5], 10),
                          "y": ["yes", "yes ", " no", "no"] * 10})
    dataset = prepare_dataset(frame, "y")
    assert dataset.task == "binary" and sorted(dataset.y.unique()) == ["no", "yes"]


@pytest.mark.parametrize("bad, words", [(np.inf, "infinite"), (1e308, "beyond"), (-1e200, "beyond")])
def test_non_finite_or_huge_regression_targets_are_refused_with_the_count(bad, words):
    y = np.linspace(0, 50, 60)
    y[[4, 9]] = bad
    frame = pd.DataFrame({"x": np.arange(60) % 7, "y": y})
    with pytest.raises(DataError, match=f"2 .*{words}|{words}.*2") as info:
        prepare_dataset(frame, "y", task="regression")
    assert info.value.fix


def test_nan_target_rows_are_dropped_with_a_count():
    frame = pd.DataFrame({"x": np.arange(60) % 7, "y": np.r_[np.linspace(0, 5, 57), [np.nan] * 3]})
    dataset = prepare_dataset(frame, "y", task="regression")
    assert dataset.dropped_missing_target == 3 and any("3 row(s) without a value" in w for w in dataset.warnings)


def test_an_xlsx_that_unpacks_to_a_huge_sheet_is_refused_quickly():
    buffer = io.BytesIO()
    pd.DataFrame({"a": [1, 2], "y": [0, 1]}).to_excel(buffer, index=False)
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet2.xml", b"<c/>" * 15_000_000)  # 60 MB of XML in ~60 KB
    data = buffer.getvalue()
    assert len(data) < 500_000
    start = time.perf_counter()
    with pytest.raises(DataError, match="unpacks to 60 MB"):
        read_table(data, name="bomb.xlsx")
    assert time.perf_counter() - start < 2


def test_an_ordinary_xlsx_and_a_broken_xls_read_or_fail_cleanly():
    buffer = io.BytesIO()
    pd.DataFrame({"a": [1.5, 2.5], "y": ["p", "q"]}).to_excel(buffer, index=False)
    assert read_table(buffer.getvalue(), name="ok.xlsx")["a"].tolist() == [1.5, 2.5]
    with pytest.raises(DataError, match="could not be read as Excel"):  # the .xls reader is installed
        read_table(b"\xd0\xcf\x11\xe0 not really a workbook", name="old.xls")


def test_parquet_nested_columns_are_named_and_cells_are_bounded(monkeypatch):
    table = pa.table({"a": [1, 2, 3], "tags": [[1], [2, 3], []], "y": [0, 1, 0]})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    with pytest.raises(DataError, match="nested columns.*'tags'"):
        read_table(buffer.getvalue(), name="n.parquet")
    wide = io.BytesIO()
    pq.write_table(pa.table({f"c{i}": list(range(100)) for i in range(20)}), wide)
    monkeypatch.setenv("AUTOML_MAX_CELLS", "1000")
    for compact in (False, True):
        with pytest.raises(DataError, match="2,000 cells; the limit is 1,000"):
            read_table(wide.getvalue(), name="w.parquet", compact=compact)


def test_parquet_binary_columns_are_decoded_when_text_and_refused_when_not():
    buffer = io.BytesIO()
    pq.write_table(pa.table({"code": pa.array([b"a", b"b"], pa.binary()), "y": [0, 1]}), buffer)
    assert read_table(buffer.getvalue(), name="b.parquet")["code"].tolist() == ["a", "b"]
    raw = io.BytesIO()
    pq.write_table(pa.table({"blob": pa.array([b"\xff\x00", b"\xfe"], pa.binary()), "y": [0, 1]}), raw)
    with pytest.raises(DataError, match="binary column 'blob'"):
        read_table(raw.getvalue(), name="b.parquet")


def test_an_xlsx_declaring_more_cells_than_the_limit_is_refused_before_parsing(monkeypatch):
    buffer = io.BytesIO()
    pd.DataFrame({f"c{i}": range(100) for i in range(20)}).to_excel(buffer, index=False)
    assert read_table(buffer.getvalue(), name="w.xlsx").shape == (100, 20)
    monkeypatch.setenv("AUTOML_MAX_CELLS", "1000")
    with pytest.raises(DataError, match="101 rows x 20 columns = 2,020 cells; the limit is 1,000"):
        read_table(buffer.getvalue(), name="w.xlsx")

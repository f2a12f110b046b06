"""The typed experiment record on real experiments: round trip, version-1 files, unknown keys, the model
summary, and the model fingerprint."""

from __future__ import annotations

import json
import os
import shutil
import zipfile

import pytest
import skops.io as sio
from conftest import DATA

import automl
from automl.errors import AutoMLError
from automl.experiment import (
    META,
    SCHEMA_VERSION,
    Experiment,
    ExperimentMeta,
    Workspace,
    model_fingerprint,
    model_summary,
)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return tmp_path_factory.mktemp("ws-record")


@pytest.fixture(scope="module")
def blended(ws) -> Experiment:
    """The first three portfolio configs of LightGBM on credit-g: greedy selection blends two of them (seed 0)."""
    return automl.fit(DATA / "credit-g.csv", "class", trials=3, seed=0, workspace=ws, name="blended",
                      algorithms=["lightgbm"])


@pytest.fixture(scope="module")
def single(ws) -> Experiment:
    return automl.fit(DATA / "credit-g.csv", "class", trials=2, seed=0, workspace=ws, name="single", ensemble=False)


def _copy(exp: Experiment, tmp_path, edit) -> Experiment:
    """A copy of the experiment folder whose experiment.json went through ``edit(dict)``."""
    copy = Experiment(shutil.copytree(exp.path, tmp_path / exp.id))
    data = json.loads(copy.file(META).read_text())
    edit(data)
    copy.file(META).write_text(json.dumps(data))
    return copy


def test_the_record_round_trips_what_a_fit_writes(blended):
    stored = json.loads(blended.file(META).read_text())
    assert stored["schema_version"] == SCHEMA_VERSION
    record = blended.record
    assert record.to_dict() == stored
    assert ExperimentMeta.from_dict(record.to_dict()) == record
    assert record.extra == {}  # every key today's writers store has a typed field
    assert record.status == "completed" and record.task == "binary" and record.target == "class"
    assert record.rows.train + record.rows.holdout == 1000 and record.schema.n_rows == 1000
    assert record.timing.trials == 3 and record.best.cv_score == stored["best"]["cv_score"]
    assert record.headline_score == stored["holdout"][stored["metric"]]
    assert record.config.trials == 3 and record.config.exclude == ()


def test_a_file_without_a_version_reads_as_version_1(blended, tmp_path):
    old = _copy(blended, tmp_path, lambda d: d.pop("schema_version"))
    assert "schema_version" not in old.meta
    assert old.record.schema_version == 1
    assert old.record == blended.record
    assert old.record.to_dict() == blended.record.to_dict()  # reading it back writes today's version
    old.update(name="renamed")
    assert old.meta["schema_version"] == SCHEMA_VERSION and old.record.name == "renamed"


def test_unknown_keys_are_kept(blended, tmp_path):
    def future(data):
        data["calibration"] = {"method": "isotonic"}
        data["model"]["calibrated"] = True
        data["timing"]["explain_s"] = 1.5
        data["leaderboard"][0]["gpu"] = False

    later = _copy(blended, tmp_path, future)
    record = later.record
    assert record.extra == {"calibration": {"method": "isotonic"}}
    assert record.model.extra == {"calibrated": True} and record.timing.extra == {"explain_s": 1.5}
    assert record.leaderboard[0].extra == {"gpu": False}
    assert record.to_dict() == later.meta
    later.update(name="still there")
    assert later.record.extra == {"calibration": {"method": "isotonic"}} and later.record.model.extra


def test_keys_absent_or_null_stay_so():
    data = {"schema_version": 1, "id": "abc", "status": "failed", "error": None,
            "model": {"kind": "single", "ensemble": None, "algorithm": "lightgbm"}}
    record = ExperimentMeta.from_dict(data)
    assert record.to_dict() == data
    assert record.best is None and record.leaderboard == () and record.timing.trials is None


def test_the_record_is_cached_per_version_of_the_file(blended, tmp_path):
    exp = _copy(blended, tmp_path, lambda d: None)
    first = exp.record
    assert exp.record is first  # not parsed again while the file is unchanged
    exp.update(name="second")
    assert exp.record.name == "second"
    Experiment(exp.path).update(name="third")  # another reader (e.g. the worker's process) writes
    assert exp.record.name == "third"


def test_model_summary_of_an_ensemble(blended):
    record = blended.record
    summary = model_summary(record)
    assert record.model.is_ensemble and summary.is_ensemble and summary.label == "Ensemble"
    stored = blended.meta["model"]["ensemble"]
    assert [(m.trial, m.weight) for m in summary.members] == [(m["trial"], m["weight"]) for m in stored["members"]]
    assert all(m.label == "LightGBM" for m in summary.members)  # the label, not the registry name
    assert summary.text().startswith("an ensemble of LightGBM (trial ")
    assert f"{stored['oof_score']:.4f} against {stored['best_single_oof']:.4f}" in summary.text()
    assert summary.short == f"ensemble of {len(stored['members'])}"


def test_model_summary_of_a_single_model(single):
    summary = model_summary(single.record)
    assert summary.kind == "single" and summary.label == "LightGBM" and summary.algorithm == "lightgbm"
    assert summary.trial == single.meta["best"]["trial"] and summary.note == "ensembling is off"
    assert summary.text() == f"LightGBM (trial {summary.trial}), a single model; no ensemble: ensembling is off"


def test_model_summary_of_the_defaults_fallback(single, tmp_path):
    def fallback(data):  # what automl.final writes when no trial finished its cross-validation
        data["best"] = {"algorithm": "lightgbm", "label": "LightGBM", "params": {}, "cv_score": None,
                        "cv_std": None, "trial": None}
        data["model"] = {"kind": "single", "ensemble": None, "algorithm": "lightgbm"}
        data["leaderboard"] = []

    summary = model_summary(_copy(single, tmp_path, fallback).record)
    assert summary.kind == "defaults" and summary.label == "LightGBM" and summary.trial is None
    assert "default settings" in summary.text() and summary.short == "LightGBM (defaults)"
    assert model_summary(ExperimentMeta.from_dict({"id": "x", "status": "running"})).kind == "none"


def test_the_list_shows_the_model_summary(blended, single, ws):
    table = Workspace(ws).summaries().set_index("id")
    assert table.loc[blended.id, "model"] == "ensemble of 2"
    assert table.loc[single.id, "model"] == "LightGBM"
    assert table.loc[single.id, "holdout"] == single.record.headline_score


def test_the_fingerprint_changes_when_the_model_file_does(single, tmp_path):
    exp = _copy(single, tmp_path, lambda d: None)
    before = model_fingerprint(exp)
    assert model_fingerprint(exp) == before  # unchanged file, same key
    sio.dump(exp.load_model(), exp.model_path, compression=zipfile.ZIP_STORED)  # other bytes
    rewritten = model_fingerprint(exp)
    assert rewritten != before
    stat = exp.model_path.stat()
    os.utime(exp.model_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # same bytes, rewritten later
    assert model_fingerprint(exp) != rewritten
    exp.model_path.unlink()
    with pytest.raises(AutoMLError, match="has no model yet"):
        model_fingerprint(exp)

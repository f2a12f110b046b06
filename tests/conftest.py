"""Shared fixtures: real datasets shipped in the repository, and small trained experiments."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "fixtures"
SAMPLES = ROOT / "automl" / "data" / "samples"


@pytest.fixture(scope="session")
def credit_path() -> Path:
    return DATA / "credit-g.csv"


@pytest.fixture(scope="session")
def titanic_path() -> Path:
    return SAMPLES / "titanic.csv"


@pytest.fixture(scope="session")
def titanic() -> pd.DataFrame:
    return pd.read_csv(SAMPLES / "titanic.csv")


@pytest.fixture(scope="session")
def trained_titanic(tmp_path_factory):
    """A small completed binary experiment (titanic), shared by tests that only read it."""
    import automl

    ws = tmp_path_factory.mktemp("ws-titanic")
    return automl.fit(SAMPLES / "titanic.csv", "Survived", trials=12, seed=0, workspace=ws, name="titanic")

"""Tests mirror the package: one test folder per stage, and file names pytest can tell apart."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_stage_has_a_test_folder_with_tests() -> None:
    stages = [p.name for p in (ROOT / "automl").iterdir() if (p / "__init__.py").exists()]
    bare = [s for s in stages if not list((ROOT / "tests" / s).glob("test_*.py"))]
    assert bare == []


def test_test_file_names_are_unique() -> None:
    """pytest's default import mode imports test files by their base name: two alike shadow each other."""
    names = Counter(p.name for p in (ROOT / "tests").rglob("test_*.py"))
    assert [n for n, count in names.items() if count > 1] == []

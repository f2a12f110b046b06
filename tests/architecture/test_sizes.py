"""Small modules with names that explain themselves: a module stays under 300 lines, a package's face under 40."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_MODULE, MAX_INIT = 300, 40


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines())


def test_no_module_over_300_lines() -> None:
    long = {str(p.relative_to(ROOT)): _lines(p) for d in ("automl", "dashboard") for p in (ROOT / d).rglob("*.py")
            if _lines(p) > MAX_MODULE}
    assert long == {}


def test_package_faces_are_short() -> None:
    long = {str(p.relative_to(ROOT)): _lines(p) for p in (ROOT / "automl").rglob("__init__.py") if _lines(p) > MAX_INIT}
    assert long == {}

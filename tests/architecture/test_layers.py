"""The stages depend one way (DESIGN.md, "Layout"): each subpackage imports only the ones below it.

Two checks: every ``import`` statement in the source (function-local ones included, so a lazy import
can't hide an arrow), and what importing a subpackage actually loads into ``sys.modules``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

AUTOML = Path(__file__).resolve().parents[2] / "automl"

BELOW: dict[str, set[str]] = {
    "data": set(),
    "metrics": set(),
    "experiment": {"data"},
    "algorithms": {"data", "metrics"},
    "search": {"data", "metrics", "algorithms", "experiment"},
    "final": {"data", "metrics", "algorithms", "search", "experiment"},
    "evaluation": {"data", "metrics", "algorithms", "final", "experiment"},
    "explain": {"data", "metrics", "algorithms", "final", "evaluation", "experiment"},
    "monitor": {"data", "metrics", "algorithms", "final", "evaluation", "experiment"},
    "plots": {"data", "metrics", "algorithms", "evaluation", "explain", "monitor", "experiment"},
    "deploy": {"data", "metrics", "algorithms", "final", "evaluation", "explain", "monitor", "plots", "experiment"},
}
STAGES = set(BELOW)
TOP = {"api", "runner", "cli"}  # orchestration and entry points: nothing below may import them


def _imports(path: Path) -> set[str]:
    """The automl modules a file imports, as dotted names."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("automl")}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("automl"):
            if node.module == "automl":
                found |= {f"automl.{a.name}" for a in node.names}
            else:
                found.add(node.module)
    return found


def _arrows(stage: str) -> set[tuple[str, str]]:
    bad = set()
    for path in (AUTOML / stage).rglob("*.py"):
        for module in _imports(path):
            parts = module.split(".")
            if len(parts) < 2 or parts[1] == stage:
                continue
            target = parts[1]
            if target in TOP or target == "dashboard" or (target in STAGES and target not in BELOW[stage]):
                bad.add((str(path.relative_to(AUTOML)), module))
    return bad


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_imports_point_down(stage: str) -> None:
    assert _arrows(stage) == set()


def test_library_never_imports_the_dashboard() -> None:
    offenders = [str(p) for p in AUTOML.rglob("*.py") if any(m.startswith("dashboard") for m in _imports(p))]
    assert offenders == []


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_importing_a_stage_loads_only_what_is_below(stage: str) -> None:
    code = (f"import sys, json; import automl.{stage}; "
            "print(json.dumps(sorted({m.split('.')[1] for m in sys.modules if m.startswith('automl.')})))")
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                           check=True).stdout))
    assert loaded - {stage, "errors"} - BELOW[stage] == set()
    assert "streamlit" not in subprocess.run(
        [sys.executable, "-c", f"import sys, automl.{stage}; print(' '.join(sys.modules))"],
        capture_output=True, text=True, check=True).stdout.split()

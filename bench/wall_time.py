"""Wall time of ``automl fit --time-budget B`` as a user times it, on an idle machine and under load.

Run: python bench/wall_time.py [--before DIR] [--budget 60] [--hogs 0 1] [--datasets adult ...] [--seed 0]
[--out FILE]

Each run is the real command in a fresh process (``python -m automl fit <table> --target T --time-budget B
--seed S``) on the shared datasets' training split (seed S, 80%; ``--seed``, default 0), timed from the process
start to its exit: interpreter start, imports, reading the table, search, refit, held-out report and writing the
model, all of it. "Under load" is ``--hogs N`` processes spinning on the CPU beside it the whole time (one hog
takes one of the two cores). ``--before DIR`` runs a checkout of older code (``git worktree add --detach DIR REV``) the
same way, run for run interleaved, so the two versions meet the same machine. The goal (issue 14): wall time
<= budget x 1.05, also under load. Results: printed and written to bench/results/wall_time.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

HOG = "while True:\n    pass\n"


def run_fit(code: Path, table: Path, target: str, budget: float, workspace: Path, seed: int = 0) -> dict:
    """One ``automl fit`` with ``code`` first on the path; its wall time and what it recorded."""
    env = {**os.environ, "PYTHONPATH": str(code), "AUTOML_WORKSPACE": str(workspace)}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "automl", "fit", str(table), "--target", target,
                           "--time-budget", str(budget), "--seed", str(seed), "--json"], cwd=code, env=env,
                          capture_output=True, text=True, timeout=budget * 4 + 120)
    wall = time.perf_counter() - start
    record = json.loads(done.stdout) if done.returncode == 0 and done.stdout.strip().startswith("{") else {}
    timing, model = record.get("timing") or {}, record.get("model") or {}
    return {"wall_s": round(wall, 1), "ratio": round(wall / budget, 3), "fit_elapsed_s": timing.get("elapsed_s"),
            "search_s": timing.get("search_s"), "refit_s": timing.get("refit_s"),
            "full_refit_s": timing.get("full_refit_s"),
            "trials": timing.get("trials"), "trained_on": model.get("trained_on"),
            "note": model.get("full_refit_note"), "code": done.returncode,
            "error": None if done.returncode == 0 else done.stderr[-300:]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path)
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--hogs", type=int, nargs="*", default=[0, 1])
    parser.add_argument("--datasets", nargs="*", default=["adult", "bank-marketing", "california-housing",
                                                          "phoneme"])
    parser.add_argument("--seed", type=int, default=0, help="the split's seed and the fit's")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "wall_time.md")
    args = parser.parse_args()
    specs = {s.name: s for s in common.manifest(common.data_dir())}
    versions = ([("before", args.before)] if args.before else []) + [("after", ROOT)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-wall-") as tmp:
        for name in args.datasets:
            spec = specs[name]
            train, _ = common.split(spec, common.data_dir(), args.seed)
            table = Path(tmp, f"{name}.csv")
            train.to_csv(table, index=False)
            for hogs in args.hogs:
                for version, code in versions:
                    load = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(hogs)]
                    try:
                        time.sleep(1.0 if hogs else 0.0)
                        result = run_fit(code, table, spec.target, args.budget, Path(tmp, "ws"), args.seed)
                    finally:
                        for proc in load:
                            proc.kill()
                            proc.wait()
                    rows.append({"dataset": name, "hogs": hogs, "version": version, **result})
                    print(json.dumps(rows[-1]), flush=True)
    write(rows, args)
    return 0


def write(rows: list[dict], args: argparse.Namespace) -> None:
    cols = ["dataset", "hogs", "version", "wall_s", "ratio", "fit_elapsed_s", "search_s", "refit_s", "full_refit_s",
            "trials", "trained_on", "note"]
    lines = [f"# Wall time of `automl fit --time-budget {args.budget:.0f}` (`python bench/wall_time.py`)", "",
             f"Machine: {common.machine()}. Budget {args.budget:.0f} s, seed {args.seed}; 'hogs': processes spinning "
             "on the CPU beside the command the whole time (2 cores). Wall time from the process start to its exit.",
             "",
             "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in rows:
        lines.append("| " + " | ".join("" if row.get(c) is None else str(row.get(c)) for c in cols) + " |")
    for version in sorted({r["version"] for r in rows}):
        for hogs in sorted({r["hogs"] for r in rows}):
            mine = [r["ratio"] for r in rows if r["version"] == version and r["hogs"] == hogs]
            if mine:
                lines.append(f"\n- {version}, {hogs} hog(s): wall / budget max {max(mine):.3f}, "
                             f"median {sorted(mine)[len(mine) // 2]:.3f} over {len(mine)} runs")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())

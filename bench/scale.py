"""Large tables on one machine: wall time and peak memory of ``automl.fit``, and what it buys.

Generates a synthetic table (half numeric with missing values, half categorical
with 3 to 200 levels; a binary target from a non-linear mix of both), fits it
in a child process (so peak RSS is that process's alone, from ``wait4``), and
compares the held-out ROC AUC with a default LightGBM fitted on a 10% sample
of the same training rows (scored on the same held-out rows).

    python bench/scale.py                                   # 1 M rows x 20 columns, 120 s
    python bench/scale.py --rows 10000000 --cols 50 --budget 600 --format parquet

Timings on a shared machine are noisy; the script prints the load average.
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

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CHILD_ENV = {"OMP_WAIT_POLICY": "PASSIVE"}  # OpenMP threads sleep instead of spinning on a busy machine


def make_table(n_rows: int, n_cols: int, seed: int = 0) -> pd.DataFrame:
    """Half numeric (5% missing in every fifth), half categorical; target 'target' ('yes'/'no')."""
    rng = np.random.default_rng(seed)
    n_num = n_cols // 2
    cols: dict[str, object] = {}
    logit = np.zeros(n_rows)
    for j in range(n_num):
        x = rng.standard_normal(n_rows)
        logit += (0.8 * x) if j % 3 == 0 else (0.6 * np.sin(2 * x)) if j % 3 == 1 else 0.0
        if j % 5 == 4:
            x[rng.random(n_rows) < 0.05] = np.nan
        cols[f"num{j}"] = np.round(x, 4)
    for j in range(n_cols - n_num):
        levels = (3, 8, 20, 60, 200)[j % 5]
        codes = rng.integers(0, levels, n_rows)
        logit += rng.normal(scale=0.7 if j % 2 == 0 else 0.0, size=levels)[codes]
        cols[f"cat{j}"] = pd.Categorical.from_codes(codes, [f"c{j}_{i}" for i in range(levels)])
    logit += 0.5 * np.nan_to_num(cols["num0"]) * (np.asarray(cols["cat0"].codes) == 1)
    cols["target"] = np.where(rng.random(n_rows) < 1 / (1 + np.exp(-(logit - 0.5))), "yes", "no")
    return pd.DataFrame(cols)


def write_table(frame: pd.DataFrame, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    table = pa.Table.from_pandas(frame, preserve_index=False)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    else:  # dictionary columns as plain text, like any exported CSV
        table = table.cast(pa.schema([pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type)
                                               else f.type) for f in table.schema]))
        pa_csv.write_csv(table, path)


def run_child(code: str, env: dict[str, str] | None = None) -> tuple[dict, float, float]:
    """Run ``code`` in a fresh interpreter; its last stdout line is JSON. Returns (result, wall s, peak RSS GB)."""
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                            env={**os.environ, **CHILD_ENV, **(env or {})}, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"child failed with code {proc.returncode}:\n{out[-2000:]}")
    return json.loads(out.strip().splitlines()[-1]), wall, usage.ru_maxrss / 1024**2


FIT = """
import json, automl
exp = automl.fit({path!r}, "target", time_budget={budget}, workspace={ws!r}, name="scale")
m = exp.meta
board = m["leaderboard"]
print(json.dumps({{"id": exp.id, "path": str(exp.path), "status": m["status"], "timing": m["timing"],
                  "holdout": m["holdout"], "best": {{k: m["best"][k] for k in ("algorithm", "cv_score", "trial")}},
                  "model": m["model"]["kind"], "rows": m["rows"], "left_out": m.get("left_out")}}))
"""

BASELINE = """
import json, warnings
import pandas as pd
from sklearn.metrics import roc_auc_score
from automl.algorithms._registry import ALGORITHMS
from automl.experiment._store import Experiment
from automl.data._preprocess import build_pipeline
warnings.simplefilter("ignore")
exp = Experiment({path!r})
train = exp.read_frame("train.parquet").sample(frac=0.1, random_state=0)
hold = exp.read_frame("holdout.parquet")
model = build_pipeline(exp.schema, ALGORITHMS["lightgbm"].make({{}}, "binary", 0), "tree", "binary")
model.fit(train.drop(columns=["target"]), train["target"])
proba = model.predict_proba(hold.drop(columns=["target"]))[:, list(model.classes_).index(exp.meta["positive_class"])]
print(json.dumps({{"roc_auc": roc_auc_score(hold["target"] == exp.meta["positive_class"], proba), "rows": len(train)}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cols", type=int, default=20)
    parser.add_argument("--budget", type=float, default=120.0)
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    parser.add_argument("--dir", default=None, help="where to write the table and the workspace (default: a temp dir)")
    args = parser.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="automl-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"table-{args.rows}x{args.cols}.{args.format}"
    if not path.exists():
        start = time.monotonic()
        write_table(make_table(args.rows, args.cols), path)
        print(f"generated {path.name}: {path.stat().st_size / 1e6:.0f} MB in {time.monotonic() - start:.0f}s")
    print(f"load average before the fit: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    fit, wall, rss = run_child(FIT.format(path=str(path), budget=args.budget, ws=str(work / "ws")))
    base, base_wall, base_rss = run_child(BASELINE.format(path=fit["path"]))
    print(f"load average after the fit: {os.getloadavg()[0]:.1f}")
    t = fit["timing"]
    print(json.dumps({"fit": fit, "baseline": base}, indent=1, default=str))
    print(f"\n{args.rows:,} rows x {args.cols} columns, {args.budget:.0f}s budget: wall {wall:.0f}s "
          f"(search {t.get('search_s')}s, refit {t.get('refit_s')}s), peak RSS {rss:.2f} GB, "
          f"{t['trials']} trials ({t.get('trials_complete', 0)} complete, {t.get('trials_pruned', 0)} pruned)")
    print(f"held-out ROC AUC: automl {fit['holdout']['roc_auc']:.4f} ({fit['best']['algorithm']}, {fit['model']}) "
          f"vs default LightGBM on a 10% sample ({base['rows']:,} rows) {base['roc_auc']:.4f} "
          f"[baseline wall {base_wall:.0f}s, peak RSS {base_rss:.2f} GB]")


if __name__ == "__main__":
    main()

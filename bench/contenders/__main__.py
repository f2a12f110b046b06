"""One contender on one dataset and seed, in a process of its own: ``python -m bench.contenders JOB.json``.

The job file names the dataset, seed, budget and where to write; this process
writes the test predictions (npz) and a result JSON with scores and fit time.
The parent measures peak memory and wall time of the whole process.
"""

from __future__ import annotations

import importlib
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench import common
from bench.contenders import IMPORTS, Task, resolve


def run(job: dict) -> dict:
    spec = common.Spec(**job["spec"])
    train, test = common.split(spec, Path(job["data_dir"]), job["seed"])
    test_X, y_test = test.drop(columns=[spec.target]), test[spec.target]
    classes = common.classes_of(train[spec.target].astype(str)) if spec.task != "regression" else None
    if classes:
        classes = sorted(set(classes) | set(common.classes_of(y_test)))
    with tempfile.TemporaryDirectory(prefix=f"bench-{job['contender']}-") as workdir:
        task = Task(train, test_X, spec.target, spec.task, common.PRIMARY[spec.task], job["budget"], job["seed"],
                    workdir)
        for module in IMPORTS.get(job["contender"], []):
            importlib.import_module(module)
        start = time.perf_counter()
        out = resolve(job["contender"])(task)
        fit_s = time.perf_counter() - start
    if classes:
        pred = common.align_proba(out.pred, out.classes, classes)
        y_true = y_test.astype(str).to_numpy()
    else:
        pred, y_true = out.pred, y_test.to_numpy(dtype=float)
    common.save_preds(Path(job["preds"]), y_true, pred, classes)
    return {"status": "ok", "fit_s": round(fit_s, 2), "trials": out.trials, "n_train": len(train),
            "n_test": len(test), **common.score(spec.task, y_true, pred, classes), "extra": out.extra}


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[0]).read_text())
    try:
        result = run(job)
    except Exception as err:  # a failing tool is a row in the table, not a crashed benchmark
        result = {"status": "error", "error": f"{type(err).__name__}: {err}"[:300],
                  "traceback": traceback.format_exc()[-3000:]}
    Path(job["result"]).write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

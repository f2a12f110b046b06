"""The model registry: a name follows its champion (locate, serve, predict), keeps its history, survives
concurrent promotes, and protects the experiment it serves from deletion."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from browser import free_port, serve_health
from conftest import SAMPLES

from automl.cli import main
from automl.errors import AutoMLError
from automl.experiment import Experiment, Registry, Standing, Workspace
from automl.monitor import promote


def _copies(source: Experiment, root: Path, n: int) -> list[Experiment]:
    """``n`` completed experiments in one workspace: copies of a fitted one, each its own folder and id."""
    out = []
    for i in range(n):
        path = root / f"{i:x}{source.id[1:]}"
        shutil.copytree(source.path, path)
        out.append(Experiment(path))
    return out


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_a_promoted_challenger_is_what_the_name_means(trained_titanic, tmp_path):
    ws = Workspace(tmp_path / "ws")
    old, new = _copies(trained_titanic, ws.root, 2)
    registry = Registry(ws)
    registry.register("churn", old, by="alice")
    assert ws.locate("churn").id == old.id and registry.names() == {"churn": old.id}
    assert promote(old, new, by="bob") == "churn"  # the champion's registered name
    assert ws.locate("churn").id == new.id and registry.champion("churn") == new.id
    first, second = registry.history("churn")
    assert (first["experiment"], first["by"], second["experiment"], second["by"]) == (old.id, "alice", new.id, "bob")
    assert second["figures"] == {"metric": "roc_auc", "challenger": new.record.headline_score,
                                 "champion": old.record.headline_score}
    now = registry.standing(new.id)
    assert isinstance(now, Standing) and now.is_champion and now.name == "churn" and now.champion == new.id
    was = registry.standing(old.id)
    assert not was.is_champion and was.superseded_by == new.id and was.champion == new.id
    assert was.by == "bob" and was.at == second["at"] and was.figures == second["figures"]
    assert registry.standing("0123456789abcdef") is None
    assert old.record.superseded_by == new.id and new.record.replaces == old.id  # lineage, as before
    column = ws.summaries().set_index("id")["registry"]
    assert column[new.id] == "champion of churn" and column[old.id] == f"superseded by {new.id} (churn)"
    # The old id still predicts (as asked), saying it has been superseded and by which experiment.
    code, _, err = cli("predict", old.id, str(SAMPLES / "titanic.csv"), "-o", str(tmp_path / "p.csv"),
                       "--no-log", "--workspace", str(ws.root))
    assert code == 0 and f"superseded by {new.id}" in err
    # `automl serve churn` serves the champion.
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "automl", "serve", "churn", "--port", str(port), "--workspace",
                             str(ws.root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        health = serve_health(proc, port)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=20)
    assert health is not None and health["experiment"] == new.id


def test_promote_registers_an_unnamed_champion_and_checks_what_it_replaces(trained_titanic, tmp_path):
    ws = Workspace(tmp_path / "ws")
    a, b, c = _copies(trained_titanic, ws.root, 3)
    a.update(name="Titanic survival (v1)")
    assert promote(a, b) == "Titanic-survival-v1"  # its display name, made a registry name
    with pytest.raises(AutoMLError, match="no longer the champion"):
        promote(a, c)  # retrained from a superseded champion: would silently replace the newer one
    registry = Registry(ws)
    with pytest.raises(AutoMLError, match="already registered"):
        registry.register("Titanic-survival-v1", c)
    with pytest.raises(AutoMLError, match="already the champion"):
        registry.promote("Titanic-survival-v1", b)
    with pytest.raises(AutoMLError, match="No model is registered"):
        registry.promote("nothing", c)
    for bad in ("", "two words", "x" * 65, "-dash", "0123456789abcdef"):
        with pytest.raises(AutoMLError):
            registry.register(bad, c)
    c.update(target="Age", task="regression")
    with pytest.raises(AutoMLError, match="can't replace the champion"):
        registry.promote("Titanic-survival-v1", c)
    c.update(status="running", pid=os.getpid())
    with pytest.raises(AutoMLError, match="running without a model|can't be a champion"):
        registry.register("other", c)
    assert len(registry.history("Titanic-survival-v1")) == 2  # refusals changed nothing


def test_delete_of_a_champion_is_refused_until_another_is_promoted(trained_titanic, tmp_path):
    ws = Workspace(tmp_path / "ws")
    a, b = _copies(trained_titanic, ws.root, 2)
    code, out, err = cli("register", str(a.path), "churn", "--workspace", str(ws.root))
    assert code == 0, err
    with pytest.raises(AutoMLError, match="champion of 'churn'") as refused:
        ws.delete(a.id)
    assert "Promote another experiment" in refused.value.fix and a.has_model
    code, out, err = cli("promote", b.id, "--name", "churn", "--workspace", str(ws.root))
    assert code == 0 and f"'churn' is now experiment {b.id}" in out, err
    assert Registry(ws).history("churn")[-1]["by"].startswith("cli:")  # cli:<user>@<host>
    code, out, _ = cli("list", "--workspace", str(ws.root))
    assert "champion of churn" in out and f"superseded by {b.id} (churn)" in out
    ws.delete(a.id)  # superseded: may go; the history still names it
    assert [e["experiment"] for e in Registry(ws).history("churn")] == [a.id, b.id]
    with pytest.raises(AutoMLError, match="champion"):
        ws.delete(b.id)


def test_concurrent_promotes_lose_no_event(trained_titanic, tmp_path):
    ws = Workspace(tmp_path / "ws")
    exps = _copies(trained_titanic, ws.root, 3)
    Registry(ws).register("churn", exps[0], by="setup")
    script = textwrap.dedent(f"""
        import random, sys
        from automl.errors import AutoMLError
        from automl.experiment import Registry, Workspace
        worker, ids = int(sys.argv[1]), {[e.id for e in exps]!r}
        registry, rng, done = Registry(Workspace({str(ws.root)!r})), random.Random(int(sys.argv[1])), 0
        for attempt in range(10):
            registry.register(f"name-{{worker}}-{{attempt}}", ids[attempt % 3], by=f"w{{worker}}")
            try:
                registry.promote("churn", rng.choice(ids), by=f"w{{worker}}")
                done += 1
            except AutoMLError:  # already the champion: refused, nothing written
                pass
        print(done)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(w)], stdout=subprocess.PIPE, text=True)
             for w in range(4)]
    promoted = sum(int(p.communicate(timeout=120)[0]) for p in procs)
    assert all(p.returncode == 0 for p in procs)
    registry = Registry(ws)
    assert len(registry.names()) == 1 + 4 * 10  # every name registered by every process is there
    history = registry.history("churn")
    assert len(history) == 1 + promoted and promoted > 0  # every successful promote is an event
    assert all(a["experiment"] != b["experiment"] for a, b in zip(history, history[1:]))

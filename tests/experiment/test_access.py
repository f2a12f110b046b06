"""Who may see and change an experiment: the rules, the workspace that applies them, and the audit trail."""

from __future__ import annotations

import json
import multiprocessing

import pytest

from automl.errors import AutoMLError, ExperimentNotFound
from automl.experiment import (
    ACCESS,
    AUDIT,
    Access,
    AccessDenied,
    Viewer,
    Workspace,
    read_access,
    read_changes,
    record_change,
    share,
)

ADMINS = ("root@example.com",)
ALICE = Viewer.signed("Alice@Example.com ", ADMINS)  # spelled as a provider might: case and spaces don't matter
BOB = Viewer.signed("bob@example.com", ADMINS)
ROOT = Viewer.signed("root@example.com", ADMINS)


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace(tmp_path / "ws")


def _stopped(ws: Workspace, owner: str | None, name: str = "churn"):
    exp = ws.create(name=name, owner=owner)
    exp.update(status="completed")  # not running: it may be deleted
    return exp


def test_the_rules_owner_admin_shared_and_nobody():
    private = Access(owner="alice@example.com")
    assert private.rights(ALICE).manage and private.rights(ALICE).role == "owner"
    assert private.rights(ROOT).manage and private.rights(ROOT).role == "admin"
    assert not private.rights(BOB).see
    to_bob = private.shared(False, ["  BOB@example.com", "bob@example.com", ""], downloads=False)
    assert to_bob.emails == ("bob@example.com",)
    bob = to_bob.rights(BOB)
    assert bob.see and bob.read_only and not bob.download
    assert to_bob.shared(False, ["bob@example.com"], downloads=True).rights(BOB).download
    everyone = private.shared(True, [], downloads=False)
    assert everyone.rights(Viewer.signed("carol@other.org")).see
    assert not everyone.rights(Viewer.signed("carol@other.org")).manage
    # made before sign-in was on: no owner, the admins' until shared
    assert not Access().rights(ALICE).see and Access().rights(ROOT).manage
    # what a command made is the admins' (and its machine user's, at the shell): no account owns it by its name
    made_by_cli = Access(owner="cli:root@build-host")
    assert not made_by_cli.rights(Viewer.signed("cli:root@build-host")).see and made_by_cli.rights(ROOT).manage
    # no sign-in at all: the one user does everything
    assert Access(owner="alice@example.com").rights(Viewer.single_user()).manage


def test_an_email_that_is_not_one_is_refused():
    with pytest.raises(AutoMLError, match="not an email address"):
        Access(owner="a@x.org").shared(False, ["bob at example.com"], downloads=False)


def test_what_a_viewer_may_not_see_is_not_found_like_a_wrong_id(ws):
    exp = _stopped(ws, "alice@example.com")
    with pytest.raises(ExperimentNotFound) as hidden:
        ws.get(exp.id, BOB)
    with pytest.raises(ExperimentNotFound) as unknown:
        ws.get("0123456789abcdef", BOB)
    assert str(hidden.value).replace(exp.id, "X") == str(unknown.value).replace("0123456789abcdef", "X")
    assert ws.get(exp.id, ALICE).id == ws.get(exp.id, ROOT).id == exp.id
    assert [e.id for e in ws.list(BOB)] == [] and [e.id for e in ws.list(ALICE)] == [exp.id]
    share(exp, ALICE, everyone=False, emails=["bob@example.com"], downloads=False)
    assert ws.get(exp.id, BOB).id == exp.id
    assert ws.summaries(BOB)[["id", "owner", "access"]].values.tolist() == [
        [exp.id, "alice@example.com", "shared read-only with bob@example.com"]]


def test_only_owners_and_admins_rename_share_and_delete(ws):
    exp = _stopped(ws, "alice@example.com")
    share(exp, ALICE, everyone=True, emails=[], downloads=False)
    for change in (lambda: ws.rename(exp.id, "mine now", by=BOB), lambda: ws.delete(exp.id, by=BOB),
                   lambda: share(exp, BOB, everyone=True, emails=[], downloads=True)):
        with pytest.raises(AccessDenied, match="owner or an admin"):
            change()
    assert exp.record.name == "churn" and not read_access(exp.path).downloads
    ws.rename(exp.id, "churn v2", by=ALICE)
    ws.delete(exp.id, by=ROOT)
    assert not exp.path.exists()


def test_every_change_is_an_audit_line_and_a_deletion_is_kept_by_the_workspace(ws):
    exp = _stopped(ws, "alice@example.com")
    ws.rename(exp.id, "churn v2", by=ALICE)
    share(exp, ALICE, everyone=False, emails=["bob@example.com"], downloads=True)
    changes = read_changes(exp.path)
    assert [(c.by, c.what) for c in changes] == [("alice@example.com", "created"), ("alice@example.com", "renamed"),
                                                 ("alice@example.com", "sharing changed")]
    assert "'churn' to 'churn v2'" in changes[1].detail and "bob@example.com" in changes[2].detail
    assert changes[0].at <= changes[2].at
    ws.delete(exp.id, by=ROOT)
    deleted = read_changes(ws.root)
    assert [(c.by, c.what, c.detail) for c in deleted] == [("root@example.com", "deleted", f"experiment {exp.id}")]


def test_a_command_records_this_machines_user_as_owner(ws):
    exp = ws.create(name="from python")
    owner = read_access(exp.path).owner
    assert owner.startswith("python:") and "@" in owner
    assert json.loads((exp.path / ACCESS).read_text())["owner"] == owner


def _append_many(folder: str, who: str) -> None:
    for i in range(300):
        record_change(folder, who, "note", f"line {i} " + "x" * 200)


def test_two_processes_appending_at_once_lose_no_line(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(tmp_path), who)) for who in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    lines = (tmp_path / AUDIT).read_text().splitlines()
    assert len(lines) == 600 and all(json.loads(line)["what"] == "note" for line in lines)
    assert {c.by for c in read_changes(tmp_path)} == {"a", "b"}


def test_an_audit_line_never_recreates_a_removed_folder(tmp_path):
    gone = tmp_path / "gone"
    record_change(gone, "a", "note")
    assert not gone.exists() and read_changes(gone) == []
    (tmp_path / AUDIT).write_text('{"at": "x", "by": "a", "what": "ok"}\nnot json\n')
    assert [c.what for c in read_changes(tmp_path)] == ["ok"]

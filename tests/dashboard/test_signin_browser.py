"""Sign-in, owners and sharing end to end: the real dashboard, Streamlit's own ``st.login``, a real OpenID Connect
provider (tests/oidc_provider.py) and real Chromium, one browser context per person."""

from __future__ import annotations

import shutil

import pytest
from browser import ROOT, browser, no_exception, shot  # noqa: F401 (browser: a fixture)
from oidc_provider import OidcProvider, free_app_url, sign_in, start_streamlit_with_secrets, write_secrets

from automl.experiment import ACCESS, Access, Workspace, read_changes, write_json

pytestmark = pytest.mark.browser
ALICE, BOB, ADMIN = "alice@example.com", "bob@example.com", "root@example.com"
WAIT = 30_000


@pytest.fixture(scope="module")
def team(trained_titanic, tmp_path_factory, browser):
    """The dashboard with sign-in on, and one experiment of Alice's, private."""
    root = tmp_path_factory.mktemp("team")
    ws = root / "workspace"
    shutil.copytree(trained_titanic.path, ws / trained_titanic.id)
    exp = Workspace(ws).get(trained_titanic.id)
    exp.update(name="alice churn model")
    write_json(exp.path / ACCESS, Access(owner=ALICE).to_dict(), make_parent=False)
    provider = OidcProvider().start()
    url = free_app_url()
    secrets = write_secrets(root / "secrets.toml", provider, url, admins=[ADMIN])
    proc, url = start_streamlit_with_secrets(ROOT / "dashboard" / "app.py", ws, secrets)
    try:
        yield url, exp
    finally:
        proc.kill()
        provider.stop()


def _person(browser, url: str, email: str):
    page = browser.new_context().new_page()
    page.goto(url)
    sign_in(page, url, email)
    page.get_by_text(f"Signed in as {email}").wait_for(timeout=WAIT)
    return page


def _open(page, url: str, path: str, expect: str):
    page.goto(f"{url}/{path}")
    # visible matches only: a data grid keeps a hidden accessibility copy of its cells, sometimes first in the page
    page.get_by_text(expect).filter(visible=True).first.wait_for(timeout=WAIT)
    no_exception(page)
    return page.locator("body").inner_text()


def test_a_link_shows_only_the_sign_in_then_opens_once_signed_in(team, browser):
    url, exp = team
    page = browser.new_context().new_page()
    for path in (f"results?experiment={exp.id}", "experiments", f"monitor?experiment={exp.id}"):
        body = _open(page, url, path, "Sign in to see your experiments")
        assert exp.id not in body and "alice churn model" not in body and "Survived" not in body
        page.get_by_role("button", name="Sign in").wait_for(timeout=WAIT)
        assert page.locator('[data-testid="stButton"]').count() == 1  # the sign-in, and no widget of any page
        assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    page.goto(f"{url}/results?experiment={exp.id}")
    sign_in(page, url, ALICE)
    page.get_by_text("Held-out metrics").wait_for(timeout=WAIT)  # the link opened after the provider's round trip
    assert f"experiment={exp.id}" in page.url and "/results" in page.url
    assert "you: owner" in page.locator("body").inner_text()
    no_exception(page)


def test_private_then_shared_read_only_and_only_an_admin_deletes(team, browser):
    url, exp = team
    alice, bob = _person(browser, url, ALICE), _person(browser, url, BOB)
    # Bob: not in his list, and the link answers as a wrong id does
    assert exp.id not in _open(bob, url, "experiments", "No experiments you can see yet")
    body = _open(bob, url, f"results?experiment={exp.id}", f"There is no experiment '{exp.id}' here")
    assert "alice churn model" not in body
    # Alice shares it read-only with everyone signed in
    _open(alice, url, f"experiments?experiment={exp.id}", "Sharing")
    alice.get_by_text("Everyone signed in may see it (read-only)").click()
    alice.get_by_role("button", name="Save sharing").click()
    # the page's own line (the list's grid holds the same words in a cell that is not drawn as text)
    alice.get_by_test_id("stMarkdownContainer").get_by_text("shared read-only with everyone signed in").wait_for(
        timeout=WAIT)
    # Bob now sees it, read-only: no delete, no sharing, no threshold saving, no model files, no Monitor
    body = _open(bob, url, f"results?experiment={exp.id}", "The model files are for the owner")  # the page's end
    assert "read-only for you" in body and "owner alice@example.com" in body and "Held-out metrics" in body
    bob.get_by_text("Decision threshold", exact=True).click()
    bob.get_by_text("Only the owner or an admin can save a threshold").wait_for(timeout=WAIT)
    assert bob.get_by_role("button", name="Save this threshold into the model").count() == 0
    assert "Monitoring (the prediction log, drift and retraining) is for its owner" in _open(
        bob, url, f"monitor?experiment={exp.id}", "is for its owner")
    body = _open(bob, url, f"experiments?experiment={exp.id}", "alice churn model")
    assert "read-only for you" in body
    assert bob.get_by_role("button", name="Delete…").count() == 0 and bob.get_by_text("Save sharing").count() == 0
    shot(bob, "signin-bob-read-only")
    # the admin can delete it
    admin = _person(browser, url, ADMIN)
    _open(admin, url, f"experiments?experiment={exp.id}", "alice churn model")
    admin.get_by_role("button", name="Delete…").click()
    admin.get_by_role("dialog").get_by_role("button", name="Delete").click()
    admin.get_by_text("No experiments you can see yet").wait_for(timeout=WAIT)
    assert not exp.path.exists()
    assert [(c.by, c.what) for c in read_changes(exp.path.parent)] == [(ADMIN, "deleted")]
    _open(alice, url, f"results?experiment={exp.id}", f"There is no experiment '{exp.id}' here")


def test_an_account_outside_the_allowed_list_gets_in_nowhere(tmp_path, browser):
    provider = OidcProvider().start()
    url = free_app_url()
    secrets = write_secrets(tmp_path / "secrets.toml", provider, url, admins=[ADMIN])
    with secrets.open("a") as fh:  # the [automl] section is the file's last
        fh.write('allowed = ["@example.com"]\n')
    proc, url = start_streamlit_with_secrets(ROOT / "dashboard" / "app.py", tmp_path / "ws", secrets)
    try:
        eve = browser.new_context().new_page()
        eve.goto(f"{url}/experiments")
        sign_in(eve, url, "eve@elsewhere.org")
        eve.get_by_text("may not use this dashboard").wait_for(timeout=WAIT)
        assert eve.get_by_text("Experiments", exact=True).count() == 0  # no page, no navigation
        _person(browser, url, BOB)  # a member of the allowed domain gets in
    finally:
        proc.kill()
        provider.stop()

"""Who may see and change an experiment: its owner, the people it is shared with, and the admins.

Signing in is the dashboard's business (Streamlit's ``st.login``); this module only decides, from who asks.
Without sign-in there is one user, with every right (:meth:`Viewer.single_user`): a local dashboard, the CLI.

The owner and the sharing live in ``access.json`` beside experiment.json, not in it: the worker rewrites
experiment.json while it searches, and a share made meanwhile must not be lost in that rewrite.
"""

from __future__ import annotations

import getpass
import json
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from automl.errors import AutoMLError
from automl.experiment._audit import record_change
from automl.experiment._files import write_json
from automl.experiment._record import Decoder, Part, tuple_of

if TYPE_CHECKING:
    from automl.experiment._store import Experiment

ACCESS = "access.json"
OWNER, ADMIN, VIEWER, SINGLE_USER = "owner", "admin", "viewer", "single user"


def normal_email(email: str) -> str:
    """Emails compare without case or surrounding spaces (providers differ in how they spell them)."""
    return str(email).strip().lower()


MACHINE_KINDS = ("cli", "python", "dashboard")


def is_machine_owner(owner: str) -> bool:
    """Whether ``owner`` names a machine user (``cli:<user>@<host>``), never a signed-in person: an account whose
    address happened to read "cli:root@host" must not own what that command made."""
    return str(owner).split(":", 1)[0] in MACHINE_KINDS and ":" in str(owner)


def machine_owner(kind: str = "cli") -> str:
    """``cli:<user>@<host>``: the owner of what a command made, so the dashboard can say who made what."""
    if kind not in MACHINE_KINDS:  # an unknown kind would read as an account's address (is_machine_owner)
        raise ValueError(f"machine owner kind {kind!r} is not one of {MACHINE_KINDS}")
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container): the number still tells them apart
        user = "unknown"
    return f"{kind}:{user}@{platform.node()}"


@dataclass(frozen=True)
class Viewer:
    """Who asks. ``email`` None with ``signed_in`` False: no sign-in is configured, one user controls all."""

    email: str | None = None
    admins: frozenset[str] = frozenset()
    signed_in: bool = False

    @classmethod
    def single_user(cls) -> Viewer:
        return cls()

    @classmethod
    def signed(cls, email: str, admins: tuple[str, ...] | list[str] | frozenset[str] = ()) -> Viewer:
        return cls(normal_email(email), frozenset(normal_email(a) for a in admins), True)

    @property
    def is_admin(self) -> bool:
        return not self.signed_in or self.email in self.admins

    @property
    def label(self) -> str:
        """How changes by this viewer are recorded (audit lines, the registry's ``by``)."""
        return self.email if self.signed_in and self.email else "dashboard"


@dataclass(frozen=True)
class Rights:
    """What one viewer may do with one experiment."""

    see: bool
    manage: bool  # cancel, rename, delete, retrain, promote, threshold, share, resume, read the prediction log
    download: bool  # take the model files away (and predict with it in the page)
    role: str = ""

    @property
    def read_only(self) -> bool:
        return self.see and not self.manage


NO_RIGHTS = Rights(False, False, False)


@dataclass(frozen=True)
class Access(Part):
    """access.json: the experiment's owner and whom the owner shared it with, read-only."""

    owner: str | None = None
    everyone: bool = False  # every signed-in user may see it
    emails: tuple[str, ...] = ()  # these signed-in users may see it
    downloads: bool = False  # viewers may download the model files too
    decoders: ClassVar[dict[str, Decoder]] = {"emails": tuple_of()}

    def rights(self, viewer: Viewer) -> Rights:
        """Owners and admins do everything; a viewer it is shared with sees it, and downloads if allowed.

        An experiment without an owner (made before sign-in was turned on) is the admins' until shared.
        """
        if not viewer.signed_in:
            return Rights(True, True, True, SINGLE_USER)
        if self.owner is not None and not is_machine_owner(self.owner) and viewer.email == normal_email(self.owner):
            return Rights(True, True, True, OWNER)
        if viewer.is_admin:
            return Rights(True, True, True, ADMIN)
        if self.everyone or viewer.email in {normal_email(e) for e in self.emails}:
            return Rights(True, False, self.downloads, VIEWER)
        return NO_RIGHTS

    def shared(self, everyone: bool, emails: list[str] | tuple[str, ...], downloads: bool) -> Access:
        """This access with new sharing (the owner unchanged); emails checked and de-duplicated."""
        cleaned: list[str] = []
        for email in emails:
            email = normal_email(email)
            if not email:
                continue
            if "@" not in email or any(c.isspace() for c in email) or len(email) > 254:
                raise AutoMLError(f"'{email[:60]}' is not an email address.",
                                  "Give one email per line, like alice@example.com.")
            if email not in cleaned:
                cleaned.append(email)
        return Access(owner=self.owner, everyone=bool(everyone), emails=tuple(cleaned), downloads=bool(downloads))

    def describe(self) -> str:
        """One phrase for headers and lists: who may see it besides its owner and the admins."""
        if self.everyone:
            who = "everyone signed in"
        elif self.emails:
            who = ", ".join(self.emails[:3]) + (f" and {len(self.emails) - 3} more" if len(self.emails) > 3 else "")
        else:
            return "private"
        return f"shared read-only with {who}" + (" (model downloads allowed)" if self.downloads else "")


class AccessDenied(AutoMLError):
    """A change asked by someone who may not make it: the dashboard hides such controls, this is the guard."""

    def __init__(self, what: str) -> None:
        super().__init__(f"Only the experiment's owner or an admin can {what}.",
                         "Ask its owner, or an admin, to do it.")


def require_manage(rights: Rights, what: str) -> None:
    """Raise :class:`AccessDenied` unless ``rights`` allow managing the experiment."""
    if not rights.manage:
        raise AccessDenied(what)


def read_access(folder: Path) -> Access:
    """The access of the experiment in ``folder``; none stored (an older experiment): no owner, private."""
    try:
        return Access.from_dict(json.loads((Path(folder) / ACCESS).read_text()))
    except (OSError, ValueError, TypeError):
        return Access()


def rights_of(exp: Experiment, viewer: Viewer) -> Rights:
    return read_access(exp.path).rights(viewer)


def share(exp: Experiment, viewer: Viewer, *, everyone: bool, emails: list[str] | tuple[str, ...],
          downloads: bool) -> Access:
    """Share ``exp`` read-only (or make it private again): owners and admins only; recorded in the audit."""
    current = read_access(exp.path)
    require_manage(current.rights(viewer), "share it")
    new = current.shared(everyone, emails, downloads)
    write_json(exp._writable(ACCESS), new.to_dict(), make_parent=False)
    record_change(exp.path, viewer.label, "sharing changed", new.describe())
    return new

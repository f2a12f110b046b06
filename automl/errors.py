"""The one error type users see: a message that names the problem and the fix."""

from __future__ import annotations


class AutoMLError(Exception):
    """A problem with the user's input or request, worded for the user.

    The CLI turns it into exit code 2 and the dashboard into ``st.error``;
    anything else escaping is a bug in this project.
    """

    def __init__(self, problem: str, fix: str | None = None) -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem} Fix: {fix}" if fix else problem)


class DataError(AutoMLError):
    """The table can't be read or can't be learned from."""


class ExperimentNotFound(AutoMLError):
    """An experiment id that is not in the workspace."""

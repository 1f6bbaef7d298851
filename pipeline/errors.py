"""Named errors a user can act on, each carrying its whole Chinese message.

The library raises these; the command line turns every one of them into one
clear line and an exit status (see ``pipeline.cli``), never a traceback.
"""
from __future__ import annotations


class CrmError(Exception):
    """An error whose message says, in Chinese, what happened and what to do."""

    exit_code = 1


class ConfigError(CrmError):
    """A crm.toml value is missing, of the wrong type, out of range or unknown."""


class PeriodError(CrmError, ValueError):
    """A text that is not a month, quarter, half year or year."""

    exit_code = 2


class WorkspaceError(CrmError):
    """The workspace is missing, busy or cannot be written."""


class WrongWorkbook(CrmError):
    """A workbook given to a command is not the one it expects (no such sheet, not .xlsx)."""


class ReportError(CrmError):
    """A report cannot be made (a period in the future, no data, a missing input)."""


class ArchiveError(CrmError):
    """The archive file is damaged, missing while files were archived, or cannot be written."""


class MailError(CrmError):
    """Mail cannot be built or sent as configured (no recipients, no server, refused login)."""

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


def file_in_use(exc: OSError) -> str:
    """The Chinese line for a file the system would not let us open, write or move (``exc``): on Windows, most
    often one open in Excel or WPS, which locks it."""
    import errno
    name = exc.filename or "（未知文件）"
    if isinstance(exc, PermissionError):
        return (f"无法写入或移动文件 {name}：它可能正在 Excel 或 WPS 中打开（打开的文件不能被覆盖或移动），"
                "或没有权限。请关闭该文件后重新运行。")
    why = {errno.ENOENT: "文件或文件夹不存在", errno.ENOSPC: "磁盘空间不足", errno.EROFS: "磁盘是只读的",
           errno.ENAMETOOLONG: "路径太长", errno.EISDIR: "那里是一个同名的文件夹"}.get(
        exc.errno, exc.strerror or type(exc).__name__)
    return f"无法打开或写入文件 {name}（{why}）。请处理后重新运行。"


def os_error_of(exc: BaseException) -> OSError | None:
    """The file system's error behind ``exc``: itself, or the one xlsxwriter wraps in its FileCreateError when it
    cannot write a workbook (a file open in Excel)."""
    if isinstance(exc, OSError):
        return exc
    if type(exc).__name__ == "FileCreateError" and exc.args and isinstance(exc.args[0], OSError):
        return exc.args[0]
    return None

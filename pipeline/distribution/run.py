"""One distribution: every message a period calls for, written to the outbox and (with ``send``) sent.

Who gets what:
- 领导: the brief (HTML with a plain-text alternative) and the group workbooks;
- 市场营销部: the same and everything else the period produced, plus the send list;
- 分子公司: its own edition only, its assessment notice, and the feedback on its rejected files.
  A branch whose archive access is suspended gets its ranking and notices but not its
  customer detail, and the mail says until when.

Attachments are the workbooks already written; a missing one is never made here: the
message is held back and the run says which command makes it. Each (period, kind, item,
recipient) is sent once (the mail ledger in the archive); ``resend`` names who gets theirs again.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from schemas.labels import (BRANCH_ROLE, DEPARTMENT, MAIL_ALREADY_SENT, MAIL_DRAFT, MAIL_FAILED, MAIL_KINDS,
                            MAIL_SENT, MAIL_SKIPPED, MAIL_TOO_LARGE, SEND_LIST)

from ..archive.access import standings
from ..archive.store import Archive
from ..archive.tracking import deadline
from ..archive.workspace import Workspace
from ..config import Config
from ..errors import MailError
from ..filenames import safe_name
from ..periods import Period, add_months
from ..reports import names
from .content import (Figures, assessment_notice, branch_monthly, branch_report, feedback_notice,
                      leadership_brief)
from .document import Document, render_html, render_text
from .message import build_message, message_bytes
from .settings import MailSettings, Recipient, mail_settings, recipients

KINDS_OF = {"month": ("monthly", "feedback"), "quarter": ("quarterly",), "half": ("halfyear", "assessment"),
            "year": ("annual",)}
REPORT_KIND = {"month": "monthly", "quarter": "quarterly", "half": "halfyear", "year": "annual"}
PREFIX = "【客户档案】"


@dataclass
class Mail:
    recipient: Recipient
    kind: str
    subject: str
    doc: Document | None
    attachments: list[Path]
    item: str = ""
    status: str = MAIL_DRAFT
    reason: str = ""         # why it was not sent, or the server's answer
    note: str = ""           # what the recipient gets less of (no customer detail while suspended)
    size: int = 0
    eml: Path | None = None
    message_id: str = ""
    missing: bool = False    # held back because a workbook is missing (the run is not complete)
    shown_names: dict[Path, str] = field(default_factory=dict)   # an attachment's name in the mail, if not its own

    def shown(self, path: Path) -> str:
        return self.shown_names.get(path, path.name)

    @property
    def failed(self) -> bool:
        return self.status in (MAIL_FAILED, MAIL_TOO_LARGE) or (self.status == MAIL_SKIPPED and self.missing)

    def row(self) -> dict:
        r = self.recipient
        return {"recipient": r.name, "address": r.address, "role": r.role, "branch": r.branch,
                "mail_kind": MAIL_KINDS[self.kind], "subject": self.subject,
                "attachments": "；".join(self.shown(p) for p in self.attachments),
                "size_kib": round(self.size / 1024) if self.size else None, "mail_state": self.status,
                "mail_reason": "；".join(t for t in (self.note, self.reason) if t),
                "eml_file": self.eml.name if self.eml else None}

    @property
    def file_name(self) -> str:
        """Its .eml name in the outbox: the same on every run, so a sent mail's file stays."""
        item = f"_{self.item}" if self.item else ""
        return f"{MAIL_KINDS[self.kind]}_{safe_name(self.recipient.name, 80)}{item}.eml"


@dataclass
class Distribution:
    period: str
    mails: list[Mail]
    notes: list[str] = field(default_factory=list)
    brief: Path | None = None
    outbox: Path | None = None
    send_list: Path | None = None
    sent_now: bool = False

    @property
    def failed(self) -> list[Mail]:
        return [m for m in self.mails if m.failed]

    def count(self, status: str) -> int:
        return sum(m.status == status for m in self.mails)


# -- what the period calls for ---------------------------------------------------------------------

class _Planner:
    def __init__(self, ws: Workspace, archive: Archive, config: Config, period: Period, on: dt.date,
                 settings: MailSettings):
        self.ws, self.archive, self.config, self.period, self.on = ws, archive, config, period, on
        self.settings = settings
        self.text = str(period)
        self.out = ws.output
        self.notes: list[str] = []
        self.sender = settings.sender_name or DEPARTMENT

    # the workbooks ------------------------------------------------------------------------------

    def group_file(self) -> tuple[Path, str]:
        if self.period.kind == "month":
            return (names.monthly_summary(self.out, self.text),
                    f"crm monthly --period {self.text}（收件箱为空时只生成月度汇总）")
        return names.period_report(self.out, self.text), f"crm report --period {self.text} --editions"

    def extra_files(self) -> list[Path]:
        """Other group workbooks of the period for the department (not those of the assessment mail)."""
        folder = self.out / self.text
        group, _ = self.group_file()
        skip = {group.name}
        if self.period.kind == "half":
            skip |= {names.assessment_workbook(self.out, self.text).name, names.bulletin(self.out, self.text).name}
        files = sorted(p for p in folder.glob("*.xlsx") if p.name not in skip and not p.name.startswith("~$"))
        if self.period.kind == "year" and names.strategic_list(self.out, self.period.year).exists():
            files = [p for p in files if p != names.strategic_list(self.out, self.period.year)]
        return files

    def leader_files(self) -> list[Path]:
        group, _ = self.group_file()
        files = [group]
        strategic = names.strategic_list(self.out, self.period.year)
        if self.period.kind == "year" and strategic.exists():
            files.append(strategic)
        return files

    # the messages -------------------------------------------------------------------------------

    @functools.cached_property
    def assessed_at(self) -> dt.datetime | None:
        """When the assessment of a half in the period was last recorded (half and year periods)."""
        if self.period.kind not in ("half", "year"):
            return None
        times = [t for half in self.period.halves for t in self.archive.assessments(str(half))["decided_at"]]
        return dt.datetime.fromisoformat(max(times)) if times else None

    def _before_assessment(self, path: Path) -> bool:
        """A period report (or edition) written before the period's assessment was recorded: it shows proposals."""
        group = names.period_report(self.out, self.text)
        report = path == group or path.parent == group.parent / names.EDITIONS_FOLDER
        return (self.assessed_at is not None and report
                and dt.datetime.fromtimestamp(path.stat().st_mtime) < self.assessed_at)

    def held(self, mail: Mail, files: list[Path], command: str) -> Mail:
        """Hold a mail back when a workbook it must carry is missing, or was written before the assessment it shows
        was recorded, saying which command makes it."""
        missing = [p for p in files if not p.exists()]
        stale = [p for p in files if p.exists() and self._before_assessment(p)]

        def shown(paths: list[Path]) -> str:
            return "、".join(str(p.relative_to(self.ws.root)) for p in paths)

        if missing:
            mail.status, mail.missing = MAIL_SKIPPED, True
            mail.reason = f"缺少 {shown(missing)}：请先运行 {command}"
        elif stale:
            mail.status, mail.missing = MAIL_SKIPPED, True
            mail.reason = (f"{shown(stale)} 生成于考核结果记录（{self.assessed_at:%Y-%m-%d %H:%M}）之前，其中的考核仍是"
                           f"建议结果：请先运行 {command}")
        return mail

    def report_mails(self, r: Recipient, fig: Figures) -> list[Mail]:
        kind = REPORT_KIND[self.period.kind]
        group, command = self.group_file()
        monthly = self.period.kind == "month"
        if r.role == BRANCH_ROLE:
            standing = fig.standings.get(r.branch)
            if monthly:
                rejected = [s["file_name"] for s in self.rejected if s["branch"] == r.branch]
                # next month's pre-filled workbook, when it was written (crm template --all)
                nxt = names.prefilled(self.out, add_months(self.text, 1), r.branch)
                withheld = standing is not None and not standing.allowed
                files = [nxt] if nxt.exists() and not withheld else []
                doc = branch_monthly(fig, r.branch, standing, rejected, self.sender, [p.name for p in files],
                                     withheld=nxt.exists() and withheld)
                mail = Mail(r, kind, f"{PREFIX}{self.period.title}报送情况（{r.branch}）", doc, files)
                if nxt.exists() and withheld:
                    mail.note = f"不能查询档案，未附下月预填表（{standing.reason()}）"
                return [mail]
            edition = names.period_report(self.out, self.text, r.branch)
            withheld = standing is not None and not standing.allowed
            files = [] if withheld else [edition]
            doc = branch_report(fig, r.branch, [p.name for p in files], standing, self.sender)
            mail = Mail(r, kind, f"{PREFIX}{self.period.title}客户分级报告（{r.branch}版）", doc, files)
            if withheld:
                mail.note = f"不能查询档案，未附本单位客户明细（{standing.reason()}）"
            return [self.held(mail, files, command)]
        files = self.leader_files() + (self.extra_files() if r.role == DEPARTMENT else [])
        title = "客户工作简报" if monthly else "客户分级报告与工作简报"
        mail = Mail(r, kind, f"{PREFIX}{self.period.title}{title}", None, files)
        self.held(mail, files, command)
        return [mail]

    def assessment_mails(self, r: Recipient, fig: Figures) -> list[Mail]:
        results = fig.official
        title = f"【考核通报】{self.period.title}分子公司客户关系维护成效考核"
        if results is None or results.empty:
            sheet = names.assessment_workbook(self.out, self.text).relative_to(self.ws.root)
            return [Mail(r, "assessment", title, None, [], status=MAIL_SKIPPED,
                         reason=f"{self.text} 的考核结果尚未确定（output 中的考核通报是建议稿）：在 {sheet} 中核定"
                                f"“最终结果”后运行 crm assess apply {sheet} --notified 通报日期，再分发")]
        bulletin = names.bulletin(self.out, self.text)
        files = [bulletin] + ([names.assessment_workbook(self.out, self.text)] if r.role == DEPARTMENT else [])
        branch = r.branch if r.role == BRANCH_ROLE else None
        doc = assessment_notice(fig, self.text, results, branch, [p.name for p in files], self.sender)
        mail = Mail(r, "assessment", title + (f"（{branch}）" if branch else ""), doc, files)
        return [self.held(mail, files, f"crm assess --period {self.text}")]

    @functools.cached_property
    def submissions(self) -> pd.DataFrame:
        """The period's submissions, read once for every recipient's mails."""
        return self.archive.submissions(self.text)

    @functools.cached_property
    def rejected(self) -> list[dict]:
        """The month's returned files, and those of no month received in it (a branch whose file showed no month
        still hears why it was returned), each content once: the same bytes sent again (and returned again) are the
        first one's feedback, sent once."""
        subs = self.submissions
        parts = [subs[subs["status"] == "rejected"]]
        if self.period.kind == "month":
            parts.append(self.archive.returned_without_month(self.text))
        rows = pd.concat(parts)
        rows = rows.sort_values(["received_at", "id"], kind="stable")
        rows["last_received"] = rows.groupby(["branch", "sha256"])["received_at"].transform("max")  # its last copy's
        return rows.drop_duplicates(["branch", "sha256"], keep="first").to_dict("records")

    def feedback_mails(self, r: Recipient) -> list[Mail]:
        subs = self.submissions
        accepted = subs[subs["status"] == "accepted"]
        due = deadline(self.text, self.config)
        out = []
        for sub in self.rejected:
            if r.role == BRANCH_ROLE and sub["branch"] != r.branch:
                continue
            if sub["branch"] not in self.config.branches:
                continue
            stored = self.ws.root / (sub["stored_path"] or "")
            feedback = stored.with_name(f"{stored.stem}_校验结果.xlsx")
            mine = accepted[accepted["branch"] == sub["branch"]]
            if (pd.to_datetime(mine["received_at"]) > pd.Timestamp(sub["last_received"])).any():
                continue  # corrected since: a file it sent later was accepted, there is nothing left to fix
            replaced = mine.iloc[-1]["file_name"] if len(mine) else None
            shown = f"{Path(sub['file_name']).stem}_校验结果.xlsx"  # as the branch named its file
            doc = feedback_notice(sub, replaced, due, self.on, [shown], self.sender, self.text)
            mail = Mail(r, "feedback", f"【退回】{sub['branch']} {self.text} 报送文件未通过校验，请改正后重报："
                                       f"{sub['file_name']}", doc, [feedback], item=str(sub["id"]),
                        shown_names={feedback: shown})
            if not feedback.exists():
                mail.status, mail.missing = MAIL_SKIPPED, True
                folder = stored.parent.relative_to(self.ws.root)
                mail.reason = (f"退回文件的反馈工作簿不存在（{feedback.relative_to(self.ws.root)}）：可在工作目录中运行 "
                               f"crm validate \"{folder / stored.name}\" --feedback-dir \"{folder}\" 重新生成")
            out.append(mail)
        return out


def _figures(archive: Archive, config: Config, period: Period, on: dt.date) -> Figures:
    from ..reports.period import gather
    data = gather(archive, config, str(period), today=on)
    monthly = None
    if period.kind == "month":
        from ..reports.monthly import monthly_summary
        monthly = monthly_summary(archive, config, str(period))
    official, summaries = None, {}
    if period.kind == "half":
        recorded = archive.assessments(str(period))
        official = recorded if len(recorded) else None
        docs = archive.documents(str(period))
        docs = docs[(docs["kind"] == "work_summary") & (docs["status"] == "accepted")
                    & (docs["received_at"].dt.date <= on)].sort_values("received_at", ascending=False)
        summaries = dict(zip(docs["branch"], docs["received_at"]))  # (the first of several)
    return Figures(period, data, on, {s.branch: s for s in standings(archive, config, on)}, monthly, official,
                   summaries)


# -- the run -------------------------------------------------------------------------------------------

def distribute(ws: Workspace, archive: Archive, config: Config, period_text: str, *, on: dt.date | None = None,
               send: bool = False, resend: tuple[str, ...] = (), echo=None) -> Distribution:
    """Build (and with ``send``, deliver) every message of the period; returns what became of each."""
    period = Period.parse(period_text)
    on = on or dt.date.today()
    settings = mail_settings(config)
    people = recipients(config)
    if not people:
        raise MailError(f"{config.where} 中没有配置收件人。请按 README“邮件分发”一节在 crm.toml 中为每位收件人写一节 "
                        "[[mail.recipients]]（name、address、role，分子公司另写 branch）。")
    if send:
        settings.require_server(config.where)
    for name in resend:
        if not any(r.matches(name) for r in people):
            raise MailError(f"--resend “{name}”不是已配置的收件人（可写姓名、邮箱地址或单位名称）："
                            f"{'、'.join(r.name for r in people)}")
    planner = _Planner(ws, archive, config, period, on, settings)
    group, command = planner.group_file()
    notes = planner.notes
    due = deadline(period.end, config).date()
    if on < due:
        notes.append(f"分发日期 {on:%Y-%m-%d} 早于本期最后一个月的报送截止日（{due:%Y-%m-%d}）：有的单位可能还没有报送，"
                     "报表和邮件按目前的档案写成。")
    if group.exists():
        latest = archive.last_ingested(through=period.end)
        made = dt.datetime.fromtimestamp(group.stat().st_mtime)
        if latest and pd.Timestamp(latest) > pd.Timestamp(made):
            text = (f"{group.name} 生成（{made:%m-%d %H:%M}）之后，档案又导入了本期的报送（{latest[:16]}），"
                    f"附件与邮件正文的数字可能不一致。请先运行 {command}")
            if send:
                raise MailError(text + "，再发送。")
            notes.append(text + "。")
    fig = _figures(archive, config, period, on)
    mails: list[Mail] = []
    for r in people:
        for kind in KINDS_OF[period.kind]:
            if kind not in r.kinds:
                continue
            if kind == "feedback":
                mails += planner.feedback_mails(r)
            elif kind == "assessment":
                mails += planner.assessment_mails(r, fig)
            else:
                mails += planner.report_mails(r, fig)
    if not settings.sender:
        notes.append(f"{config.where} 的 [mail] 没有填写发件人 from：演练的邮件中发件人显示为 crm@localhost，"
                     "发送前请填写。")
    covered = {r.branch for r in people if r.role == BRANCH_ROLE}
    lacking = [b for b in config.branches if b not in covered]
    if lacking:
        notes.append(f"以下单位没有配置收件人，不会收到邮件：{'、'.join(lacking)}。")
    strays = [s["file_name"] for s in planner.rejected if s["branch"] not in config.branches]
    if strays:
        notes.append(f"{len(strays)} 个退回文件的报送单位不在花名册中，无人可收反馈：{'、'.join(strays)}。")
    sent = archive.mail_sent(str(period))
    for mail in mails:
        key = (mail.kind, mail.item, mail.recipient.address.lower())
        if key in sent and mail.status == MAIL_DRAFT and not any(mail.recipient.matches(n) for n in resend):
            mail.status, mail.reason = MAIL_ALREADY_SENT, f"已于 {sent[key][:16]} 发送（重发请加 --resend 收件人）"
    brief_doc = leadership_brief(fig, [p.name for p in planner.leader_files()], planner.sender)
    for mail in mails:
        if mail.doc is None and mail.status in (MAIL_DRAFT, MAIL_ALREADY_SENT):
            mail.doc = leadership_brief(fig, [p.name for p in mail.attachments] + (
                [f"{SEND_LIST}.xlsx"] if mail.recipient.role == DEPARTMENT else []), planner.sender)
        if mail.status == MAIL_DRAFT and (mail.doc is None or mail.doc.empty) and not mail.attachments:
            mail.status, mail.reason = MAIL_SKIPPED, "没有可发送的内容"
    result = Distribution(str(period), mails, notes, sent_now=send)
    result.brief = names.brief(ws.output, str(period))
    result.brief.parent.mkdir(parents=True, exist_ok=True)
    result.brief.write_text(render_html(brief_doc), encoding="utf-8")
    _deliver(result, ws, archive, settings, send, echo)
    return result


def _clear_outbox(outbox: Path, mails: list[Mail]) -> None:
    """Remove the drafts of earlier runs; the files of mails already sent stay."""
    outbox.mkdir(parents=True, exist_ok=True)
    keep = {m.file_name for m in mails if m.status == MAIL_ALREADY_SENT}
    for old in outbox.glob("*.eml"):
        if old.name not in keep:
            old.unlink()
    for mail in mails:
        if mail.file_name in keep and (outbox / mail.file_name).exists():
            mail.eml = outbox / mail.file_name


def _deliver(result: Distribution, ws: Workspace, archive: Archive, settings: MailSettings, send: bool,
             echo) -> None:
    from ..reports.send_list import write_send_list
    outbox = names.outbox(ws.output, result.period)
    _clear_outbox(outbox, result.mails)
    result.outbox = outbox
    result.send_list = outbox / f"{SEND_LIST}.xlsx"
    period = Period.parse(result.period)
    postman = None
    if send:
        from .send import Postman
        postman = Postman(settings)
    # The department's mails go last: they carry the send list with what became of the others.
    ordered = sorted(enumerate(result.mails), key=lambda im: (im[1].recipient.role == DEPARTMENT, im[0]))
    def send_list(note: str, current: Mail | None = None) -> Path:
        title = f"{period.title}邮件{SEND_LIST}"
        rows = [m.row() for m in result.mails]
        if current is not None:  # the department's own mail carries this list
            rows[result.mails.index(current)]["mail_state"] = "（本邮件）"
        return write_send_list(rows, title, note, result.send_list)

    told = False  # a server that cannot be reached is reported once, not for every mail
    try:
        for _, mail in ordered:
            if mail.status != MAIL_DRAFT:
                continue
            attachments = list(mail.attachments)
            if mail.recipient.role == DEPARTMENT:
                send_list("随邮件发给市场营销部的清单：其后的邮件当时尚未发送，最终结果见 outbox 中的同名文件。", mail)
                attachments.append(result.send_list)
            _one(mail, attachments, outbox, settings, result.period, postman, archive)
            unreachable = bool(postman is not None and postman.unreachable)
            if echo and send and not (unreachable and told):
                echo(f"  {mail.status}：{mail.recipient.shown} {mail.subject}" + (f"（{mail.reason}）" if mail.failed
                                                                                 else ""))
            told = told or unreachable
    finally:
        if postman is not None:
            postman.close()
        note = ("已发送（发送结果见“发送状态”列）。" if send else "演练：邮件已写成 .eml 文件，未发送；确认无误后加 --send 发送。")
        send_list(f"{note}生成于 {dt.datetime.now():%Y-%m-%d %H:%M}。")


def _one(mail: Mail, attachments: list[Path], outbox: Path, settings: MailSettings, period: str,
         postman, archive: Archive) -> None:
    """Build one message, write its .eml, and send it when a postman is given."""
    try:
        files = [(mail.shown(p), p.read_bytes()) for p in attachments]
    except OSError as exc:
        mail.status, mail.missing = MAIL_SKIPPED, True
        mail.reason = f"无法读取附件：{exc.strerror or exc}"
        return
    html = render_html(mail.doc)
    msg = build_message(settings, mail.recipient, mail.subject, render_text(mail.doc), html, files,
                        period=period, kind=mail.kind)
    data = message_bytes(msg)
    mail.size, mail.message_id = len(data), msg["Message-ID"]
    mail.attachments = attachments
    if mail.size > settings.max_bytes:
        mail.status = MAIL_TOO_LARGE
        mail.reason = (f"邮件 {mail.size / 1048576:.2f} MB，超过上限 {settings.max_bytes / 1048576:.2f} MB"
                       "（crm.toml [mail] max_message_mib）：可提高上限，或把较大的附件另行发送")
        return
    mail.eml = outbox / mail.file_name
    mail.eml.write_bytes(data)
    if postman is None:
        return
    entry = {"period": period, "kind": mail.kind, "item": mail.item, "address": mail.recipient.address,
             "recipient": mail.recipient.name, "subject": mail.subject, "message_id": mail.message_id,
             "size": mail.size}
    try:
        answer = postman.send(msg)
    except MailError as exc:
        mail.status, mail.reason = MAIL_FAILED, str(exc)
        archive.record_mail({**entry, "status": "failed", "response": mail.reason})
        return
    mail.status, mail.reason = MAIL_SENT, answer
    archive.record_mail({**entry, "status": "sent", "response": answer})

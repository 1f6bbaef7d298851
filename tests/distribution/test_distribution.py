"""Distribution against a real SMTP server on loopback (aiosmtpd), with STARTTLS, implicit TLS and AUTH.

Every delivered message is parsed back: recipients, decoded Chinese subjects and attachment
names, attachments opened with openpyxl, and no branch message carries another branch's
customer names, credit codes or contact phones.
"""
from __future__ import annotations

import email
import email.policy
import io
import re
import shutil
import socket
import ssl
import threading
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from builders import crm
from pipeline.archive import Archive
from pipeline.archive.access import branch_secrets
from schemas.labels import MAIL_ALREADY_SENT, MAIL_FAILED, MAIL_TOO_LARGE

BRANCHES = ["华东分公司", "华南分公司", "华北分公司", "华中分公司", "西南分公司", "西北分公司", "东北分公司", "基础设施分公司"]
PASSWORD = "S3cret-口令-9f8e7d"
USER = "crm@jt.example.com"


def address(branch: str) -> str:
    return f"b{BRANCHES.index(branch)}@fgs.example.com"


RECIPIENTS = "\n".join(
    ['[[mail.recipients]]\nname = "集团公司分管领导"\naddress = "leader@jt.example.com"\nrole = "领导"\n',
     '[[mail.recipients]]\nname = "市场营销部"\naddress = "market@jt.example.com"\nrole = "营销部"\n']
    + [f'[[mail.recipients]]\nname = "{b}经营部"\naddress = "{address(b)}"\nrole = "分子公司"\nbranch = "{b}"\n'
       for b in BRANCHES])


@pytest.fixture(scope="module")
def prepared(sample_year, tmp_path_factory):
    """The sample year with the reports a distribution needs: Q3 and H1 with editions, H1 assessed and applied,
    the October summary."""
    root = tmp_path_factory.mktemp("dist") / "ws"
    shutil.copytree(sample_year.root, root)
    sheet = root / "output" / "2026-H1" / "客户关系维护成效考核_2026-H1.xlsx"
    steps = [("report", "--period", "2026-Q3", "--editions"), ("assess", "--period", "2026-H1"),
             ("assess", "apply", sheet, "--notified", "2026-07-05"),  # the half's report shows the official results
             ("report", "--period", "2026-H1", "--editions"), ("monthly", "--period", "2026-10")]
    for step in steps:
        result = crm(root, *step)
        assert result.exit_code == 0, (step, result.output)
    return root


def workspace(prepared, tmp_path, mail: str = "") -> Path:
    """A copy of the prepared workspace with the recipients and the given [mail] settings."""
    root = tmp_path / "ws"
    shutil.copytree(prepared, root)
    (root / "crm.toml").write_text(f"[mail]\n{mail}\n\n" + RECIPIENTS, encoding="utf-8")
    return root


# -- a real SMTP server on loopback ----------------------------------------------------------------

def free_port() -> int:
    # aiosmtpd 1.4.6's Controller(port=0) fails: bind a socket to find a free port first.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """Collects what the server accepted; can refuse addresses and drop the connection after N messages."""

    def __init__(self):
        self.messages: list[tuple[list[str], bytes]] = []
        self.refuse: set[str] = set()
        self.drop_after: int | None = None
        self.logins: list[tuple[bytes, bytes]] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.drop_after is not None and len(self.messages) >= self.drop_after:
                server.transport.close()  # the connection drops in the middle of the message
                return "421 closing"
            self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            self.logins.append((auth_data.login, auth_data.password))
            if auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode():
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def parsed(self):
        return [(rcpt, email.message_from_bytes(data, policy=email.policy.default)) for rcpt, data in self.messages]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    import trustme
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    folder = tmp_path_factory.mktemp("tls")
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server)
    return folder / "ca.pem", server


def serve(**options) -> tuple[Inbox, int, Controller]:
    """A started aiosmtpd server on a free port of localhost that requires AUTH."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="localhost", port=port, auth_required=True,
                            authenticator=inbox.authenticate, **options)
    controller.start()
    return inbox, port, controller


@pytest.fixture
def smtp_server(certificate):
    """STARTTLS required, AUTH required (only over TLS), on a free port of localhost."""
    ca_file, context = certificate
    inbox, port, controller = serve(tls_context=context, require_starttls=True)
    settings = (f'host = "localhost"\nport = {port}\nsecurity = "starttls"\nusername = "{USER}"\n'
                f'from = "{USER}"\nca_file = "{ca_file.as_posix()}"')
    yield inbox, settings, controller
    controller.stop()


def attachments(msg) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in msg.iter_attachments()}


def cells(data: bytes) -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    out = [str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    book.close()
    return out


# -- dry run -------------------------------------------------------------------------------------------

def test_a_dry_run_writes_the_outbox_the_brief_and_the_send_list(prepared, tmp_path):
    ws = workspace(prepared, tmp_path)
    result = crm(ws, "distribute", "--period", "2026-10", "--date", "2026-10-27")
    assert result.exit_code == 0, result.output
    outbox = ws / "output" / "2026-10" / "outbox"
    emls = sorted(outbox.glob("*.eml"))
    messages = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in emls]
    subjects = [m["Subject"] for m in messages]
    # the department's brief, each branch's monthly status, the designed rejected October supplement sent back
    assert len(messages) == 1 + len(BRANCHES) + 1, subjects
    feedback = [m for m in messages if m["Subject"].startswith("【退回】")]
    assert len(feedback) == 1 and address("华中分公司") in feedback[0]["To"]
    names = list(attachments(feedback[0]))
    assert names == ["华中分公司_2026-10_客户信息统计表_补充_校验结果.xlsx"]  # as the branch named its file
    body = feedback[0].get_body(("plain",)).get_content()
    assert "电子邮箱" in body and "首次合作年份" in body and "改正" in body
    raw = (outbox / emls[[m is feedback[0] for m in messages].index(True)].name).read_text("ascii")
    assert "filename*" in raw  # RFC 2231
    assert "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" in raw
    book = cells(attachments(feedback[0])[names[0]])
    assert any("电子邮箱" in c for c in book)
    # an overdue complaint is said to be days late, not thousands of hours
    overdue = [m.get_body(("plain",)).get_content() for m in messages]
    overdue = [body.split("超时未结投诉】", 1)[1].split("【", 1)[0] for body in overdue if "超时未结投诉】" in body]
    assert overdue and all(re.search(r"\s\d+ 天\s", table) for table in overdue), overdue
    # the send list has a row per message and says it was a dry run
    rows = cells((outbox / "发送清单.xlsx").read_bytes())
    assert sum(r == "待发送（演练）" for r in rows) == len(messages)
    brief = (ws / "output" / "2026-10" / "简报.html").read_text(encoding="utf-8")
    assert "<table" in brief and "报送情况" in brief and "<img" not in brief and "<script" not in brief
    assert "没有发出" in result.output and Archive(ws / "archive.sqlite").mail_log().empty
    assert "截止日" not in result.output  # sent after the deadline: nothing to say
    early = crm(ws, "distribute", "--period", "2026-10", "--date", "2026-10-20")
    assert "分发日期 2026-10-20 早于本期最后一个月的报送截止日（2026-10-25）" in early.output


def test_the_same_returned_file_sent_again_is_fed_back_once(prepared, tmp_path):
    ws = workspace(prepared, tmp_path)
    [returned] = [p for p in (ws / "rejected" / "2026-10").glob("华中分公司*.xlsx") if "校验结果" not in p.name]
    shutil.copy2(returned, ws / "inbox" / "华中分公司_2026-10_客户信息统计表_补充.xlsx")  # the branch sends it again
    assert "已退回" in crm(ws, "ingest", "--received-at", "2026-10-26T09:00").output
    assert crm(ws, "distribute", "--period", "2026-10", "--date", "2026-10-27").exit_code == 0
    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
             for p in (ws / "output" / "2026-10" / "outbox").glob("*.eml")]
    assert len([m for m in mails if m["Subject"].startswith("【退回】")]) == 1


def test_a_returned_file_that_shows_no_month_is_fed_back_in_the_month_it_arrived(prepared, tmp_path):
    ws = workspace(prepared, tmp_path)
    (ws / "inbox" / "华北分公司 十月 报表.xlsx").write_text("客户名单见附件", encoding="utf-8")  # a renamed text file
    assert "已退回" in crm(ws, "ingest", "--received-at", "2026-10-26T10:00").output  # after its accepted file
    assert crm(ws, "distribute", "--period", "2026-10", "--date", "2026-10-27").exit_code == 0
    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
             for p in (ws / "output" / "2026-10" / "outbox").glob("*.eml")]
    [returned] = [m for m in mails if m["Subject"].startswith("【退回】") and address("华北分公司") in m["To"]]
    body = returned.get_body(("plain",)).get_content()
    assert "看不出是哪个月" in body and "华北分公司_2026-10_客户信息统计表.xlsx" in body
    assert list(attachments(returned)) == ["华北分公司 十月 报表_校验结果.xlsx"]
    [status] = [m for m in mails if m["Subject"].startswith("【客户档案】") and address("华北分公司") in m["To"]]
    assert "华北分公司 十月 报表.xlsx" in status.get_body(("plain",)).get_content()
    # a month later it is not fed back again
    (tmp_path / "空收件箱").mkdir()
    assert crm(ws, "monthly", "--period", "2026-11", "--inbox", str(tmp_path / "空收件箱")).exit_code == 0
    result = crm(ws, "distribute", "--period", "2026-11", "--date", "2026-11-27")
    assert result.exit_code == 0, result.output
    later = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
             for p in (ws / "output" / "2026-11" / "outbox").glob("*.eml")]
    assert not [m for m in later if m["Subject"].startswith("【退回】") and address("华北分公司") in m["To"]]


def test_a_returned_file_corrected_since_is_not_fed_back(prepared, tmp_path):
    """华北's file is returned on the 26th and its corrected file accepted on the 27th: no mail asks it to correct
    the first any more."""
    ws = workspace(prepared, tmp_path)
    (ws / "inbox" / "华北分公司_2026-10_客户信息统计表.xlsx").write_text("客户名单见附件", encoding="utf-8")
    assert "已退回" in crm(ws, "ingest", "--received-at", "2026-10-26T09:00").output
    [accepted] = (ws / "received" / "2026-10" / "华北分公司").glob("*.xlsx")
    again = ws / "inbox" / "华北分公司_2026-10_客户信息统计表（改正）.xlsx"
    shutil.copy(accepted, again)
    with zipfile.ZipFile(again, "a") as book:  # the same rows in another file
        book.comment = b"saved again"
    assert "已归档" in crm(ws, "ingest", "--received-at", "2026-10-27T09:00").output
    assert crm(ws, "distribute", "--period", "2026-10", "--date", "2026-10-28").exit_code == 0
    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
             for p in (ws / "output" / "2026-10" / "outbox").glob("*.eml")]
    assert not [m for m in mails if m["Subject"].startswith("【退回】") and address("华北分公司") in m["To"]]
    # (a file returned after the accepted one still is: test_the_same_returned_file_sent_again_is_fed_back_once)


def test_a_returned_file_with_a_long_name_is_fed_back_with_its_workbook(prepared, tmp_path):
    """A long name is shortened when the file is filed, and its feedback keeps the filed copy's hash (the feedback
    of a name over some 45 characters was cut before the hash, and the mail then found no workbook to send)."""
    ws = workspace(prepared, tmp_path)
    name = "华北分公司_2026-10_客户信息统计表_" + "the_long_named_version_" * 6 + "000001.xlsx"
    (ws / "inbox" / name).write_text("客户名单见附件", encoding="utf-8")  # not a workbook: returned
    assert "已退回" in crm(ws, "ingest", "--received-at", "2026-10-26T10:00").output  # after its accepted file
    [filed] = [p for p in (ws / "rejected" / "2026-10").glob("华北分公司*the_long*") if "校验结果" not in p.name]
    assert len(filed.stem) <= 80 and len(str(filed.relative_to(ws))) <= 120, filed
    assert filed.with_name(f"{filed.stem}_校验结果.xlsx").exists()
    result = crm(ws, "distribute", "--period", "2026-10", "--date", "2026-10-27")
    assert result.exit_code == 0 and "反馈工作簿不存在" not in result.output, result.output
    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
             for p in (ws / "output" / "2026-10" / "outbox").glob("*.eml")]
    [returned] = [m for m in mails if m["Subject"].startswith("【退回】") and address("华北分公司") in m["To"]]
    assert list(attachments(returned)) == [name.replace(".xlsx", "_校验结果.xlsx")]


def test_a_branch_that_cannot_query_is_told_why_its_pre_filled_workbook_is_not_attached(prepared, tmp_path):
    ws = workspace(prepared, tmp_path)
    assert crm(ws, "template", "--all", "--period", "2026-11").exit_code == 0
    result = crm(ws, "distribute", "--period", "2026-10", "--date", "2026-12-05")
    assert result.exit_code == 0, result.output
    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
             for p in (ws / "output" / "2026-10" / "outbox").glob("月度报送情况_*分公司经营部.eml")]
    told = {m["To"]: "因此本邮件不附下月预填表" in m.get_body(("plain",)).get_content() for m in mails}
    attached = {m["To"]: any("预填" in name for name in attachments(m)) for m in mails}
    assert len(mails) == len(BRANCHES) and any(told.values()) and any(attached.values())
    assert all(told[to] != attached[to] for to in told), (told, attached)
    assert "尚未提交 2026-H1 客户关系维护工作总结" in result.output  # (a space after 提交, as before a month)


def test_nothing_without_recipients_and_no_sending_without_a_server(prepared, tmp_path):
    bare = tmp_path / "bare"
    shutil.copytree(prepared, bare)
    result = crm(bare, "distribute", "--period", "2026-Q3")
    assert result.exit_code == 1 and "没有配置收件人" in result.output and "Traceback" not in result.output
    ws = workspace(prepared, tmp_path)
    result = crm(ws, "distribute", "--period", "2026-Q3", "--send")
    assert result.exit_code == 1 and "host" in result.output and "不加 --send 可先演练" in result.output


def test_a_missing_workbook_holds_its_mail_back_and_names_the_command(prepared, tmp_path):
    ws = workspace(prepared, tmp_path)
    (ws / "output" / "2026-Q3" / "分子公司版" / "客户分级报告_2026-Q3_华南分公司.xlsx").unlink()
    result = crm(ws, "distribute", "--period", "2026-Q3", "--date", "2026-10-10")
    assert result.exit_code == 1
    assert "crm report --period 2026-Q3 --editions" in result.output
    emls = list((ws / "output" / "2026-Q3" / "outbox").glob("*.eml"))
    assert len(emls) == 2 + len(BRANCHES) - 1
    assert not any("华南" in p.name for p in emls)


def test_a_message_over_the_size_limit_is_not_sent(prepared, tmp_path):
    ws = workspace(prepared, tmp_path, "max_message_mib = 0.05")
    result = crm(ws, "distribute", "--period", "2026-Q3", "--date", "2026-10-10")
    assert result.exit_code == 1 and MAIL_TOO_LARGE in result.output and "max_message_mib" in result.output
    rows = cells((ws / "output" / "2026-Q3" / "outbox" / "发送清单.xlsx").read_bytes())
    assert rows.count(MAIL_TOO_LARGE) == 2 + len(BRANCHES) - 1  # every mail with a report; not the withheld one


# -- sending -------------------------------------------------------------------------------------------

def test_send_over_starttls_with_auth_delivers_every_message_once(prepared, tmp_path, smtp_server, monkeypatch):
    inbox, settings, _ = smtp_server
    ws = workspace(prepared, tmp_path, settings)
    monkeypatch.setenv("CRM_SMTP_PASSWORD", PASSWORD)
    result = crm(ws, "distribute", "--period", "2026-Q3", "--date", "2026-10-10", "--send")
    assert result.exit_code == 0, result.output
    delivered = inbox.parsed()
    assert len(delivered) == 2 + len(BRANCHES)
    assert inbox.logins and all(login == (USER.encode(), PASSWORD.encode()) for login in inbox.logins)
    by_address = {rcpt[0]: msg for rcpt, msg in delivered}
    assert all(email.utils.parseaddr(msg["To"])[1] == rcpt for rcpt, msg in by_address.items())
    leader = by_address["leader@jt.example.com"]
    assert leader["Subject"] == "【客户档案】2026年第三季度客户分级报告与工作简报"
    assert leader.get_body(("html",)) is not None and leader.get_body(("plain",)) is not None
    assert "等级排名" in leader.get_body(("html",)).get_content()
    assert "待完成项" in leader.get_body(("html",)).get_content()  # (duties neither met nor overdue are counted)
    assert list(attachments(leader)) == ["客户分级报告_2026-Q3.xlsx"]
    department = by_address["market@jt.example.com"]
    assert "发送清单.xlsx" in attachments(department)
    own = by_address[address("华东分公司")]
    assert list(attachments(own)) == ["客户分级报告_2026-Q3_华东分公司.xlsx"]
    assert cells(attachments(own)["客户分级报告_2026-Q3_华东分公司.xlsx"])
    # a second run sends nothing: the ledger says every message went
    again = crm(ws, "distribute", "--period", "2026-Q3", "--date", "2026-10-10", "--send")
    assert again.exit_code == 0 and len(inbox.messages) == 2 + len(BRANCHES)
    assert f"共 {2 + len(BRANCHES)} 封：{MAIL_ALREADY_SENT} {2 + len(BRANCHES)}。" in again.output
    # --resend is explicit: only that recipient gets it again
    crm(ws, "distribute", "--period", "2026-Q3", "--date", "2026-10-10", "--send", "--resend", "华东分公司")
    assert len(inbox.messages) == 2 + len(BRANCHES) + 1 and inbox.messages[-1][0] == [address("华东分公司")]
    # the password is in no file of the workspace and in no output
    secret = PASSWORD.encode()
    for path in ws.rglob("*"):
        if path.is_file():
            assert secret not in path.read_bytes(), path
    assert PASSWORD not in result.output + again.output
    log = crm(ws, "mail", "log", "--period", "2026-Q3")
    assert log.exit_code == 0 and log.output.count("已发送") == 2 + len(BRANCHES) + 1
    # the ledger survives a rebuild of the archive (the journal keeps every sent message)
    (ws / "archive.sqlite").unlink()
    assert crm(ws, "archive", "rebuild").exit_code == 0
    crm(ws, "distribute", "--period", "2026-Q3", "--date", "2026-10-10", "--send")
    assert len(inbox.messages) == 2 + len(BRANCHES) + 1


def test_no_branch_message_carries_another_branchs_customers(prepared, tmp_path, smtp_server, monkeypatch):
    inbox, settings, _ = smtp_server
    ws = workspace(prepared, tmp_path, settings)
    monkeypatch.setenv("CRM_SMTP_PASSWORD", PASSWORD)
    for period, day in (("2026-Q3", "2026-10-10"), ("2026-H1", "2026-07-10"), ("2026-10", "2026-10-27")):
        result = crm(ws, "distribute", "--period", period, "--date", day, "--send")
        assert result.exit_code == 0, result.output
    with Archive(ws / "archive.sqlite") as archive:
        snapshot = archive.snapshot()
    checked = 0
    for rcpt, msg in inbox.parsed():
        branch = next((b for b in BRANCHES if address(b) in rcpt), None)
        if branch is None:
            continue
        secrets = branch_secrets(snapshot, branch)
        if msg["Subject"].startswith("【退回】"):  # the branch's own file comes back: its own words are no leak
            original = next((ws / "rejected" / "2026-10").glob("华中分公司_2026-10_客户信息统计表_补充__*[!果].xlsx"))
            own_words = cells(original.read_bytes())
            secrets = {s for s in secrets if not any(s in word for word in own_words)}
        texts = [msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()]
        for name, data in attachments(msg).items():
            texts += cells(data)
        leaked = {s for s in secrets for t in texts if s in t}
        assert not leaked, (branch, msg["Subject"], sorted(leaked)[:5])
        checked += 1
    assert checked == 3 * len(BRANCHES) + len(BRANCHES) + 1  # Q3, H1 report + notice, October status, 1 feedback


def test_a_suspended_branch_gets_its_ranking_but_no_customer_detail(prepared, tmp_path, smtp_server, monkeypatch):
    inbox, settings, _ = smtp_server
    ws = workspace(prepared, tmp_path, settings)
    monkeypatch.setenv("CRM_SMTP_PASSWORD", PASSWORD)
    crm(ws, "distribute", "--period", "2026-H1", "--date", "2026-07-10", "--send")
    mails = [m for rcpt, m in inbox.parsed() if rcpt == [address("东北分公司")]]
    report = next(m for m in mails if "客户分级报告" in m["Subject"])
    notice = next(m for m in mails if "考核通报" in m["Subject"])
    assert attachments(report) == {}
    text = report.get_body(("plain",)).get_content()
    assert "2026-08-04" in text and "等级排名" in text and "东北分公司" in text
    assert "2026-08-04" in notice.get_body(("plain",)).get_content() and "考核通报_2026-H1.xlsx" in attachments(notice)
    # once the suspension is over (and the owed report arrived), the edition goes on request
    result = crm(ws, "distribute", "--period", "2026-H1", "--date", "2026-08-12", "--send", "--resend", "东北分公司")
    assert result.exit_code == 0, result.output
    again = [m for rcpt, m in inbox.parsed()[len(inbox.messages) - 2:]]
    assert "客户分级报告_2026-H1_东北分公司.xlsx" in attachments(next(m for m in again if "客户分级报告" in m["Subject"]))


def test_a_refused_recipient_fails_alone_and_is_sent_on_the_next_run(prepared, tmp_path, smtp_server, monkeypatch):
    inbox, settings, _ = smtp_server
    ws = workspace(prepared, tmp_path, settings)
    monkeypatch.setenv("CRM_SMTP_PASSWORD", PASSWORD)
    inbox.refuse = {address("西南分公司")}
    result = crm(ws, "distribute", "--period", "2026-Q3", "--date", "2026-10-10", "--send")
    assert result.exit_code == 1
    assert MAIL_FAILED in result.output and "550" in result.output
    assert len(inbox.messages) == 2 + len(BRANCHES) - 1
    inbox.refuse = set()
    result = crm(ws, "distribute", "--period", "2026-Q3", "--date", "2026-10-10", "--send")
    assert result.exit_code == 0
    assert [m[0] for m in inbox.messages[2 + len(BRANCHES) - 1:]] == [[address("西南分公司")]]


def test_a_dropped_connection_fails_the_rest_and_the_next_run_sends_only_them(prepared, tmp_path, smtp_server,
                                                                              monkeypatch):
    inbox, settings, _ = smtp_server
    ws = workspace(prepared, tmp_path, settings)
    monkeypatch.setenv("CRM_SMTP_PASSWORD", PASSWORD)
    inbox.drop_after = 2
    result = crm(ws, "distribute", "--period", "2026-Q3", "--date", "2026-10-10", "--send")
    assert result.exit_code == 1, result.output
    assert len(inbox.messages) == 2
    first = [m[0][0] for m in inbox.messages]
    inbox.drop_after = None
    result = crm(ws, "distribute", "--period", "2026-Q3", "--date", "2026-10-10", "--send")
    assert result.exit_code == 0, result.output
    later = [m[0][0] for m in inbox.messages[2:]]
    assert len(later) == 2 + len(BRANCHES) - 2 and not set(first) & set(later)


def test_mail_check_over_implicit_tls(certificate, tmp_path, monkeypatch):
    ca_file, context = certificate
    # aiosmtpd does not see implicit TLS as TLS (aio-libs/aiosmtpd#281): AUTH is allowed "without" it here,
    # although the whole connection is encrypted.
    inbox, port, controller = serve(ssl_context=context, auth_require_tls=False)
    try:
        root = tmp_path / "ws"
        assert crm(root, "init").exit_code == 0
        (root / "crm.toml").write_text(
            f'[mail]\nhost = "localhost"\nport = {port}\nsecurity = "ssl"\nusername = "{USER}"\nfrom = "{USER}"\n'
            f'ca_file = "{ca_file.as_posix()}"\n', encoding="utf-8")
        monkeypatch.setenv("CRM_SMTP_PASSWORD", "wrong")
        refused = crm(root, "mail", "check")
        assert refused.exit_code == 1 and "拒绝登录" in refused.output and "wrong" not in refused.output
        monkeypatch.setenv("CRM_SMTP_PASSWORD", PASSWORD)
        result = crm(root, "mail", "check")
        assert result.exit_code == 0, result.output
        (rcpt, msg), = inbox.parsed()
        assert rcpt == [USER] and msg["Subject"] == "【客户档案】邮件设置测试"
    finally:
        controller.stop()


def test_recipients_are_checked_with_the_entry_and_its_line(tmp_path):
    root = tmp_path / "ws"
    assert crm(root, "init").exit_code == 0
    (root / "crm.toml").write_text(
        '[mail]\nfrom = "crm@jt.example.com"\n\n[[mail.recipients]]\nname = "甲"\naddress = "jia@x"\nrole = "领导"\n\n'
        '[[mail.recipients]]\nname = "乙"\naddress = "yi@fgs.example.com"\nrole = "分子公司"\nbranch = "华东"\n'
        'kinds = ["季报", "weekly"]\n\n[[mail.recipients]]\nname = "丙"\naddress = "领导@example.com"\nrole = "领导"\n',
        encoding="utf-8")
    result = crm(root, "distribute", "--period", "2026-Q3")
    assert result.exit_code == 1
    assert "第 4 行起的第 1 个收件人（甲）" in result.output and "不是有效的邮箱地址" in result.output
    assert "“华东”不在花名册中，是否应为“华东分公司”" in result.output and "“weekly”" in result.output
    assert "“领导@example.com”不是有效的邮箱地址" in result.output
    bad_date = crm(root, "distribute", "--period", "2026-Q3", "--date", "2026-13-01")
    assert bad_date.exit_code == 2 and "不是有效日期" in bad_date.output


@pytest.mark.parametrize("until, owing, says", [
    (None, ["2026-09 月报"], "提交 2026-09 月报后即恢复。"),
    ("2026-08-04", [], "暂停期（至 2026-08-04）结束后恢复。"),
    ("2026-08-04", ["2026-H1 客户关系维护工作总结"],
     "须提交 2026-H1 客户关系维护工作总结，并且暂停期（至 2026-08-04）结束后，才能恢复。"),
])
def test_a_suspended_branch_is_told_the_one_way_back(until, owing, says):
    """Owing a document and serving a suspension are both to be over: not two ways back that contradict."""
    import datetime as dt
    from pipeline.archive.access import Standing
    from pipeline.distribution.content import _standing_block
    standing = Standing("东北分公司", dt.date.fromisoformat(until) if until else None, owing)
    text = _standing_block(standing, None).text
    assert text.startswith("贵单位目前不能查询客户档案（") and text.endswith(says), text


def test_a_half_s_report_written_before_its_assessment_was_recorded_is_held_back(prepared, tmp_path):
    """Written before crm assess apply, the half's report still shows the proposals: its mails wait for it to be
    written again, and say so."""
    import os
    ws = workspace(prepared, tmp_path)
    report = ws / "output" / "2026-H1" / "客户分级报告_2026-H1.xlsx"
    os.utime(report, (report.stat().st_mtime - 10 * 86400,) * 2)  # as if written before the apply
    result = crm(ws, "distribute", "--period", "2026-H1", "--date", "2026-07-06")
    assert "生成于考核结果记录" in result.output and "crm report --period 2026-H1 --editions" in result.output
    assert crm(ws, "report", "--period", "2026-H1", "--editions").exit_code == 0
    result = crm(ws, "distribute", "--period", "2026-H1", "--date", "2026-07-06")
    assert result.exit_code == 0 and "生成于考核结果记录" not in result.output, result.output


def test_a_work_summary_received_is_thanked_for_not_asked_for_again(prepared, tmp_path):
    """东北 (差) sent its work summary on 8 July: the notice of the 10th does not ask it for one by the 12th."""
    ws = workspace(prepared, tmp_path)
    summary = ws / "inbox" / "东北分公司_2026-H1_客户关系维护工作总结.docx"
    summary.write_bytes(b"PK summary")
    assert crm(ws, "ingest", "--received-at", "2026-07-08T09:00").exit_code == 0
    assert crm(ws, "distribute", "--period", "2026-H1", "--date", "2026-07-10").exit_code == 0
    outbox = ws / "output" / "2026-H1" / "outbox"
    bodies = {p.name: email.message_from_bytes(p.read_bytes(), policy=email.policy.default).get_body(
        ("plain",)).get_content() for p in outbox.glob("*.eml")}
    mine = next(text for name, text in bodies.items() if "考核通报" in name and "东北分公司" in name)
    assert "已于 2026-07-08 收到贵单位的《客户关系维护工作总结》" in mine and "请于" not in mine
    group = next(text for name, text in bodies.items() if "考核通报" in name and "市场营销部" in name)
    received = next(line for line in group.splitlines() if "已收到《客户关系维护工作总结》：" in line)
    assert "东北分公司" in received
    owing = next(line for line in group.splitlines() if "须于" in line)
    assert "东北分公司" not in owing


def test_a_mail_s_dates_never_break_at_their_hyphen_and_its_duties_say_what_is_still_due():
    from pipeline.distribution.document import Document, Paragraph, render_html
    doc = Document("标题", "副标题")
    doc.add("考核", Paragraph("暂停期（至 2026-08-04）结束后恢复；须提交 2026-H1 客户关系维护工作总结。"))
    page = render_html(doc)
    assert '<span style="white-space:nowrap;">2026-08-04</span>' in page
    assert '<span style="white-space:nowrap;">2026-H1</span>' in page

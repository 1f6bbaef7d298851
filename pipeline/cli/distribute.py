"""crm commands of distribution: distribute, mail check, mail log."""
from __future__ import annotations

import datetime as dt
import sys

import click

from schemas.labels import MAIL_DRAFT, MAIL_FAILED, MAIL_KINDS, MAIL_SENT, MAIL_STATES, label

from .console import table
from .options import Context, check_period, open_workspace


@click.command()
@click.option("--period", required=True, callback=check_period,
              help="期间：月份 2026-10（月度报送情况与退回反馈）、季度 2026-Q3、半年度 2026-H1（含考核通报）、年度 2026。")
@click.option("--send", is_flag=True, help="真正发送（默认只演练：邮件写成 .eml 文件放在 output/<期间>/outbox/）。")
@click.option("--resend", multiple=True, metavar="姓名或单位",
              help="重发给该收件人（姓名、邮箱地址或单位名称），即使此前已发送；可写多次。")
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="日期",
              help="分发日期（默认今天）：决定各单位此时是否暂停查询档案。")
@click.pass_obj
def distribute(obj: Context, period: str, send: bool, resend: tuple[str, ...], on):
    """按 crm.toml 中的收件人分发本期结果：领导收简报与集团报表，各分子公司只收本单位版本、考核通报和退回反馈。

    附件用已生成的报表（不会在这里重新生成；缺少时说明用哪个命令生成）。每封邮件只发一次，
    再次运行只发送尚未发出或上次失败的邮件。有邮件发送失败时退出码为 1。
    """
    from ..distribution.run import distribute as run
    with open_workspace(obj, lock=True) as (ws, archive):
        result = run(ws, archive, obj.config, period, on=on.date() if on else None, send=send, resend=resend,
                     echo=click.echo)
    for note in result.notes:  # before the table of mails, where they are not missed
        click.echo(f"注意：{note}")
    rows = [[m.recipient.name, m.recipient.branch or m.recipient.role, MAIL_KINDS[m.kind], len(m.attachments),
             f"{m.size / 1024:,.0f}" if m.size else "", m.status, "；".join(t for t in (m.note, m.reason) if t)]
            for m in result.mails]
    click.echo(table([label("recipient"), label("role"), label("mail_kind"), label("attachments"), label("size_kib"),
                      label("mail_state"), label("mail_reason")], rows, max_width=60))
    if result.failed:
        click.echo("\n未能发送或未能生成的邮件：")
        by_reason: dict[str, list] = {}
        for m in result.failed:
            by_reason.setdefault(f"{m.status}。{m.reason}", []).append(m)
        for reason, mails in by_reason.items():
            who = "、".join(f"{m.recipient.name}（{MAIL_KINDS[m.kind]}）" for m in mails)
            click.echo(f"  {who}：{reason}")
    withheld = [m for m in result.mails if m.note]
    if withheld:
        click.echo("\n说明：")
        for m in withheld:
            click.echo(f"  {m.recipient.name}（{MAIL_KINDS[m.kind]}）：{m.note}")
    made = sum(m.eml is not None and m.status in (MAIL_DRAFT, MAIL_SENT) for m in result.mails)
    counts = "，".join(f"{state} {result.count(state)}" for state in MAIL_STATES if result.count(state))
    click.echo(f"\n共 {len(result.mails)} 封：{counts}。")
    click.echo(f"简报：{result.brief}\n邮件与发送清单：{result.outbox}")
    if not send and made:
        click.echo("这是演练，邮件没有发出。确认无误后加 --send 发送。")
    if result.failed:
        sys.exit(1)


@click.group("mail")
def mail_group():
    """邮件设置：测试与发送记录。"""


@mail_group.command("check")
@click.option("--to", "to", metavar="邮箱", help="测试邮件的收件地址（默认发给发件人自己）。")
@click.pass_obj
def mail_check(obj: Context, to: str | None):
    """按 crm.toml [mail] 的设置连接邮件服务器并发送一封测试邮件，证明设置可用。"""
    from ..distribution.message import build_message
    from ..distribution.send import Postman
    from ..distribution.settings import Recipient, mail_settings
    settings = mail_settings(obj.config)
    settings.require_server(obj.config.where)
    from ..config import ADDRESS
    from ..errors import MailError
    if to is not None and not ADDRESS.match(to.strip()):
        raise MailError(f"“{to}”不是有效的邮箱地址。")
    target = Recipient(settings.sender_name or settings.sender, (to or settings.sender).strip(), "", None, ())
    text = (f"这是客户档案流水线的邮件设置测试，发送于 {dt.datetime.now():%Y-%m-%d %H:%M}。\n"
            f"服务器 {settings.host}:{settings.port}，加密方式 {settings.security}，"
            f"登录用户 {settings.username or '（不登录）'}。\n收到本邮件说明设置可用。")
    msg = build_message(settings, target, "【客户档案】邮件设置测试", text, None, [], period="", kind="check")
    with Postman(settings) as postman:
        try:
            answer = postman.send(msg)
        except MailError as exc:
            raise MailError(f"测试邮件未能发出：{exc}") from None
    click.echo(f"测试邮件已发给 {target.address}，服务器答复：{answer}")


@mail_group.command("log")
@click.option("--period", callback=check_period, help="只看某一期间，如 2026-Q3。")
@click.pass_obj
def mail_log(obj: Context, period: str | None):
    """列出发送记录：每封邮件何时发给谁、服务器如何答复（失败的也在内）。"""
    with open_workspace(obj, lock=False) as (ws, archive):
        log = archive.mail_log(period)
    if log.empty:
        click.echo("还没有发送记录。")
        return
    states = {"sent": MAIL_SENT, "failed": MAIL_FAILED}
    rows = [[r.at[:16], r.period, MAIL_KINDS.get(r.kind, r.kind), f"{r.recipient} <{r.address}>",
             states.get(r.status, r.status), r.response] for r in log.itertuples()]
    click.echo(table(["时间", "期间", label("mail_kind"), label("recipient"), label("mail_state"),
                      label("mail_reason")], rows, max_width=60))


COMMANDS = [distribute, mail_group]

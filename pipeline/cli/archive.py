"""crm commands of the archive: init, ingest, status, monthly, archive export, review."""
from __future__ import annotations

from pathlib import Path

import click

from schemas import labels
from schemas.labels import COMPLAINT_STATES, DEPARTMENT, EMPTY, OUTCOMES, REMINDERS, label

from .console import table
from .options import (Context, check_month, inbox_option, open_workspace, out_option, output_path,
                      progress, received_option, upgrading)


@click.command()
@click.pass_obj
def init(obj: Context):
    """创建工作目录：inbox/、received/、rejected/、output/、档案库与带注释的 crm.toml。"""
    from ..archive.store import Archive
    from ..archive.workspace import Workspace
    ws = Workspace(obj.workspace)
    made = ws.init()
    new_archive = not ws.archive_path.exists()
    with Archive(ws.archive_path, upgrading=upgrading):
        pass
    if new_archive:
        made.append(ws.archive_path)
    click.echo(f"工作目录：{ws.root}")
    for path in made:
        click.echo(f"  已创建 {path.relative_to(ws.root)}")
    if not made:
        click.echo("  已存在，未作改动。")


keep_option = click.option(
    "--keep", is_flag=True,
    help="复制而不移动收件箱中的文件（样例文件夹 input_samples/ 总是复制，不会被移走）。")
recheck_option = click.option(
    "--recheck", is_flag=True,
    help="与本单位上次报送完全相同的行也重新清洗和校验（默认跳过这些行；修改了 crm.toml 的校验规则后使用）。")


@click.command()
@inbox_option
@received_option
@keep_option
@recheck_option
@click.pass_obj
def ingest(obj: Context, inbox: Path | None, received_at, keep: bool, recheck: bool):
    """处理收件箱：校验、归档通过的文件，退回有错误的文件并生成反馈工作簿。

    收件箱中的文件处理后被移走：通过的归入 received/<月份>/<单位>/，退回的连同反馈工作簿归入
    rejected/<月份>/，内容完全相同的重复文件归入 received/重复文件/。
    """
    with _early_workers(obj, inbox) as workers:
        from ..archive.ingest import ingest_inbox
        with open_workspace(obj, check_later=True) as (ws, archive):
            folder = inbox or ws.inbox
            outcomes = ingest_inbox(ws, archive, obj.config, inbox=inbox, received_at=received_at,
                                    progress=progress, keep=keep or is_samples(folder), recheck=recheck,
                                    workers=workers)
    click.echo(outcome_table(outcomes, folder, ws.root))
    _exit_if_stopped(outcomes)


def _early_workers(obj: Context, inbox: Path | None, summary: bool = False):
    """The run's validation workers, started at once when the inbox holds enough files (or, for a ``summary`` of
    the month, the archive enough customers to share it): they import pandas and pandera while this process does
    (before the command's own imports, which take about half a second)."""
    from ..archive.workspace import Workspace
    from ..intake.worker import Workers
    ws = Workspace(obj.workspace)
    workers = Workers()
    workers.start_for(inbox or ws.inbox)
    if summary:
        workers.start_for_summary(ws.customers_archived())
    return workers


def is_samples(folder: Path) -> bool:
    """A folder of the shipped samples (it holds their manifest): its files are copied, never moved."""
    from ..dev.samples import MANIFEST
    folder = Path(folder)
    return (folder / MANIFEST).exists() or (folder.parent / MANIFEST).exists()


def _note(outcome, root: Path | None) -> str | None:
    from ..findings import ERROR
    note = outcome.note or (_located(next(f for f in outcome.findings if f.severity == ERROR))
                            if outcome.errors else None)
    if outcome.errors and outcome.feedback is not None:
        where = outcome.feedback
        if root is not None and where.is_relative_to(root):
            where = where.relative_to(root)
        more = f"共 {outcome.errors} 处错误，都已在反馈表中标出。" if outcome.errors > 1 else ""
        note = f"{note}\n{more}反馈表：{where}"
    return note


def _located(finding) -> str:
    """A finding with where it is: “客户信息 D34：…” (the sheet alone, or nothing, when it has no cell)."""
    where = " ".join(filter(None, (finding.sheet, finding.cell.rpartition("!")[2])))
    return f"{where}：{finding.message}" if where else finding.message


def _exit_if_stopped(outcomes) -> None:
    if any(o.status == "left" for o in outcomes):
        raise click.exceptions.Exit(1)


def outcome_table(outcomes, folder: Path | None = None, root: Path | None = None) -> str:
    """A line for each file; under it what to know: the note, or a returned file's first error and where its
    feedback workbook is (``root``: the workspace, the path is shown from there)."""
    from ..archive.workspace import UNKNOWN_MONTH
    if not outcomes:
        return f"收件箱 {folder or ''} 中没有待处理的文件。".replace("  ", " ")
    rows = [[o.file, o.branch or EMPTY, o.period or EMPTY, OUTCOMES[o.status], o.errors] for o in outcomes]
    text = table([label(k) for k in ("file_name", "branch", "period", "outcome", "errors")], rows,
                 notes=[_note(o, root) for o in outcomes])
    counts = {k: sum(o.status == k for o in outcomes) for k in OUTCOMES}
    parts = "，".join(f"{OUTCOMES[k]} {n}" for k, n in counts.items() if n)
    text += f"\n本次收件 {len(outcomes)} 个：{parts}。"
    if unplaced := sum(o.status == "rejected" and not o.period for o in outcomes):
        text += (f"\n其中 {unplaced} 个看不出是哪个月的报送，不计入任何月份的月度汇总"
                 f"（退回件在 rejected/{UNKNOWN_MONTH}/）。")
    return text


@click.command()
@click.option("--period", help="月份如 2026-10（默认为本月），或半年度如 2026-H1（看客户分析报告与工作总结）。",
              metavar="月份或半年度")
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="日期",
              help="按哪一天的情况看（默认今天）：截止日前没报的是“未到截止日”，之后是“未报”。")
@click.pass_obj
def status(obj: Context, period: str | None, on):
    """各分子公司某月的报送情况（按时 / 逾期 / 未报 / 被退回待重报 / 无变化），或某半年度应交材料的提交情况。"""
    import datetime as dt

    import pandas as pd

    from ..archive.tracking import submission_status
    from ..periods import Period, current_month
    parsed = Period.parse(period) if period else Period.of_month(current_month(on.date() if on else None))
    if parsed.kind == "half":
        from ..archive.access import document_status
        with open_workspace(obj, lock=False) as (ws, archive):
            frame = document_status(archive, obj.config, str(parsed), on.date() if on else dt.date.today())
        click.echo(documents_text(frame, str(parsed)))
        return
    if parsed.kind != "month":
        raise click.UsageError(f"“{period}”：请写月份（如 2026-10）或半年度（如 2026-H1）。")
    period = str(parsed)
    with open_workspace(obj, lock=False) as (ws, archive):
        now = dt.datetime.combine(on.date(), dt.time(23, 59, 59)) if on else None  # the end of that day
        subs = archive.submissions(period, findings=False)
        if now is not None and len(subs):  # as it stood that day: files received later are not there yet
            subs = subs[pd.to_datetime(subs["received_at"]) <= pd.Timestamp(now)]
        frame = submission_status(subs, obj.config, period, now)
    click.echo(status_text(frame, period))


def documents_text(frame, half: str) -> str:
    rows = [[r.branch, r.document, r.deadline.strftime("%Y-%m-%d") if r.deadline is not None and str(r.deadline) != "NaT"
             else EMPTY, _when(r.received_at), r.document_state] for r in frame.itertuples()]
    return f"{half} 应交材料\n" + table([label(k) for k in ("branch", "document", "deadline", "received_at",
                                                            "document_state")], rows)


def status_text(frame, period: str) -> str:
    """The month's submission status for the screen: the rows of each sheet as numbers only, in the template's
    order and named once below the table (the workbook's “客户信息 505 行，合作项目 300 行，…” made a line of some
    160 columns, wider than a console window)."""
    from schemas.columns import DATA_SHEETS
    rows = [[r.branch, r.state, _when(r.received_at), shown(r.file_name), _counts(r.counts, DATA_SHEETS)]
            for r in frame.itertuples()]
    due = frame["deadline"].iloc[0].strftime("%Y-%m-%d") if len(frame) else ""
    head = f"{period} 报送情况（截止 {due}）"
    text = head + "\n" + table([label(k) for k in ("branch", "state", "received_at", "file_name", "rows")], rows)
    if any(isinstance(r.counts, dict) and r.counts for r in frame.itertuples()):
        text += "\n" + f"{label('rows')}依次为：" + " / ".join(sheet.name for sheet in DATA_SHEETS) + "（— 为没有这张表）"
    notes = [f"  {r.branch}：{r.note}" for r in frame.itertuples() if isinstance(r.note, str) and r.note]
    return text + ("\n说明：\n" + "\n".join(notes) if notes else "")


def _counts(counts, sheets) -> str:
    """505 / 300 / 50 / 20 / 100: a file's rows in each sheet, in the template's order."""
    if not isinstance(counts, dict) or not counts:
        return EMPTY
    return " / ".join(str(counts[sheet.name]) if sheet.name in counts else EMPTY for sheet in sheets)


def _when(value) -> str:
    return EMPTY if value is None or str(value) == "NaT" else value.strftime("%m-%d %H:%M")


def shown(value) -> str:
    """A value for the screen: blanks, NaN and NaT are “—”, never “nan”."""
    import pandas as pd
    if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "":
        return EMPTY
    return str(value)


@click.command()
@click.option("--period", callback=check_month,
              help="汇总的月份（默认为本次收到文件中最新的月份，没有文件时为本月）。")
@inbox_option
@received_option
@keep_option
@recheck_option
@click.pass_obj
def monthly(obj: Context, period: str | None, inbox: Path | None, received_at, keep: bool, recheck: bool):
    """月度例行：处理收件箱，再生成 output/<月份>/月度汇总_<月份>.xlsx 并打印摘要。

    收件箱中的文件处理后被移走（见 crm ingest --help）；第一次运行时会自动创建工作目录。
    """
    with _early_workers(obj, inbox, summary=True) as workers:
        from ..routine import run_monthly
        with open_workspace(obj, create=True, check_later=True) as (ws, archive):
            folder = inbox or ws.inbox
            outcomes, data, path = run_monthly(ws, archive, obj.config, period=period, inbox=inbox,
                                               received_at=received_at, progress=progress,
                                               keep=keep or is_samples(folder), recheck=recheck, workers=workers)
    if not outcomes:
        click.echo(f"收件箱 {folder} 是空的，没有新的报送文件；以下为 {data.period} 的报送情况"
                   + ("（可用 --period 指定其他月份）。" if period is None else "。"))
    else:
        click.echo(outcome_table(outcomes, folder, ws.root))
    click.echo("")
    click.echo(status_text(data.status, data.period))
    click.echo(f"\n{data.period}：新增客户 {data.new_customer_count} 家，信息变更 {len(data.changes)} 项，"
               f"待审核疑似重复 {len(data.conflicts)} 对。")
    unanswered, not_fed, handling = COMPLAINT_STATES
    counts = data.overdue_complaints
    click.echo(f"投诉时限：超时{unanswered} {counts[unanswered]} 件，超时{not_fed} {counts[not_fed]} 件，"
               f"{handling} {counts[handling]} 件。")
    click.echo(f"联系提醒：战略客户{REMINDERS['specialist']} {data.contact_counts['specialist']} 家次，"
               f"{REMINDERS['a_plan']} {data.contact_counts['a_plan']} 家次（一家客户由几个单位维护时每个单位各计一次）。")
    if data.unwritten:
        click.echo(f"月度汇总未能写出：{data.unwritten}", err=True)
        raise SystemExit(1)
    click.echo(f"月度汇总：{path}")
    _exit_if_stopped(outcomes)


@click.group("archive")
def archive_group():
    """客户档案：导出、重建，列出、撤销或恢复报送文件。"""


@archive_group.command("rebuild")
@click.pass_obj
def archive_rebuild(obj: Context):
    """按 received/、rejected/ 中的报送文件和归档日志重建档案库（原档案库改名保留）。"""
    from ..archive.rebuild import rebuild_archive
    from ..archive.workspace import Workspace
    ws = Workspace(obj.workspace).require()
    config = obj.config
    with ws.lock():
        report = rebuild_archive(ws, config, progress=progress)
    for line in report.lines():
        click.echo(line)


@archive_group.command("files")
@click.option("--period", callback=check_month, help="月份，如 2026-10（默认为最近有报送的月份）。")
@click.option("--branch", metavar="单位", help="只列这个单位的文件。")
@click.pass_obj
def archive_files(obj: Context, period: str | None, branch: str | None):
    """列出某月收到的报送文件及其报送编号、结果（撤销或恢复某个文件时用编号指明）。"""
    if branch and branch not in obj.config.branches:
        raise click.UsageError(f"“{branch}”不在花名册中（{'、'.join(obj.config.branches)}）。")
    with open_workspace(obj, lock=False) as (ws, archive):
        period = period or archive.latest_period()
        subs = archive.submissions(period, findings=False) if period else None
    if subs is not None and branch:
        subs = subs[subs["branch"] == branch]
    if subs is None or not len(subs):
        click.echo(f"{period or ''} {branch or ''}没有收到报送文件。".lstrip())
        return
    rows = [[s.id, s.branch or EMPTY, s.file_name, _when(s.received_at), _verdict(s)] for s in subs.itertuples()]
    click.echo(f"{period} 收到的报送文件" + (f"（{branch}）" if branch else "") + "\n"
               + table([label(k) for k in ("submission_id", "branch", "file_name", "received_at", "verdict")], rows))


def _verdict(sub) -> str:
    """A file's verdict for the screen; a withdrawn file's with why."""
    verdict = labels.VERDICTS.get(sub.status, sub.status)
    return f"{verdict}：{sub.withdrawn_reason}" if sub.status == "withdrawn" and sub.withdrawn_reason else verdict


def _submission_named(archive, which: str, period: str | None, wanted: tuple[str, ...]) -> dict:
    """The submission ``which`` names: its 报送编号, or its file name (as received, or as filed) in ``period``; of
    several files of that name, the one whose status is ``wanted`` (the command's: to withdraw, a live file)."""
    from ..archive.workspace import display_name
    if which.strip().isdigit():
        found = archive.submission(int(which))
        if found is None:
            raise click.ClickException(f"没有报送编号为 {which.strip()} 的文件（crm archive files 可列出各月文件及编号）。")
        if period and found["period"] != period:
            raise click.ClickException(f"{label('submission_id')} {which.strip()} 是 {found['period'] or '未识别月份'} 的文件，"
                                       f"不是 {period} 的：请核对编号（crm archive files --period {period}）。")
        return found
    name = display_name(Path(which).name)
    subs = archive.submissions(period, findings=False)
    filed_as = subs["stored_path"].map(lambda stored: display_name(Path(stored or "").name))
    named = subs[(subs["file_name"] == name) | (filed_as == name)]
    if len(named) > 1 and (meant := named[named["status"].isin(wanted)]).shape[0] == 1:
        named = meant  # (e.g. the same name returned earlier and sent again corrected)
    if len(named) == 1:
        return archive.submission(int(named["id"].iloc[0]))
    if not len(named):
        where = f"{period} " if period else ""
        documents = archive.documents(period)
        if len(documents) and (documents["file_name"] == name).any():
            raise click.ClickException(f"“{name}”是分析报告或工作总结，不是报送表：撤销只适用于报送表。")
        raise click.ClickException(f"{where}没有名为“{name}”的报送文件（crm archive files 可列出各月文件及编号）。")
    choices = "；".join(f"编号 {r.id}：{r.branch or EMPTY} {r.period or EMPTY} 收件 {_when(r.received_at)}"
                       f"（{labels.VERDICTS.get(r.status, r.status)}）" for r in named.itertuples())
    raise click.ClickException(f"名为“{name}”的文件有 {len(named)} 个，请用报送编号指明"
                               f"{'' if period else '（或用 --period 指定月份）'}：{choices}。")


def _described(sub: dict, verdict: bool = True) -> str:
    """报送编号 12：华东公司 2026-10《…》（收件 10-20 10:00，通过）."""
    import datetime as dt
    received = dt.datetime.fromisoformat(sub["received_at"]).strftime("%m-%d %H:%M")
    said = f"，{labels.VERDICTS.get(sub['status'], sub['status'])}" if verdict else ""
    return (f"{label('submission_id')} {sub['id']}：{sub['branch'] or EMPTY} {sub['period'] or EMPTY}《{sub['file_name']}》"
            f"（收件 {received}{said}）")


def _standing_text(sub: dict, standing, *, done: bool = True, rederived: str = "档案已按其余报送重新生成") -> str:
    """What a withdrawal (or reinstatement) made of the file's branch-month and the archive; ``done``: it is
    done (else what it would do: a preview)."""
    now = (f"采用《{standing.file_name}》" if standing.submission_id is not None
           else "没有通过的报送")
    before, after = standing.customers_before, standing.customers_after
    count = f"档案中的客户由 {before} 家变为 {after} 家" if before != after else f"档案中的客户数不变（{after} 家）"
    if not done:
        return f"{sub['branch']} {sub['period']} 将{now}，{count}。"
    return (f"{sub['branch']} {sub['period']} 现{now}；{rederived}，{count}。已生成的月度汇总、报表和预填表"
            f"不会自动更新：请重新运行 crm monthly --period {sub['period']}（及相关的 crm report），"
            f"给 {sub['branch']} 重新生成预填表（crm template --for {sub['branch']}）；已发出的邮件无法收回。")


_REDERIVING = "正在按各份报送重新推导档案（档案大时需要一两分钟）……"


@archive_group.command("withdraw")
@click.argument("which", metavar="报送编号或文件名")
@click.option("--reason", required=True, metavar=label("reasons_access"), help="撤销原因（记入档案，报送情况和月度汇总中可见）。")
@click.option("--by", "decided_by", default=DEPARTMENT, show_default=True, help="经办人。")
@click.option("--period", callback=check_month, help="按文件名查找时只在这个月份中找（同名文件在几个月都有时）。")
@click.option("--yes", "confirmed", is_flag=True, help="确认撤销（不带此项时只显示将撤销哪个文件、有何影响）。")
@click.pass_obj
def archive_withdraw(obj: Context, which: str, reason: str, decided_by: str, period: str | None, confirmed: bool):
    """撤销一份已归档的报送：档案恢复为没有收到这份文件时的样子（本单位本月另有文件时改为采用它）。

    用于文件记错了单位或月份、误发了不该归档的文件等情况；内容有错的，让分子公司更正重报即可，无需撤销。
    文件本身仍保留在 received/ 中，撤销记入归档日志，可用 crm archive reinstate 恢复。
    """
    reason = reason.strip()
    if not reason:
        raise click.UsageError("请用 --reason 写明撤销原因。")
    with open_workspace(obj) as (ws, archive):
        sub = _submission_named(archive, which, period, ("accepted", "superseded"))
        if sub["status"] == "withdrawn":
            done = archive.withdrawal(sub["id"]) or {}
            raise click.ClickException(f"{_described(sub, verdict=False)}已于 {done.get('at', '')[:16]} 撤销"
                                       f"（{done.get('reason') or '未写原因'}），无需再撤销。")
        if sub["status"] not in ("accepted", "superseded"):
            raise click.ClickException(f"{_described(sub)}被退回，没有进入档案，无需撤销。")
        if not confirmed:
            click.echo(_REDERIVING, err=True)
            standing = archive.withdraw(sub["id"], reason, decided_by, preview=True)
            click.echo(f"将撤销 {_described(sub)}。")
            if sub["status"] != "accepted":
                click.echo("它已被更正替换、不影响当前档案；撤销后也不再计入报送情况和考核（如按时报送）。")
            else:
                click.echo(f"撤销后{_standing_text(sub, standing, done=False)}")
            click.echo("以上只是预览，档案未作改动。确认无误后加 --yes 再运行一次。")
            return
        click.echo(_REDERIVING, err=True)
        standing = archive.withdraw(sub["id"], reason, decided_by)
    click.echo(f"{labels.VERDICTS['withdrawn']} {_described(sub)}，原因：{reason}。")
    click.echo(_standing_text(sub, standing))


@archive_group.command("reinstate")
@click.argument("which", metavar="报送编号或文件名")
@click.option("--by", "decided_by", default=DEPARTMENT, show_default=True, help="经办人。")
@click.option("--period", callback=check_month, help="按文件名查找时只在这个月份中找。")
@click.pass_obj
def archive_reinstate(obj: Context, which: str, decided_by: str, period: str | None):
    """恢复一份被撤销的报送（撤销的反操作）：它重新计入档案，与本单位本月其他文件按收件先后定哪份采用。"""
    with open_workspace(obj) as (ws, archive):
        sub = _submission_named(archive, which, period, ("withdrawn",))
        if sub["status"] != "withdrawn":
            raise click.ClickException(f"{_described(sub)}没有被撤销，无需恢复。")
        click.echo(_REDERIVING, err=True)
        standing = archive.reinstate(sub["id"], decided_by)
    click.echo(f"已恢复 {_described(sub, verdict=False)}。")
    click.echo(_standing_text(sub, standing, rederived="档案已重新生成"))


@archive_group.command("export")
@click.option("--as-of", "as_of", callback=check_month,
              help="导出截至某月末的档案状态（默认为当前）。")
@click.option("--for", "branch", metavar="单位", help="为某分子公司导出其查询结果（须经批准，记入查询记录）。")
@click.option("--approved-by", metavar=label("approved_by"), help="批准此次查询的集团公司领导（与 --for 同用，必填）。")
@click.option("--scope", type=click.Choice(["own", "all"]), default="own", show_default=True,
              help="own：只含本单位客户；all：全部客户，其他单位的联系人姓名、电话已遮蔽。")
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="日期",
              help="查询日期（默认今天），按这一天判断是否在暂停查询期内。")
@out_option("输出文件（默认 output/客户档案总表.xlsx，或 output/查询/<单位>_客户档案_<本单位|全部>_<日期>.xlsx，"
            "同一天再次导出时文件名加 (2)、(3)…）。")
@click.pass_obj
def archive_export(obj: Context, as_of: str | None, branch: str | None, approved_by: str | None, scope: str,
                   on, out: Path | None):
    """导出客户档案总表.xlsx（客户、合作项目、满意度调查、投诉记录、拜访记录、变更记录）。

    不带 --for 时是市场营销部自用的全集团档案。带 --for 时是分子公司经批准的查询：暂停查询期内或
    有应交未交的材料（停用）时拒绝，并写明原因和截止日期；每次导出都记入查询记录（crm access log）。
    """
    import datetime as dt

    from ..archive.access import standing
    from ..reports.archive_workbook import export_archive
    if branch is None:
        with open_workspace(obj, lock=False) as (ws, arch):
            suffix = f"_{as_of}" if as_of else ""
            out = output_path(out, ws.output / f"客户档案总表{suffix}.xlsx")
            export_archive(arch, out, as_of=as_of, config=obj.config)
        click.echo(f"已导出：{out}")
        return
    if branch not in obj.config.branches:
        raise click.UsageError(f"“{branch}”不在花名册中（{'、'.join(obj.config.branches)}）。")
    if not approved_by:
        raise click.UsageError("分子公司查询档案须经集团公司领导批准：请用 --approved-by 写明批准人。")
    day = on.date() if on else dt.date.today()
    with open_workspace(obj) as (ws, arch):
        state = standing(arch, obj.config, branch, day)
        if not state.allowed:
            when = "当前" if on is None else f"{day:%Y-%m-%d} "
            raise click.ClickException(f"{branch} {when}不能查询客户档案：{state.reason()}。")
        # each extract a file of its own (two the same day were one file, the query log pointing both at it)
        from ..filenames import unique_path
        named = ws.output / "查询" / f"{branch}_客户档案_{_SCOPE_NAMES[scope]}_{day:%Y%m%d}.xlsx"
        out = output_path(out, unique_path(named))
        path, rows = export_archive(arch, out, as_of=as_of, branch=branch, scope=scope, config=obj.config)
        arch.record_access({"branch": branch, "approved_by": approved_by, "scope": scope, "rows": rows,
                            "file": path.relative_to(ws.root).as_posix() if path.is_relative_to(ws.root)
                            else str(path), "on_date": day.isoformat()})
    click.echo(f"已为 {branch} 导出 {rows} 行（{labels.SCOPES[scope]}，批准人 {approved_by}），已记入查询记录：{path}")


_SCOPE_NAMES = {"own": "本单位", "all": "全部"}  # (in an extract's file name)


@click.group()
def review():
    """疑似重复客户的人工审核。"""


@review.command("export")
@out_option("输出文件（默认 output/疑似重复客户.xlsx）。")
@click.pass_obj
def review_export(obj: Context, out: Path | None):
    """导出疑似重复客户.xlsx，在“处理决定”列选择 合并 / 不同客户 / 待定。"""
    from ..archive.review import export_review
    with open_workspace(obj, lock=False) as (ws, arch):
        out = output_path(out, ws.output / "疑似重复客户.xlsx")
        export_review(arch, out)
    click.echo(f"已导出：{out}")


@review.command("apply")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="审核表")
@click.option("--by", "decided_by", default=DEPARTMENT, show_default=True, help="审核人。")
@click.pass_obj
def review_apply(obj: Context, file: Path, decided_by: str):
    """应用疑似重复客户.xlsx 中的处理决定（一个事务内完成）。"""
    from ..archive.review import apply_review
    with open_workspace(obj) as (ws, arch):
        outcome = apply_review(arch, file, decided_by=decided_by)
    if outcome.findings:
        for f in outcome.findings:
            click.echo(f"  {f.cell}  {f.message}", err=True)
        raise click.ClickException("审核文件有错误，未作任何改动。")
    click.echo(str(outcome))


@click.group("access", invoke_without_command=True)
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="日期", help="按哪一天判断（默认今天）。")
@click.pass_context
def access_group(ctx, on):
    """各分子公司能否查询客户档案：考核为差的暂停期、应交未交材料的停用情况（crm access log 看查询记录）。"""
    import datetime as dt

    from ..archive.access import standings
    if ctx.invoked_subcommand is not None:
        return
    obj = ctx.obj
    day = on.date() if on else dt.date.today()
    with open_workspace(obj, lock=False) as (ws, archive):
        found = standings(archive, obj.config, day)
    rows = [[s.branch, "可以查询" if s.allowed else "不能查询", s.reason() or EMPTY] for s in found]
    click.echo(f"{day:%Y-%m-%d} 档案查询权限\n" + table([label("branch"), label("state"), label("reasons_access")],
                                                       rows))


@access_group.command("log")
@click.pass_obj
def access_log(obj: Context):
    """查询记录：每次为分子公司导出档案的时间、单位、批准人、范围、行数与文件。"""
    with open_workspace(obj, lock=False) as (ws, archive):
        log = archive.access_log()
    if log.empty:
        click.echo("还没有分子公司查询客户档案的记录。")
        return
    rows = [[r.at, r.on_date, r.branch, r.approved_by, labels.SCOPES.get(r.scope, r.scope), r.rows, r.file]
            for r in log.itertuples()]
    click.echo(table([label(k) for k in ("at", "on_date", "branch", "approved_by", "scope", "rows", "file")], rows))


COMMANDS = [init, ingest, status, monthly, archive_group, review, access_group]

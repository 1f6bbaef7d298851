"""The demonstration: the whole sample year, month by month, in a throwaway workspace."""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

from schemas.labels import OUTCOMES

from ..archive.store import Archive
from ..archive.workspace import Workspace
from ..config import load_config
from ..periods import Period
from ..routine import run_monthly


def _received_times(samples: Path) -> dict[str, dt.datetime]:
    """Received time per sample file (relative path) from the manifest."""
    manifest = samples / ".manifest.json"
    if not manifest.exists():
        return {}
    data = json.loads(manifest.read_text(encoding="utf-8"))
    files = data.get("files", data) if isinstance(data, dict) else data
    items = files.items() if isinstance(files, dict) else ((f.get("path") or f.get("file"), f)
                                                           for f in files)
    out = {}
    for name, entry in items:
        if name and entry.get("received_at"):
            out[str(name)] = dt.datetime.fromisoformat(entry["received_at"])
    return out


def _deliver(source: Path, inbox: Path, when: dt.datetime | None) -> None:
    """Copy a sample into the inbox as if e-mailed at ``when`` (its mtime)."""
    target = inbox / source.name
    shutil.copy2(source, target)
    if when is not None:
        stamp = when.timestamp()
        os.utime(target, (stamp, stamp))


# The demo's recipients: addresses under example.com (reserved for examples), so nothing can reach anyone.
DEMO_BRANCH_MAILBOXES = {"华东分公司": "huadong", "华南分公司": "huanan", "华北分公司": "huabei", "华中分公司": "huazhong",
                         "西南分公司": "xinan", "西北分公司": "xibei", "东北分公司": "dongbei", "基础设施分公司": "jichu"}


def demo_recipients(branches: list[str]) -> str:
    """[[mail.recipients]] for the demo workspace: a leader, the department and one mailbox per branch."""
    entries = ['[[mail.recipients]]\nname = "集团公司分管领导"\naddress = "leader@example.com"\nrole = "领导"\n',
               '[[mail.recipients]]\nname = "市场营销部"\naddress = "marketing@example.com"\nrole = "市场营销部"\n']
    for n, branch in enumerate(branches):
        box = DEMO_BRANCH_MAILBOXES.get(branch, f"branch{n + 1}")
        entries.append(f'[[mail.recipients]]\nname = "{branch}经营部"\naddress = "{box}@example.com"\n'
                       f'role = "分子公司"\nbranch = "{branch}"\n')
    return "\n# 演示用收件人（example.com 地址，不会送达任何人）\n" + "\n".join(entries)


def run_demo(samples: Path, out: Path, echo=print) -> dict[str, list[Path]]:
    """Ingest every month of ``samples`` into ``out/workspace``, write all reports and a dry-run outbox."""
    if out.exists():
        shutil.rmtree(out)
    ws = Workspace(out / "workspace")
    ws.init()
    config = load_config(ws.config_path)
    text = ws.config_path.read_text(encoding="utf-8").replace('from = ""', 'from = "crm@example.com"', 1)
    ws.config_path.write_text(text + demo_recipients(config.branches), encoding="utf-8")
    config = load_config(ws.config_path)
    times = _received_times(samples)
    months = sorted(p for p in samples.iterdir() if p.is_dir() and p.name[:4].isdigit())
    reports: dict[str, list[Path]] = {"monthly": []}
    with ws.lock(), Archive(ws.archive_path, journal=ws.journal,
                            similarity_threshold=config.get("review", "similarity_threshold")) as archive:
        for month in months:
            design = None
            if month == months[-1] and len(months) > 1:  # the last month: pre-filled workbooks
                design = _prefilled_month(ws, archive, config, month, samples, times, echo, reports)
            for source in sorted(month.iterdir()):
                if source.is_file() and not (design and source.name == design[1]):
                    rel = str(source.relative_to(samples))
                    _deliver(source, ws.inbox, times.get(rel) or times.get(source.name))
            outcomes, data, path = run_monthly(ws, archive, config, period=month.name)
            counts = {key: sum(o.status == key for o in outcomes) for key in OUTCOMES}
            shown = "，".join(f"{OUTCOMES[k]} {n}" for k, n in counts.items() if n)
            ignored = "；".join(f"{o.file}：{o.note.removeprefix('已忽略：').rstrip('。')}" for o in outcomes
                               if o.status == "ignored")
            echo(f"{month.name}：收到 {len(outcomes)} 个文件（{shown}），"
                 f"新增客户 {data.new_customer_count} 家" + (f"；忽略的是 {ignored}" if ignored else ""))
            if design:
                from .prefill_demo import check
                problems = check(archive, month.name, design[0])
                echo(f"{month.name}：{design[0].renamed[1]} 更名为 {design[0].renamed[2]}（同一档案 "
                     f"{design[0].renamed[0]}）、修改联系电话 1 处、新增客户 1 家，其余行无变化——"
                     + ("与设计一致" if not problems else "与设计不符：" + "；".join(problems)))
            reports["monthly"].append(path)
        reports.update(_year_end(ws, archive, config, months[-1].name if months else None, samples, echo))
    return reports


def shown_path(path: Path) -> str:
    """A path as the user can open it: from the folder the command was run in, when it lies within."""
    path = Path(path).resolve()
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def _prefilled_month(ws: Workspace, archive, config, month: Path, samples: Path, times: dict, echo,
                     reports: dict) -> tuple | None:
    """Write every branch's pre-filled workbook for the month; the designed branch returns its own edited."""
    from .prefill_demo import BRANCH, edited_return, write_all
    reports["prefilled"] = write_all(ws, archive, config, month.name, echo)
    sample = next((p for p in sorted(month.iterdir()) if p.name == f"{BRANCH}_{month.name}_客户信息统计表.xlsx"), None)
    prefilled = next((p for p in reports["prefilled"] if p.name.startswith(BRANCH)), None)
    if sample is None or prefilled is None:
        return None
    when = times.get(str(sample.relative_to(samples))) or times.get(sample.name)
    design = edited_return(prefilled, sample, ws.inbox, when)
    echo(f"{month.name}：{BRANCH}用预填表报送（代替样例中的 {sample.name}），改了一个客户名称、一个联系电话，新增一个客户")
    return design, sample.name


def _assessments(ws: Workspace, archive, config, year: int, samples: Path, echo) -> dict[str, list[Path]]:
    """Both half-years' branch assessments; the first half applied as designed, its consequences shown."""
    import datetime as dt

    from ..analysis.assessment import apply_decisions, assess, records
    from ..archive.access import standing
    from ..reports.archive_workbook import export_archive
    from ..reports.assessment import bulletin_frame, write_assessment_workbook, write_bulletin
    manifest = json.loads((samples / ".manifest.json").read_text(encoding="utf-8")) \
        if (samples / ".manifest.json").exists() else {}
    designed = manifest.get("designed", {}).get("assessment", {})
    notified = dt.date.fromisoformat(designed.get("notified", f"{year}-07-05"))
    out: dict[str, list[Path]] = {"assessment": []}
    for half in (f"{year}-H1", f"{year}-H2"):
        results = assess(archive, config, half)
        folder = ws.output / half
        out["assessment"].append(write_assessment_workbook(results, config, half,
                                                           folder / f"客户关系维护成效考核_{half}.xlsx"))
        if half.endswith("H1"):  # applied as proposed, notified on the designed day
            applied = apply_decisions(archive, config, half, {}, notified)
            archive.record_assessment(records(applied, half), "市场营销部")
            results = applied
        out["assessment"].append(write_bulletin(bulletin_frame(results, archive.assessments(half)), half,
                                                folder / f"考核通报_{half}.xlsx",
                                                official=len(archive.assessments(half)) > 0))
        counts = "，".join(f"{k} {int((results['result'] == k).sum())}" for k in ("优良", "合格", "差"))
        echo(f"{half} 考核：{counts}")
    poor = designed.get("poor")
    if poor:
        for day in (dt.date(year, 7, 20), dt.date(year, 8, 12)):
            state = standing(archive, config, poor, day)
            if not state.allowed:
                echo(f"{day}：{poor} 申请查询客户档案，被拒绝：{state.reason()}")
                continue
            path, rows = export_archive(archive, ws.output / "查询" / f"{poor}_客户档案_{day:%Y%m%d}.xlsx",
                                        branch=poor, scope="own", config=config)
            archive.record_access({"branch": poor, "approved_by": "集团公司分管领导", "scope": "own", "rows": rows,
                                   "file": path.relative_to(ws.root).as_posix(), "on_date": day.isoformat()})
            echo(f"{day}：{poor} 经批准查询客户档案，导出 {rows} 行（已记入查询记录）")
            out.setdefault("extract", []).append(path)
    return out


def _year_end(ws: Workspace, archive, config, last_period: str | None, samples: Path,
              echo) -> dict[str, list[Path]]:
    """Archive export and duplicate review after the last month."""
    from ..archive.review import export_review
    from ..reports.archive_workbook import export_archive
    out: dict[str, list[Path]] = {}
    if last_period is None:
        return out
    out["archive"] = [export_archive(archive, ws.output / "客户档案总表.xlsx", config=config)[0]]
    out["review"] = [export_review(archive, ws.output / "疑似重复客户.xlsx")]
    year = int(last_period[:4])
    out["grades"] = _half_year_adjustments(ws, archive, config, year)
    out.update(_assessments(ws, archive, config, year, samples, echo))
    out["period"] = _period_reports(ws, archive, config, year)
    out["outbox"] = _distribution(ws, archive, config, year, echo)
    from ..reports.strategic_list import write_strategic_list
    out["strategic"] = [write_strategic_list(archive, config, year,
                                             ws.output / str(year) / f"战略客户名单_{year}.xlsx")[0]]
    return out


def _period_reports(ws: Workspace, archive, config, year: int) -> list[Path]:
    """The four quarterly, two half-year and the annual report."""
    from ..reports.period import period_report
    periods = [f"{year}-Q{q}" for q in range(1, 5)] + [f"{year}-H1", f"{year}-H2", str(year)]
    return [period_report(archive, config, p, ws.output, today=dt.date(year, 12, 31)) for p in periods]


def _distribution(ws: Workspace, archive, config, year: int, echo) -> list[Path]:
    """Dry runs of the mail for the October month, the third quarter and the first half, each on its day."""
    from ..distribution.run import distribute
    from ..reports.period import period_report
    runs = ((f"{year}-10", dt.date(year, 10, 27)), (f"{year}-Q3", dt.date(year, 10, 10)),
            (f"{year}-H1", dt.date(year, 7, 10)))
    out = []
    for period, day in runs:
        if Period.parse(period).kind != "month":  # a quarter or half: the branches' editions go by mail
            for branch in config.branches:
                period_report(archive, config, period, ws.output, today=dt.date(year, 12, 31), branch=branch)
        result = distribute(ws, archive, config, period, on=day)
        kinds = "、".join(f"{k} {n}" for k, n in _counts(result).items())
        echo(f"{period} 邮件演练（{day}）：{kinds}，写入 {shown_path(result.outbox)}")
        out.append(result.outbox)
    return out


def _counts(result) -> dict[str, int]:
    from schemas.labels import MAIL_KINDS
    counts: dict[str, int] = {}
    for mail in result.mails:
        if mail.eml is not None:
            counts[MAIL_KINDS[mail.kind]] = counts.get(MAIL_KINDS[mail.kind], 0) + 1
    return counts


def _half_year_adjustments(ws: Workspace, archive, config, year: int) -> list[Path]:
    """Propose both half-yearly adjustments and apply them as proposed (采纳 throughout)."""
    from ..analysis.adjustment import read_adjustment_decisions, write_adjustment_proposal
    from ..reports.grade_lists import write_grade_lists
    paths = []
    for half in (f"{year}-H1", f"{year}-H2"):
        path, proposal = write_adjustment_proposal(archive, config, half,
                                                   ws.output / half / f"等级调整建议_{half}.xlsx")
        rows, _, _ = read_adjustment_decisions(path, half, proposal)
        archive.record_grade_adjustments(rows, replacing=half)
        paths.append(path)
    end = f"{year}-12"
    paths.append(write_grade_lists(archive, config, end, ws.output / end / f"客户分级清单_{end}.xlsx")[0])
    return paths

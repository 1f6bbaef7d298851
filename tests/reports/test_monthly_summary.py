"""The monthly summary reads the archive in parts of customers: the figures are those of the whole archive."""
from __future__ import annotations

import pandas as pd
import pytest

from pipeline.archive import Archive
from pipeline.config import load_config
from pipeline.reports.monthly import monthly_summary

FIGURES = ("status", "files", "new_customers", "changes", "conflicts", "complaints", "contacts")


@pytest.mark.parametrize("period", ["2026-03", "2026-09", "2026-12"])
def test_parts_of_a_few_customers_give_the_whole_archive_s_figures(sample_year, monkeypatch, period):
    config = load_config(sample_year.config_path)
    with Archive(sample_year.archive_path) as archive:
        whole = monthly_summary(archive, config, period)
        monkeypatch.setattr(Archive, "SNAPSHOT_PART", 4)
        parts = list(archive.snapshot_parts(period))
        in_parts = monthly_summary(archive, config, period)
        full = archive.snapshot(period)
    assert len(parts) > 3
    customers = pd.concat([p["customers"] for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(customers, full["customers"])
    for entity in ("customer_branches", "projects", "complaints", "visits"):  # every record in one part
        assert sum(len(p[entity]) for p in parts) == len(full[entity])
    assert len(whole.new_customers) and len(whole.contacts)  # figures worth comparing
    for name in FIGURES:
        pd.testing.assert_frame_equal(getattr(in_parts, name), getattr(whole, name), obj=name)


def test_the_summary_reads_in_parts_inside_a_command_s_read_transaction(sample_year):
    """Commands that only read the archive hold one read transaction (``Archive.reading``); the parts are read
    inside it, not in a transaction of their own."""
    config = load_config(sample_year.config_path)
    with Archive(sample_year.archive_path) as archive:
        with archive.reading():
            inside = monthly_summary(archive, config, "2026-10")
            assert archive.conn.in_transaction
        assert not archive.conn.in_transaction
        outside = monthly_summary(archive, config, "2026-10")
    for name in FIGURES:
        pd.testing.assert_frame_equal(getattr(inside, name), getattr(outside, name), obj=name)


class _FailingPool:
    """A stand-in for the workers whose every part fails (a worker that died, or a bug there)."""

    def __init__(self):
        self.asked = 0

    def submit(self, fn, *args):
        from concurrent.futures import Future
        self.asked += 1
        future = Future()
        future.set_exception(RuntimeError("a worker died"))
        return future


@pytest.mark.parametrize("real", [True, False])
def test_parts_shared_with_the_workers_give_the_same_figures(sample_year, monkeypatch, real):
    """The workers read their shares of the archive themselves; a share they fail on is done in this process."""
    from types import SimpleNamespace

    from pipeline.intake import worker
    from pipeline.intake.worker import PARALLEL_FROM, Workers
    from pipeline.reports import monthly
    config = load_config(sample_year.config_path)
    with Archive(sample_year.archive_path) as archive:
        alone = monthly_summary(archive, config, "2026-09")
        monkeypatch.setattr(worker, "SHARED_FROM", 2)
        monkeypatch.setattr(Archive, "SNAPSHOT_PART", 5)
        answered = []

        def answer(future, done=monthly._answer):
            result = done(future)
            answered.append(result is not None)
            return result
        monkeypatch.setattr(monthly, "_answer", answer)
        with Workers() as workers:
            if real:
                workers.start(PARALLEL_FROM)
            else:
                workers = SimpleNamespace(pool=_FailingPool(), count=1)
            shared = monthly_summary(archive, config, "2026-09", workers)
            if not real:
                assert workers.pool.asked == 1  # the worker's share was asked for
    assert answered == [real]  # the worker's figures were used, or done here
    for name in FIGURES:
        pd.testing.assert_frame_equal(getattr(shared, name), getattr(alone, name), obj=name)


def test_the_parts_are_even_and_the_shares_cover_every_customer(sample_year):
    """Parts are even and at most so many customers; the summary's shares (one per process) cover every id in
    proportion to their weights, or are one when there are too few customers to share; parts of a share stay in it."""
    from pipeline.archive.store import EVERY_ID
    with Archive(sample_year.archive_path) as archive:
        every = [cid for (cid,) in archive.conn.execute("SELECT id FROM customers ORDER BY id")]

        def sizes(bounds):
            return [sum(low <= cid <= high for cid in every) for low, high in bounds]

        for customers in (5, len(every)):
            bounds = archive.snapshot_bounds(None, customers)
            assert len(bounds) == -(-len(every) // customers)
            assert sum(sizes(bounds)) == len(every) and max(sizes(bounds)) <= customers
            assert max(sizes(bounds)) - min(sizes(bounds)) <= 1
        shares = archive.share_bounds(None, [0.9, 1.0])
        assert shares[0][0] == EVERY_ID[0] and shares[-1][1] == EVERY_ID[1] and shares[0][1] + 1 == shares[1][0]
        assert sum(sizes(shares)) == len(every) and abs(sizes(shares)[0] - len(every) * 0.9 / 1.9) <= 1
        assert archive.share_bounds(None, [0.9, 1.0], least=len(every)) == [EVERY_ID]  # too few to share
        inner = archive.snapshot_bounds(None, 4, within=shares[1])
        assert inner[0][0] == shares[1][0] and inner[-1][1] == shares[1][1]
        assert all(a[1] + 1 == b[0] for a, b in zip(inner, inner[1:])) and sum(sizes(inner)) == sizes(shares)[1]


@pytest.mark.parametrize("period", ["2026-03", "2026-09", "2026-12"])
def test_reading_only_the_customers_the_figures_can_name_gives_the_same_figures(sample_year, tmp_path, monkeypatch,
                                                                                period):
    """The summary reads in full only the strategic customers and those that may be A (every complaint besides),
    and of the month's new customers only what it shows: its figures are those of reading every customer, also
    for a customer a half-yearly adjustment made A whose fields are not A's, for one whose fields were A's then
    but changed later, and for a new customer renamed later (shown by its name then)."""
    import json
    import shutil

    from pipeline.analysis.grading import rule_grades
    from pipeline.reports import monthly
    from pipeline.reports.monthly import summary_customers
    from schemas.labels import REMINDERS
    config = load_config(sample_year.config_path)
    shutil.copy(sample_year.archive_path, tmp_path / "archive.sqlite")
    with Archive(tmp_path / "archive.sqlite") as archive:
        before = monthly_summary(archive, config, period)
        planned = before.contacts.loc[before.contacts["reminder"] == REMINDERS["a_plan"], "name"]
        assert len(planned)
        names = {cid: json.loads(data)["name"] for cid, data in archive.conn.execute("SELECT id, data FROM customers")}
        ids = {name: cid for cid, name in names.items()}
        changed = ids[planned.iloc[0]]  # A then; a later month's file says its integrity is bad
        renamed = archive.conn.execute("SELECT id, json_extract(data, '$.name') FROM customers WHERE first_period = ? "
                                       "ORDER BY id DESC", (period,)).fetchone()  # new in the month; renamed later
        with archive.transaction():
            archive.conn.execute("UPDATE customers SET data = json_set(data, '$.integrity', '不良') WHERE id = ?",
                                 (changed,))
            archive.conn.execute("UPDATE customers SET data = json_set(data, '$.name', '后来改的名字') WHERE id = ?",
                                 (renamed[0],))
            archive.conn.executemany(
                "INSERT INTO history (entity, entity_key, customer_id, branch, field, old, new, period) "
                "VALUES ('customer', ?, ?, NULL, ?, ?, ?, '2027-01')",
                [(str(changed), changed, "integrity", '"良好"', '"不良"'),
                 (str(renamed[0]), renamed[0], "name", json.dumps(renamed[1], ensure_ascii=False), '"后来改的名字"')])
        snap = archive.snapshot(period)
        rules = rule_grades(snap, config, period)
        january = set(snap["customers"].loc[snap["customers"]["first_period"] == "2026-01", "customer_id"])
        made_a = int(rules.loc[(rules["rule_grade"] == "C") & (rules["integrity"] == "不良")
                               & rules["customer_id"].isin(january), "customer_id"].iloc[0])
        archive.record_grade_adjustments([{"customer_id": made_a, "period": "2025-H2", "effective_period": "2026-01",
                                           "old_grade": "C", "new_grade": "A"}])
        with archive.transaction():  # to be visited monthly since January: overdue by the month, never visited
            archive.conn.execute("UPDATE customers SET data = json_set(data, '$.social_value', '高') WHERE id = ?",
                                 (made_a,))
        wanted = archive.customers_where(period, summary_customers(config))
        [archived] = archive.conn.execute("SELECT COUNT(*) FROM customers WHERE first_period <= ?",
                                          (period,)).fetchone()
        read_some = monthly_summary(archive, config, period)
        monkeypatch.setattr(monthly, "summary_customers", lambda config: [{}])  # every customer
        assert archive.customers_where(period, monthly.summary_customers(config)) != wanted
        read_all = monthly_summary(archive, config, period)
        full = archive.snapshot(period)
    customers, links = full["customers"], full["customer_branches"]  # the month's new customers, from every customer
    expected = customers[customers["first_period"] == period].merge(
        links[links["first_period"] == period][["customer_id", "branch", "stage"]], on="customer_id", how="left")[
        ["customer_id", "name", "uscc", "branch", "nature", "stage", "region"]].sort_values(
        ["branch", "name"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(read_some.new_customers, expected)
    assert renamed[1] in set(expected["name"]) and "后来改的名字" not in set(expected["name"])
    assert 0 < len(wanted) < archived and {changed, made_a} <= set(wanted)
    planned_now = set(read_some.contacts.loc[read_some.contacts["reminder"] == REMINDERS["a_plan"], "name"])
    assert planned.iloc[0] in planned_now
    assert names[made_a] in planned_now
    for name in FIGURES:
        pd.testing.assert_frame_equal(getattr(read_some, name), getattr(read_all, name), obj=name)



def test_parts_of_some_customers_are_even_in_those_and_still_cover_every_id(sample_year):
    """Parts counted in the customers read in full (``among``) still cover every id: the others' complaints
    are read too."""
    with Archive(sample_year.archive_path) as archive:
        every = [cid for (cid,) in archive.conn.execute("SELECT id FROM customers ORDER BY id")]
        some = every[::3]
        bounds = archive.snapshot_bounds(None, 4, among=some)
    assert len(bounds) == -(-len(some) // 4) and len(bounds) < -(-len(every) // 4)
    sizes = [sum(low <= cid <= high for cid in some) for low, high in bounds]
    assert max(sizes) <= 4 and max(sizes) - min(sizes) <= 1
    assert sum(sum(low <= cid <= high for cid in every) for low, high in bounds) == len(every)


def test_a_file_s_findings_beyond_the_first_three_are_counted(tmp_path):
    """The list of files quotes three findings of a file; when it has more, it says how many."""
    from builders import crm, example_row, write_submission
    from pipeline.archive.workspace import Workspace
    ws = Workspace(tmp_path / "ws")
    ws.init()
    write_submission(ws.inbox / "华东分公司_2026-10_x.xlsx",
                     customers=[example_row("customers", name=f"客户{n}有限公司", uscc=str(n)) for n in range(5)])
    assert crm(ws.root, "monthly", "--period", "2026-10").exit_code == 0
    with Archive(ws.archive_path) as archive:
        files = monthly_summary(archive, load_config(None), "2026-10").files
    [top] = files["top"].tolist()
    assert top.count("；") == 2 and top.endswith("（共 5 处，只列前 3 处）"), top


def test_the_complaint_sheet_states_the_time_limits_in_force(tmp_path):
    """The note under 投诉时限 gives crm.toml's hours as figures (it said 24 and 48, whatever was configured)."""
    import openpyxl

    from builders import crm, example_row, write_submission
    from pipeline.archive.workspace import Workspace
    ws = Workspace(tmp_path / "ws")
    ws.init()
    toml = ws.config_path.read_text(encoding="utf-8")
    ws.config_path.write_text(toml.replace("response_hours = 24", "response_hours = 12"), encoding="utf-8")
    write_submission(ws.inbox / "华东分公司_2026-10_x.xlsx", customers=[example_row("customers")])
    assert crm(ws.root, "monthly", "--period", "2026-10").exit_code == 0
    note = openpyxl.load_workbook(ws.output / "2026-10" / "月度汇总_2026-10.xlsx")["投诉时限"]["A2"].value
    assert "收到投诉后 12 小时内首次响应，处理完成后 48 小时内反馈结果" in note and "crm.toml" not in note


def test_one_message_on_several_cells_is_quoted_once_with_its_cells():
    from pipeline.reports.monthly import _top_findings
    same = "未填写统一社会信用代码，将按名称匹配客户。建议补充 18 位代码。"
    findings = [{"cell": f"客户信息!C{r}", "message": same} for r in (5, 7, 19, 20, 21, 22, 23)]
    findings.append({"cell": "合作项目!F3", "message": "“合同金额（万元）”不能为负数。"})
    top = _top_findings(findings)
    assert top == ("客户信息!C5、C7、C19、C20、C21 等 7 处：未填写统一社会信用代码，将按名称匹配客户。建议补充 18 位代码；"
                   "合作项目!F3：“合同金额（万元）”不能为负数")

"""A deterministic year of sample submissions (`make samples` → input_samples/).

Eight branches send a workbook every month of 2026 (the whole current
customer and project tables, plus the month's surveys, complaints and visits;
a messy file lacks the 投诉记录 sheet and its complaints come the next month),
with the changes a real year brings: new customers, stages moving, projects
progressing, an integrity record turning bad. Around them: messy-but-valid
files, invalid files, a late file, a missing month, "no change" submissions,
a rejected file and its correction, a resubmission, a duplicate file and an
Excel lock file. .manifest.json says, per file, when it was received and what
verdict it is designed to get.
"""
from __future__ import annotations

import datetime as dt
import json
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import xlsxwriter

from schemas.columns import COVER, DATA_SHEETS, IGNORED, WORKBOOK_TITLE

from ..config import defaults
from ..excel import XLSX_OPTIONS, write_cell
from ..identity import make_uscc, uscc_check_char

YEAR = 2026
UNDER_VISITED_GAPS = (3, 6, 9, 10)
SEED = 20260101
FIXED = dt.datetime(2026, 1, 1)
MANIFEST = ".manifest.json"  # hidden: crm validate lists it as ignored, not as a bad file

BRANCH_CODES = {"华东分公司": ("HD", "310115", "上海市"), "华南分公司": ("HN", "440106", "广州市"),
                "华北分公司": ("HB", "110105", "北京市"), "华中分公司": ("HZ", "420106", "武汉市"),
                "西南分公司": ("XN", "510107", "成都市"), "西北分公司": ("XB", "610113", "西安市"),
                "东北分公司": ("DB", "210102", "沈阳市"), "基础设施分公司": ("JC", "320102", "南京市")}
CITY_WORDS = {"上海市": "浦江", "广州市": "珠江", "北京市": "京华", "武汉市": "江城", "成都市": "蓉城",
              "西安市": "长安", "沈阳市": "盛京", "南京市": "金陵"}
KINDS = [("城市建设投资有限公司", "政府类", "城市基础设施投资"), ("置业有限公司", "社会类", "房地产开发"),
         ("房地产开发有限公司", "社会类", "房地产开发"), ("交通投资集团有限公司", "政府类", "交通建设"),
         ("水务集团有限公司", "政府类", "水务"), ("人民医院", "政府类", "医疗卫生"),
         ("职业技术学院", "政府类", "教育"), ("产业园开发有限公司", "社会类", "园区开发"),
         ("（中国）投资有限公司", "外资类", "商业地产"), ("建工集团有限公司", "系统内", "建筑施工")]
PREFIXES = ["新城", "华远", "恒通", "瑞和", "锦程", "宏达", "东方", "天元", "鼎盛", "安泰", "博远", "中和",
            "联创", "嘉禾", "永安", "通达", "信诚", "海晟", "金穗", "明德", "广厦", "润泽", "长兴", "华庭",
            "福瑞", "盛世", "汇丰", "德润", "银河", "星辰", "凯旋", "宝利", "远航", "正源", "泰和", "弘毅"]
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林高罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞", "平", "刚"]
TITLES = ["工程部经理", "总经理", "副总经理", "项目总监", "基建处处长", "采购部经理", "董事长"]
STATUS_FLOW = ["跟踪", "投标", "中标", "在建", "竣工", "结算完成"]
PROJECT_WORDS = ["一期", "二期", "综合楼", "安置房", "商业中心", "产业园", "道路改造", "学校", "医院门诊楼"]


@dataclass
class Customer:
    name: str
    uscc: str | None
    nature: str
    industry: str
    region: str
    contact: str
    phone: str
    title: str
    first_year: int | None
    integrity: str = "良好"
    credit: str = "良好"
    social_value: str = "中"
    near_term_need: str = "有"
    demanding: str = "否"
    unreasonable: str = "无"
    own_problems: str = "无"
    stage: str = "意向客户"
    proposed: str = "B"
    strategic: str = "否"
    department: str = "第一项目经理部"
    email: str = ""
    under_visited: bool = False  # a strategic customer the branch neglects (for the visit-duty check)
    no_survey: bool = False      # never picked for a survey (a completed project left unsurveyed)
    steady: bool = False         # a designed A: its need and its margins stay what the design says
    projects: list = field(default_factory=list)

    def row(self) -> dict:
        return {"name": self.name, "uscc": self.uscc, "nature": self.nature, "industry": self.industry,
                "stage": self.stage, "strategic": self.strategic, "address": f"{self.region}某区建设路{len(self.name) * 7}号",
                "region": self.region, "contact": self.contact, "title": self.title, "phone": self.phone,
                "email": self.email, "first_year": self.first_year, "integrity": self.integrity,
                "credit": self.credit, "social_value": self.social_value,
                "near_term_need": self.near_term_need, "demanding": self.demanding,
                "unreasonable_complaints": self.unreasonable, "own_problems": self.own_problems,
                "proposed_grade": self.proposed,
                "specialist": "营销专员" + self.contact[0] if self.strategic == "是" else None,
                "liaison_leader": "副总经理" + self.contact[-1] if self.strategic == "是" else None,
                "department": self.department}


class Branch:
    """One branch's evolving tables across the year."""

    def __init__(self, name: str, rng: random.Random):
        self.name, self.rng = name, rng
        self.code, self.region_code, self.city = BRANCH_CODES[name]
        self.customers: list[Customer] = []
        self.contract_seq = 0
        self.complaint_seq = 0
        self.carried_complaints: list[dict] = []  # left out of a file, sent the next month
        self.carried: dict[str, list[dict]] = {}   # a month sent without data: its records come next month
        self.last_rows: dict[str, list[dict]] = {}  # this month's rows, for the special files built on them
        self.departments = [f"第{n}项目经理部" for n in "一二三"[: rng.choice((2, 3))]]

    def rows_copy(self) -> dict[str, list[dict]]:
        """This month's rows again (a second file of the same month is built on the same content)."""
        return {key: [dict(row) for row in rows] for key, rows in self.last_rows.items()}

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN) + self.rng.choice(["", *GIVEN])

    def new_customer(self, index: int, kind: int | None = None) -> Customer:
        rng = self.rng
        suffix, nature, industry = KINDS[kind if kind is not None else rng.randrange(len(KINDS))]
        word = CITY_WORDS[self.city]
        taken = {c.name for c in self.customers}
        start = (index * 7) % len(PREFIXES)
        candidates = [f"{self.city[:-1]}{word}{PREFIXES[(start + k) % len(PREFIXES)]}{suffix}"
                      for k in range(len(PREFIXES))]
        name = next((n for n in candidates if n not in taken),
                    f"{self.city[:-1]}{word}{index}号{suffix}")
        has_code = rng.random() > 0.08
        phone = (f"1{rng.choice('3589')}{rng.randrange(10**9):09d}" if rng.random() < 0.7
                 else f"0{rng.choice(['21', '20', '10', '27', '28', '29', '24', '25'])}-"
                      f"{rng.randrange(6000_0000, 8999_9999)}")
        customer = Customer(
            name=name, uscc=make_uscc(rng, self.region_code, "91" if nature != "政府类" else "12")
            if has_code else None, nature=nature, industry=industry, region=self.city,
            contact=self.person(), phone=phone, title=rng.choice(TITLES),
            first_year=rng.choice([None, None, 2012, 2016, 2018, 2020, 2022, 2024]),
            social_value=rng.choice(["高", "中", "中", "低"]), near_term_need=rng.choice(["有", "无"]),
            stage=rng.choice(["潜在客户", "意向客户", "跟踪客户", "签约客户", "已开发客户"]),
            department=rng.choice(self.departments))
        customer.email = f"{self.code.lower()}{index:03d}@{rng.choice(['163.com', 'qq.com', 'cjt.com.cn'])}"
        if customer.first_year:
            for _ in range(rng.choice((0, 1, 1, 2, 3))):
                customer.projects.append(self.new_project(customer, started=True))
        customer.proposed = propose_grade(customer, rng)
        return customer

    def new_project(self, customer: Customer, started: bool) -> dict:
        rng = self.rng
        self.contract_seq += 1
        amount = round(rng.uniform(300, 60000), 2)
        margin = rng.choice([0.02, 0.05, 0.08, 0.1, 0.12, -0.03])
        if customer.steady:
            margin = 0.1
        signed = dt.datetime(rng.choice((2022, 2023, 2024, 2025)), rng.randrange(1, 13), rng.randrange(1, 28))
        status = rng.choice(["中标", "在建", "在建", "竣工", "结算完成"]) if started else "跟踪"
        project = {"project_name": f"{customer.name[:6]}{rng.choice(PROJECT_WORDS)}",
                   "contract_no": f"{self.code}-{signed.year}-{self.contract_seq:04d}",
                   "project_type": rng.choice(["商业", "住宅", "住宅", "民用", "公共建筑", "工业", "基础设施"]),
                   "status": status, "payment": rng.choice(["正常", "正常", "正常", "延迟", "拖欠"]),
                   "department": customer.department, "_amount": amount, "_margin": margin,
                   "_signed": signed}
        self._finance(project)
        return project

    def _finance(self, project: dict) -> None:
        awarded = project["status"] not in ("跟踪", "投标", "终止")
        amount, margin, signed = project["_amount"], project["_margin"], project["_signed"]
        project["amount"] = amount if awarded or project["status"] == "投标" else None
        project["cost"] = round(amount * (1 - margin), 2) if awarded else None
        project["profit"] = round(amount - project["cost"], 2) if awarded else None
        project["net_profit"] = round(project["profit"] * 0.6, 2) if awarded else None
        project["signed_on"] = signed if awarded else None
        started = signed + dt.timedelta(days=30)
        project["started_on"] = started if project["status"] in ("在建", "竣工", "结算完成") else None
        project["completed_on"] = (project.get("_completed") or started + dt.timedelta(days=400)
                                   if project["status"] in ("竣工", "结算完成") else None)

    def advance(self, month: int) -> None:
        """A month passes: a few stages move, projects progress, a contact changes."""
        rng = self.rng
        for customer in self.customers:
            for project in customer.projects:
                if rng.random() < 0.06 and project["status"] in ("跟踪", "投标"):
                    project["status"] = "终止"
                    self._finance(project)
                elif rng.random() < 0.12 and project["status"] in STATUS_FLOW[:-1]:
                    project["status"] = STATUS_FLOW[STATUS_FLOW.index(project["status"]) + 1]
                    if project["status"] == "中标":
                        project["_signed"] = dt.datetime(YEAR, month, rng.randrange(1, 20))
                    self._finance(project)
            if rng.random() < 0.04:
                customer.contact, customer.phone = self.person(), f"139{rng.randrange(10**8):08d}"
            if rng.random() < 0.05:
                customer.stage = rng.choice(["签约客户", "已开发客户", "合作伙伴"])
            if rng.random() < 0.03 and customer.first_year and not customer.steady:
                customer.near_term_need = "有" if customer.near_term_need == "无" else "无"
        if rng.random() < 0.5 and self.customers:
            lead = rng.choice(self.customers)
            lead.projects.append(self.new_project(lead, started=False))

    def month_rows(self, month: int) -> dict[str, list[dict]]:
        rng = self.rng
        customers = [c.row() for c in self.customers]
        projects = []
        for c in self.customers:
            for p in c.projects:
                projects.append({"customer_name": c.name, "customer_uscc": c.uscc,
                                 **{k: v for k, v in p.items() if not k.startswith("_")}})
        surveys, complaints = [], []
        pool = [c for c in self.customers if not c.no_survey]
        for c in rng.sample(pool, min(3, len(pool))):
            items = rng.choices(["满意", "基本满意", "不满意"], weights=[76, 21, 3], k=3)
            surveys.append({"customer_name": c.name, "project_name": c.projects[0]["project_name"]
                            if c.projects else None, "surveyed_on": dt.datetime(YEAR, month, rng.randrange(3, 20)),
                            "customer_service": items[0], "engineering_quality": items[1],
                            "service_quality": items[2], "after_service": None,
                            "dissatisfaction_note": "现场文明施工有待加强" if "不满意" in items else None,
                            "surveyor": self.person()})
        if rng.random() < 0.6:
            c = rng.choice(self.customers)
            self.complaint_seq += 1
            at = dt.datetime(YEAR, month, rng.randrange(2, 18), rng.randrange(8, 18), 0)
            response = at + dt.timedelta(hours=rng.choice([2, 5, 20, 30]))
            resolved = response + dt.timedelta(days=rng.randrange(1, 6))
            complaints.append({"customer_name": c.name, "project_name": None,
                               "complaint_no": f"TS-{self.code}-{month:02d}{self.complaint_seq:02d}",
                               "complained_at": at, "complaint_type": rng.choice(["质量", "进度", "安全", "服务", "其他"]),
                               "content": rng.choice(["外墙渗水", "工期滞后", "施工噪音扰民", "交付资料不全"]),
                               "first_response_at": response, "resolved_at": resolved,
                               "feedback_at": resolved + dt.timedelta(hours=rng.choice([4, 20, 60])),
                               "unreasonable": "是" if rng.random() < 0.15 and not c.steady else "否",
                               "result": "已整改完毕", "customer_satisfied": rng.choice(["是", "是", "否"])})
        complaints, self.carried_complaints = self.carried_complaints + complaints, []
        carried, self.carried = self.carried, {}
        surveys, complaints = carried.get("surveys", []) + surveys, carried.get("complaints", []) + complaints
        visits = carried.get("visits", [])
        for c in self.customers:
            if c.strategic != "是":
                continue
            # Duty (seed 004): specialist monthly, liaison leader twice a year, main leader once.
            # An under-visited customer misses March, June, September and October and sees no main leader.
            if not (c.under_visited and month in UNDER_VISITED_GAPS):
                visits.append({"customer_name": c.name, "visited_on": dt.datetime(YEAR, month, rng.randrange(3, 22)),
                               "visitor": "营销专员" + c.contact[0], "visitor_level": "营销专员",
                               "channel": rng.choice(["电话沟通", "上门拜访"]), "summary": "例行沟通，了解项目需求"})
            if month in ((10,) if c.under_visited else (4, 10)):
                visits.append({"customer_name": c.name, "visited_on": dt.datetime(YEAR, month, 23),
                               "visitor": "副总经理" + c.contact[-1], "visitor_level": "联点领导",
                               "channel": "上门拜访", "summary": "高层交流，商谈年度合作"})
            if month == 7 and not c.under_visited:
                visits.append({"customer_name": c.name, "visited_on": dt.datetime(YEAR, 7, 15),
                               "visitor": "总经理刘建国", "visitor_level": "公司主要领导",
                               "channel": "客户会议", "summary": "拜访客户主要负责人，回顾合作并展望下半年"})
        return {"customers": customers, "projects": projects, "surveys": surveys,
                "complaints": complaints, "visits": visits}


def propose_grade(c: Customer, rng: random.Random) -> str:
    """The branch's own proposal: the rules' grade most of the time, its own view otherwise."""
    if not c.first_year or c.integrity == "不良" or "是" in (c.demanding,) or "有" in (
            c.unreasonable, c.own_problems) or c.credit == "差":
        grade = "C"
    elif c.integrity == c.credit == "良好" and c.social_value == "高" and c.near_term_need == "有":
        grade = "A"
    else:
        grade = "B"
    if rng.random() < 0.12:
        grade = {"A": "B", "B": rng.choice("AC"), "C": "B"}[grade]
    return grade


# -- writing ------------------------------------------------------------------

def _book(path: Path):
    book = xlsxwriter.Workbook(str(path), XLSX_OPTIONS)
    book.set_properties({"created": FIXED, "author": "分公司经营部"})
    return book, book.add_format({"num_format": "yyyy-mm-dd"}), book.add_format({"num_format": "yyyy-mm-dd hh:mm"})


def _put(ws, r: int, c: int, value, date_fmt, time_fmt) -> None:
    write_cell(ws, r, c, value, date_fmt=date_fmt, datetime_fmt=time_fmt)


def _cover(book, branch: str, period: str, changed: str, filled: dt.datetime, date_fmt, time_fmt) -> None:
    ws = book.add_worksheet(COVER.name)
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 24)
    values = {"branch": branch, "period": period, "filler": "经营部 张明", "phone": "021-68881234",
              "filled_on": filled, "changed": changed}
    for r, col in enumerate(COVER.columns):
        ws.write_string(r, 0, col.header)
        _put(ws, r, 1, values.get(col.key), date_fmt, time_fmt)


def write_standard(path: Path, branch: str, period: str, rows: dict[str, list[dict]], *,
                   changed: str = "有", filled: dt.datetime | None = None,
                   keep_empty: bool = True) -> None:
    """A submission laid out exactly like the template."""
    book, date_fmt, time_fmt = _book(path)
    filled = filled or dt.datetime(int(period[:4]), int(period[5:7]), 24)  # a day before the deadline
    _cover(book, branch, period, changed, filled, date_fmt, time_fmt)
    for sheet in DATA_SHEETS:
        data = rows.get(sheet.key, [])
        if not data and not keep_empty:
            continue
        ws = book.add_worksheet(sheet.name)
        for c, col in enumerate(sheet.columns):
            ws.write_string(0, c, col.header)
            ws.set_column(c, c, col.width or 12)
        for r, row in enumerate(data, 1):
            for c, col in enumerate(sheet.columns):
                _put(ws, r, c, r if col.kind == IGNORED else row.get(col.key), date_fmt, time_fmt)
    book.close()


FULL_WIDTH = str.maketrans("0123456789.,", "０１２３４５６７８９．，")
MONEY_GROUP = "财务数据（万元）"
MONEY_KEYS = ("amount", "cost", "profit", "net_profit")
EMPTY_MARKS = ("/", "-", "—")


def _messy_header(col) -> str:
    """The header as a submitter retyped it: aliases, units, stray spaces and line breaks."""
    variants = {"name": "客户单位 名称", "amount": "合同额\n(万元)", "cost": "成本(万元)",
                "profit": "利润（万元）", "net_profit": "净利润 （万元）"}
    return variants.get(col.key) or (col.aliases[0] if col.aliases else col.header)


def _messy_value(ws, r: int, c: int, col, value, i: int, date_fmt, time_fmt) -> None:
    """One cell typed the way people type it: numbers and dates as text, formulas, dashes."""
    if value is None:
        if col.kind != "enum" and not col.required and i % 3 == 0:
            ws.write_string(r, c, EMPTY_MARKS[(i // 3) % 3])
        return
    if col.kind == "number" and isinstance(value, float):
        form = i % 6
        if form == 1:
            ws.write_string(r, c, f"{value:,.2f}")
        elif form == 2:
            ws.write_formula(r, c, f"={value}*1", None, value)
        elif form == 3:
            ws.write_string(r, c, f"{value:.2f}".translate(FULL_WIDTH))
        elif form == 4 and value >= 0:
            ws.write_string(r, c, f"{value:g}万")
        else:
            ws.write_number(r, c, value)
    elif col.kind == "date" and isinstance(value, dt.datetime):
        if i % 4 == 3:
            ws.write_datetime(r, c, value, date_fmt)  # an Excel serial shown as a date
        else:
            forms = (f"{value.year}年{value.month}月{value.day}日", f"{value.year}/{value.month}/{value.day}",
                     f"{value.year}.{value.month}.{value.day}")
            ws.write_string(r, c, forms[i % 3])
    else:
        _put(ws, r, c, value, date_fmt, time_fmt)


def write_messy(path: Path, branch: str, period: str, rows: dict[str, list[dict]], filled: dt.datetime) -> None:
    """The same content the way real submitters type it (TEMPLATE.md's last section).

    No cover (branch from the 填报单位 line, month from the file name), a title
    row, alias and variant headers, a two-row header with a merged group label,
    another column order, blank rows, merged 所属项目部 cells, numbers and dates
    as text, formulas, dashes for blanks, a footer, the branch's own notes sheet,
    and no 投诉记录 sheet (the caller sends that month's complaints later).
    """
    book, date_fmt, time_fmt = _book(path)
    for sheet in DATA_SHEETS:
        if sheet.key == "complaints":
            continue  # a sheet the branch deleted
        data = rows.get(sheet.key, [])
        ws = book.add_worksheet(sheet.name if sheet.key != "customers" else "客户信息表")
        ws.merge_range(0, 0, 0, 6, WORKBOOK_TITLE)
        ws.write_string(1, 0, f"填报单位：{branch}  填报日期：{filled.year}年{filled.month}月{filled.day}日")
        cols = list(sheet.columns)
        if sheet.key == "surveys":
            cols = cols[:1] + cols[1:][::-1]  # another column order
        if sheet.key == "projects":
            # Money columns under a group label merged across them; the others merged over two rows.
            cols = [c for c in cols if c.key != "department"] + [sheet.column("department")]
            money = [i for i, c in enumerate(cols) if c.key in MONEY_KEYS]
            ws.merge_range(2, money[0], 2, money[-1], MONEY_GROUP)
            for c, col in enumerate(cols):
                if col.key in MONEY_KEYS:
                    ws.write_string(3, c, _messy_header(col))
                else:
                    ws.merge_range(2, c, 3, c, _messy_header(col))
            out_r = 4
            data = sorted(data, key=lambda row: row.get("department") or "")
        else:
            for c, col in enumerate(cols):
                ws.write_string(2, c, _messy_header(col))
            out_r = 3
        departments: list[tuple[int, str]] = []
        for i, row in enumerate(data, 1):
            if i == 3 and sheet.key != "projects":
                out_r += 1  # a blank row between blocks
            for c, col in enumerate(cols):
                value = i if col.kind == IGNORED else row.get(col.key)
                if sheet.key == "projects" and col.key == "department":
                    departments.append((out_r, value or ""))
                    continue
                _messy_value(ws, out_r, c, col, value, i, date_fmt, time_fmt)
            out_r += 1
        # 所属项目部 written once per run of rows, as a merged cell.
        dept_col = len(cols) - 1
        k = 0
        while k < len(departments):
            j = k
            while j + 1 < len(departments) and departments[j + 1][1] == departments[k][1]:
                j += 1
            first, last = departments[k][0], departments[j][0]
            if last > first:
                ws.merge_range(first, dept_col, last, dept_col, departments[k][1])
            elif departments[k][1]:
                ws.write_string(first, dept_col, departments[k][1])
            k = j + 1
        ws.write_string(out_r + 1, 0, "填表人：张明    审核人：李强")
    notes = book.add_worksheet("本单位备注")
    notes.write_string(0, 0, "本表为经营部内部留存说明，不属于报送内容。")
    notes.write_string(1, 0, "下月重点跟踪客户：见客户信息表备注列。")
    book.close()


# -- the year -----------------------------------------------------------------

def _received(rng: random.Random, month: int, late: bool = False) -> dt.datetime:
    day = rng.randrange(26, 29) if late else rng.randrange(18, 26)
    return dt.datetime(YEAR, month, day, rng.randrange(9, 18), rng.choice((0, 15, 30, 45)))


def generate_samples(out_dir: Path) -> list[Path]:
    """Write the sample year into ``out_dir`` (replacing what was there); return the files."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        for child in out_dir.iterdir():
            if child.is_dir() and child.name[:4].isdigit():
                shutil.rmtree(child)
        (out_dir / MANIFEST).unlink(missing_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    branches = [Branch(name, random.Random(rng.randrange(10**9))) for name in defaults()["roster"]["branches"]]
    for b in branches:
        for i in range(20):
            b.customers.append(b.new_customer(i))
        _designed_customers(b)
    _shared_customers(branches)
    manifest: dict[str, dict] = {}
    files: list[Path] = []

    def add(path: Path, when: dt.datetime, status: str, note: str, branch=None, period=None, codes=()):
        rel = str(path.relative_to(out_dir))
        manifest[rel] = {"received_at": when.isoformat(timespec="minutes"), "branch": branch,
                         "period": period, "expected_status": status, "expected_codes": list(codes),
                         "note": note}
        files.append(path)

    for month in range(1, 13):
        period = f"{YEAR}-{month:02d}"
        folder = out_dir / period
        folder.mkdir()
        for bi, b in enumerate(branches):
            if month > 1:
                b.advance(month)
                for _ in range(b.rng.choice((0, 1, 1, 2))):
                    b.customers.append(b.new_customer(len(b.customers)))
            _monthly_events(b, month)
            rows = b.month_rows(month)
            _designed_service(b, month, rows)
            b.last_rows = rows
            name = f"{b.name}_{period}_客户信息统计表.xlsx"
            if (bi, month) == (6, 5):
                b.carried = {k: rows[k] for k in ("surveys", "complaints", "visits")}
                continue  # 东北分公司 sends nothing in May: 未报 (May's records come with June)
            late = (bi + month) % 9 == 0
            when = _received(b.rng, month, late)
            note = "逾期报送" if late else "按时报送"
            if month in (3, 8) and bi in (2, 5):
                b.carried = {k: rows[k] for k in ("surveys", "complaints", "visits")}
                write_standard(folder / name, b.name, period, {}, changed="无", filled=when)
                add(folder / name, when, "accepted", "本月无变化（各数据表为空）", b.name, period)
                continue
            if bi == month % 8 and month not in (3, 8):
                write_messy(folder / name, b.name, period, rows, when)
                b.carried_complaints = rows["complaints"]  # the file has no 投诉记录 sheet
                add(folder / name, when, "accepted", "格式不规范但内容有效：无封面、标题行与填报单位行、别名及变体表头、"
                    "两行合并表头、列顺序不同、空行、合并的所属项目部、文本数字（千分位、全角、“万”）、"
                    "文本日期与日期序列号、公式、“/”“-”“—”表示空、页脚、本单位备注表、缺少投诉记录表", b.name, period)
                continue
            write_standard(folder / name, b.name, period, rows, filled=when)
            add(folder / name, when, "accepted", note, b.name, period)
        _special_files(folder, month, branches, add, rng)
        _documents(folder, month, add)
    (out_dir / MANIFEST).write_text(json.dumps(
        {"notes": "每个分公司每月报送当前完整的客户与项目表，以及本月新增的满意度调查、投诉与拜访记录；"
                  "格式不规范的样例文件没有投诉记录表，其投诉随次月报送。"
                  "received_at 为文件到达收件箱的时间（演示时据此设置文件修改时间）。"
                  "designed 为报表必须呈现的设计结果（截至 as_of 月末）。",
         "designed": designed_outcomes(branches), "files": manifest}, ensure_ascii=False, indent=2),
        encoding="utf-8")
    return files


def _designed_customers(b: Branch) -> None:
    """Customers whose grade the rules decide clearly: an A, several kinds of C."""
    a = b.customers[0]
    a.first_year, a.integrity, a.credit, a.social_value, a.near_term_need = 2015, "良好", "良好", "高", "有"
    a.strategic, a.stage, a.proposed = "是", "合作伙伴", "A"
    a.steady = True
    if not a.projects:
        a.projects.append(b.new_project(a, started=True))
    b.customers[1].strategic = "是"
    b.customers[1].first_year = b.customers[1].first_year or 2019
    b.customers[1].under_visited = b.name in ("华南分公司", "西南分公司")
    second_a = b.customers[12]  # a clear A that is not strategic
    second_a.first_year, second_a.integrity, second_a.credit = 2017, "良好", "良好"
    second_a.social_value, second_a.near_term_need, second_a.proposed = "高", "有", "A"
    second_a.steady = True
    if not second_a.projects:
        second_a.projects.append(b.new_project(second_a, started=True))
    for designed in (a, second_a):
        for project in designed.projects:
            project["_margin"], project["payment"] = 0.1, "正常"
            b._finance(project)
    stranger = b.customers[2]
    stranger.first_year, stranger.projects, stranger.stage, stranger.proposed = None, [], "潜在客户", "C"
    bad = b.customers[3]
    bad.first_year, bad.integrity, bad.proposed = 2018, "不良", "C"
    b.customers[4].demanding = "是"
    b.customers[5].own_problems = "有"


def _shared_customers(branches: list[Branch]) -> None:
    """Six customers reported by two branches under the same credit code."""
    for k in range(6):
        source, target = branches[k], branches[(k + 3) % len(branches)]
        original = source.customers[6 + k]
        if k < 2:  # a foreign-owned company: the other branch writes its brackets half-width
            original.name = f"{source.city[:-1]}{('嘉信', '瑞峰')[k]}（中国）投资有限公司"
            original.nature, original.industry = "外资类", "商业地产"
            original.uscc = make_uscc(source.rng, source.region_code)
        if original.uscc is None:
            original.uscc = make_uscc(source.rng, source.region_code)
        copy = Customer(**{**original.__dict__, "projects": [], "contact": target.person(),
                           "stage": "跟踪客户", "department": target.departments[0]})
        if "（" in copy.name:
            copy.name = copy.name.replace("（", "(").replace("）", ")")
        target.customers.append(copy)
    # The same credit code under a clearly different name (a conflict for review).
    renamed = branches[0].customers[9]
    if renamed.uscc is None:
        renamed.uscc = make_uscc(branches[0].rng, branches[0].region_code)
    branches[7].customers.append(Customer(**{**renamed.__dict__, "projects": [],
                                             "name": "上海申城实业发展有限公司"}))
    # Similar names without codes: one real duplicate, one pair of different companies.
    for b, name in ((branches[0], "上海申江市政工程建设有限公司"), (branches[1], "上海申江市政建设有限公司"),
                    (branches[3], "武汉江城恒通置业有限公司"), (branches[3], "武汉江城恒达置业有限公司")):
        twin = b.new_customer(len(b.customers), kind=0)
        twin.name, twin.uscc = name, None
        b.customers.append(twin)


# Service-quality outcomes the reports must show (recorded in the manifest's "designed" section).
DESIGNED_SERVICE = {
    "unanswered": ("华东分公司", "TS-HD-1099", dt.datetime(YEAR, 10, 9, 9, 0)),
    "not_fed_back": ("华中分公司", "TS-HZ-0999", dt.datetime(YEAR, 9, 10, 10, 0)),
    "in_handling": ("东北分公司", "TS-DB-1099", dt.datetime(YEAR, 10, 20, 10, 0)),
    "dissatisfied": ("西北分公司", dt.datetime(YEAR, 10, 14), "地下室渗水未彻底处理，要求返修"),
    "not_surveyed": ("基础设施分公司", dt.datetime(YEAR, 9, 15)),
    "a_visits": (2, 6),   # months the second clear A of each branch is visited (overdue by October)
}


def _designed_service(b: Branch, month: int, rows: dict[str, list[dict]]) -> None:
    """Complaints, a survey and visits with designed outcomes, added without touching the random draws."""
    if b.name == ASSESSMENT["poor"] and month in (4, 5, 6):  # the branch assessed 差 in the first half
        customer = b.customers[5]
        if month == 4:  # two complaints nobody answers (its May and June complaints only arrive in July)
            for day, number in ((10, "TS-DB-0498"), (20, "TS-DB-0499")):
                rows["complaints"].append({
                    "customer_name": customer.name, "project_name": None, "complaint_no": number,
                    "complained_at": dt.datetime(YEAR, 4, day, 9, 0), "complaint_type": "服务",
                    "content": "多次反映噪音无人答复", "first_response_at": None, "resolved_at": None,
                    "feedback_at": None, "unreasonable": "否", "result": None, "customer_satisfied": None})
        rows["surveys"].append({"customer_name": customer.name, "project_name": None,  # two 不满意 a month
                                "surveyed_on": dt.datetime(YEAR, month, 21), "customer_service": "不满意",
                                "engineering_quality": "不满意", "service_quality": "基本满意",
                                "after_service": None, "dissatisfaction_note": "沟通不及时，问题整改拖延",
                                "surveyor": "刘洋"})
    for kind in ("unanswered", "not_fed_back", "in_handling"):
        branch, number, at = DESIGNED_SERVICE[kind]
        if b.name != branch or at.month != month:
            continue
        customer = b.customers[6]
        response = None if kind == "unanswered" else at + dt.timedelta(hours=5)
        resolved = at + dt.timedelta(days=10, hours=7) if kind == "not_fed_back" else None
        rows["complaints"].append({
            "customer_name": customer.name, "project_name": None, "complaint_no": number, "complained_at": at,
            "complaint_type": "质量", "content": "屋面防水层起鼓漏水", "first_response_at": response,
            "resolved_at": resolved, "feedback_at": None, "unreasonable": "否",
            "result": "已安排返修" if resolved else None, "customer_satisfied": None})
    branch, day, note = DESIGNED_SERVICE["dissatisfied"]
    if b.name == branch and month == day.month:
        customer = b.customers[0]
        rows["surveys"].append({"customer_name": customer.name, "project_name": customer.projects[0]["project_name"],
                                "surveyed_on": day, "customer_service": "满意", "engineering_quality": "不满意",
                                "service_quality": "基本满意", "after_service": None,
                                "dissatisfaction_note": note, "surveyor": "陈静"})
    second_a = b.customers[12]
    if month in DESIGNED_SERVICE["a_visits"]:
        rows["visits"].append({"customer_name": second_a.name, "visited_on": dt.datetime(YEAR, month, 18),
                               "visitor": "项目经理" + second_a.contact[0], "visitor_level": "项目经理",
                               "channel": "现场沟通", "summary": "了解新项目计划"})


# The 2026-H1 branch assessment (notified 2026-07-05): one 优良, one 差, the others 合格.
ASSESSMENT = {
    "period": "2026-H1", "notified": "2026-07-05",
    "excellent": "华东分公司", "poor": "东北分公司",
    # analysis reports (due 06-01): received at these times; the poor branch's arrives in August
    "reports": {"华东分公司": "2026-05-28T10:00", "华南分公司": "2026-06-04T09:30", "华北分公司": "2026-06-03T16:00",
                "华中分公司": "2026-06-08T11:00", "西南分公司": "2026-06-02T15:00", "西北分公司": "2026-06-05T10:00",
                "东北分公司": "2026-08-10T09:00", "基础设施分公司": "2026-06-03T09:00"},
    # work summaries owed by 合格 and 差 (due 2026-07-12): 西北 never sends one, 华中 is late
    "summaries": {"华南分公司": "2026-07-09T10:00", "华北分公司": "2026-07-10T14:00", "华中分公司": "2026-07-15T09:00",
                  "西南分公司": "2026-07-08T11:00", "东北分公司": "2026-07-11T16:00", "基础设施分公司": "2026-07-12T17:00"},
    "suspended_until": "2026-08-04",
}


def _pdf(text: str) -> bytes:
    """A one-page PDF saying ``text`` (ASCII): what a branch's report file is, for the samples."""
    stream = f"BT /F1 14 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _documents(folder: Path, month: int, add) -> None:
    """The branches' half-yearly analysis reports and the work summaries the H1 assessment asks for."""
    half = ASSESSMENT["period"]
    for kind, dates in (("客户分析报告", ASSESSMENT["reports"]), ("客户关系维护工作总结", ASSESSMENT["summaries"])):
        for branch, when in dates.items():
            received = dt.datetime.fromisoformat(when)
            if received.month != month:
                continue
            path = folder / f"{branch}_{half}_{kind}.pdf"
            path.write_bytes(_pdf(f"{BRANCH_CODES[branch][0]} {half} {kind.encode('unicode_escape').decode()}"))
            add(path, received, "accepted", f"{half}{kind}", branch, half)
    if month == 12:  # the second half's reports, all before 31 December
        for day, (branch, (code, _, _)) in enumerate(BRANCH_CODES.items(), 15):
            path = folder / f"{branch}_{YEAR}-H2_客户分析报告.pdf"
            path.write_bytes(_pdf(f"{code} {YEAR}-H2"))
            add(path, dt.datetime(YEAR, 12, day, 10, 0), "accepted", f"{YEAR}-H2客户分析报告", branch, f"{YEAR}-H2")


def designed_outcomes(branches: list[Branch]) -> dict:
    """What the October 2026 reports must show, for the manifest and its tests."""
    by_name = {b.name: b for b in branches}
    unanswered, not_fed, handling = (DESIGNED_SERVICE[k] for k in ("unanswered", "not_fed_back", "in_handling"))
    branch, _, note = DESIGNED_SERVICE["dissatisfied"]
    survey_branch, completed = DESIGNED_SERVICE["not_surveyed"]
    return {
        "as_of": f"{YEAR}-10",
        "overdue_complaints": {unanswered[1]: "未响应", not_fed[1]: "未反馈",
                               "TS-DB-0498": "未响应", "TS-DB-0499": "未响应"},
        "open_complaints": {handling[1]: "处理中"},
        "dissatisfied": {"branch": branch, "customer": by_name[branch].customers[0].name, "dimension": "工程质量",
                         "note": note},
        "completed_not_surveyed": {"branch": survey_branch,
                                   "customer": by_name[survey_branch].customers[14].name,
                                   "completed_on": completed.strftime("%Y-%m-%d")},
        "strategic_specialist_missed": {b.name: [b.customers[1].name, [f"{m}月" for m in UNDER_VISITED_GAPS]]
                                        for b in branches if b.customers[1].under_visited},
        "strategic_all_met": {b.name: b.customers[0].name for b in branches},
        "a_visit_overdue": {b.name: b.customers[12].name for b in branches},
        "assessment": {**ASSESSMENT, "qualified": [b.name for b in branches if b.name not in (
            ASSESSMENT["excellent"], ASSESSMENT["poor"])]},
    }


def _monthly_events(b: Branch, month: int) -> None:
    """Designed changes the archive's history and the grade changes will show."""
    if month == 4 and len(b.customers) > 7:
        b.customers[7].integrity = "不良"
    if month == 6:
        b.customers[1].near_term_need = "有"
        b.customers[1].social_value = "高"
    if month == 9 and len(b.customers) > 8:
        b.customers[8].credit = "差"
    branch, completed = DESIGNED_SERVICE["not_surveyed"]
    if b.name == branch and month == completed.month:  # completed, and no survey follows
        customer = b.customers[14]
        customer.no_survey = True
        if not customer.projects:
            customer.projects.append(b.new_project(customer, started=True))
        project = customer.projects[0]
        project["status"], project["_completed"] = "竣工", completed
        project["_signed"] = min(project["_signed"], dt.datetime(YEAR - 1, 6, 1))
        b._finance(project)


def _special_files(folder: Path, month: int, branches: list[Branch], add, rng: random.Random) -> None:
    period = folder.name
    hd = branches[0]
    if month == 2:
        # a rejected file, corrected later in the month
        rows = branches[1].rows_copy()
        bad = [dict(r) for r in rows["customers"]]
        bad[0]["uscc"] = bad[0]["uscc"][:-1] + ("0" if bad[0]["uscc"][-1] != "0" else "1") if bad[0]["uscc"] else "91310115MA1K3YJ76X"
        bad[1]["nature"] = "民营"
        name = folder / f"{branches[1].name}_{period}_客户信息统计表.xlsx"
        good_path = name
        # the branch's regular file this month becomes the corrected resubmission
        corrected = folder / f"{branches[1].name}_{period}_客户信息统计表_更正.xlsx"
        good_path.rename(corrected)
        write_standard(name, branches[1].name, period, {**rows, "customers": bad})
        add(name, dt.datetime(YEAR, 2, 20, 10, 0), "rejected", "信用代码校验位错误、客户性质不在可选范围",
            branches[1].name, period, ["bad-uscc", "not-allowed"])
        add(corrected, dt.datetime(YEAR, 2, 24, 16, 0), "accepted", "退回后的更正重报", branches[1].name, period)
    if month == 3:
        lock = folder / f"~${hd.name}_{period}_客户信息统计表.xlsx"
        lock.write_bytes(b"\x0b\x00\xe5\xbc\xa0\xe6\x98\x8e" + b"\x00" * 154)
        add(lock, dt.datetime(YEAR, 3, 24, 9, 0), "ignored", "Excel 临时锁定文件，应被忽略")
    if month == 4:
        original = folder / f"{hd.name}_{period}_客户信息统计表.xlsx"
        dup = folder / f"{hd.name}_{period}_客户信息统计表(1).xlsx"
        shutil.copyfile(original, dup)
        add(dup, dt.datetime(YEAR, 4, 25, 11, 0), "accepted", "与同月已报文件完全相同，归档时应跳过",
            hd.name, period)
    if month == 5:
        rows = hd.rows_copy()
        rows["customers"][0] = {**rows["customers"][0], "specialist": None}
        rows["projects"].append({**(rows["projects"][0] if rows["projects"] else {}),
                                 "customer_name": rows["customers"][0]["name"], "project_name": "重复合同项目"})
        rows["projects"].append({"customer_name": rows["customers"][1]["name"], "project_name": "金额漏填项目",
                                 "contract_no": "HD-2026-9901", "project_type": "住宅", "status": "中标"})
        path = folder / f"海外分公司_{period}_客户信息统计表.xlsx"
        write_standard(path, "海外分公司", period, rows)
        add(path, dt.datetime(YEAR, 5, 22, 10, 0), "rejected",
            "不在花名册的单位；战略客户缺营销专员；合同编号重复；中标项目缺合同额",
            "海外分公司", period, ["unknown-branch", "conditional-required", "duplicate-row"])
    if month == 6:
        rows = branches[3].rows_copy()
        surveys = rows["surveys"] + [{"customer_name": rows["customers"][0]["name"], "surveyed_on": dt.datetime(YEAR, 6, 8),
                                      "customer_service": "不满意", "engineering_quality": "满意",
                                      "service_quality": "满意"}]
        customers = [dict(r) for r in rows["customers"]]
        customers[2]["phone"] = "1381234"
        path = folder / f"{branches[3].name}_{period}_客户信息统计表_补充.xlsx"
        write_standard(path, branches[3].name, period, {**rows, "customers": customers, "surveys": surveys})
        add(path, dt.datetime(YEAR, 6, 27, 15, 0), "rejected", "电话号码格式错误；不满意未填写说明",
            branches[3].name, period, ["bad-phone", "conditional-required"])
    if month == 7:
        path = folder / f"{hd.name}_{YEAR}-06_客户信息统计表.xlsx"
        rows = hd.rows_copy()
        write_standard(path, hd.name, period, rows)
        add(path, dt.datetime(YEAR, 7, 21, 9, 30), "rejected", "封面月份与文件名月份不一致",
            hd.name, period, ["source-conflict"])
        csv = folder / f"{branches[2].name}_{period}_客户信息.csv"
        csv.write_text("客户单位名称,统一社会信用代码,客户性质\n某公司,,社会类\n", encoding="utf-8")
        add(csv, dt.datetime(YEAR, 7, 22, 9, 30), "rejected", "CSV 文件，应使用模板", branches[2].name, period,
            ["csv-not-accepted"])
    if month == 8:
        b = branches[4]
        rows = b.rows_copy()
        customers = [dict(r) for r in rows["customers"]]
        customers[0]["uscc"] = _bad_org_check(customers[0]["uscc"] or make_uscc(rng, b.region_code))
        strategic = next(r for r in customers if r["strategic"] == "是" and r is not customers[0])
        strategic["liaison_leader"] = None
        path = folder / f"{b.name}_{period}_客户信息统计表_修订.xlsx"
        write_standard(path, b.name, period, {**rows, "customers": customers})
        add(path, dt.datetime(YEAR, 8, 24, 14, 0), "rejected",
            "信用代码中的组织机构代码校验位错误；战略客户未填联点领导", b.name, period,
            ["bad-uscc", "conditional-required"])
    if month == 9:
        fake = folder / f"{branches[4].name}_{period}_客户信息统计表（扫描件）.xlsx"
        fake.write_text("这是一份被改了扩展名的文本文件。", encoding="utf-8")
        add(fake, dt.datetime(YEAR, 9, 23, 10, 0), "rejected", "文本文件改名为 .xlsx", branches[4].name, period,
            ["not-a-workbook"])
    if month == 10:
        # a resubmission that corrects an accepted file: supersedes it
        b = branches[5]
        rows = b.rows_copy()
        rows["customers"][0]["contact"] = "更正联系人"
        path = folder / f"{b.name}_{period}_客户信息统计表_更正.xlsx"
        write_standard(path, b.name, period, rows, filled=dt.datetime(YEAR, 10, 26))
        add(path, dt.datetime(YEAR, 10, 26, 9, 0), "accepted", "已通过文件的更正重报，替换本单位本月先前的报送",
            b.name, period)
        # a supplement sent after the branch's accepted file, rejected (its feedback goes back by mail)
        b = branches[3]
        rows = b.rows_copy()
        customers = [dict(r) for r in rows["customers"]]
        customers[1]["email"] = "wang.jianguo#jc-invest.com"
        customers[4]["first_year"] = YEAR + 5
        path = folder / f"{b.name}_{period}_客户信息统计表_补充.xlsx"
        write_standard(path, b.name, period, {**rows, "customers": customers})
        add(path, dt.datetime(YEAR, 10, 25, 18, 0), "rejected", "电子邮箱格式错误；首次合作年份晚于本年",
            b.name, period, ["bad-email", "bad-year"])
    if month == 11:
        rows = branches[6].rows_copy()
        customers = [dict(r) for r in rows["customers"]]
        projects = [dict(p) for p in rows["projects"]]
        for p in projects:
            if p.get("started_on"):
                p["completed_on"] = p["started_on"] - dt.timedelta(days=10)
                break
        code = customers[0]["uscc"] or make_uscc(rng, "210102")
        customers[0]["uscc"] = customers[1]["uscc"] = code
        path = folder / f"{branches[6].name}_{period}_客户信息统计表_修订.xlsx"
        write_standard(path, branches[6].name, period, {**rows, "customers": customers, "projects": projects})
        add(path, dt.datetime(YEAR, 11, 28, 9, 0), "rejected", "竣工日期早于开工日期；同一信用代码出现两次",
            branches[6].name, period, ["date-order", "duplicate-row"])
    if month == 12:
        b = branches[7]
        rows = b.rows_copy()
        customers = [dict(r) for r in rows["customers"]]
        customers[3]["contact"] = None
        projects = [dict(p) for p in rows["projects"]]
        projects[0]["project_type"] = "市政"
        path = folder / f"{b.name}_{period}_客户信息统计表_补报.xlsx"
        write_standard(path, b.name, period, {**rows, "customers": customers, "projects": projects})
        add(path, dt.datetime(YEAR, 12, 22, 16, 30), "rejected", "必填的联系人为空；工程类型“市政”不在可选范围",
            b.name, period, ["required", "not-allowed"])


def _bad_org_check(code: str) -> str:
    """A credit code whose last character checks but whose organisation-code check (17th) does not."""
    wrong = next(ch for ch in "0123456789" if ch != code[16])
    first17 = code[:16] + wrong
    return first17 + uscc_check_char(first17)

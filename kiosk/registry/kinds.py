"""The registry kinds: each list's columns, keys, defaults and table (Art. 4-6, 15, 16)."""
from __future__ import annotations

from dataclasses import dataclass

from db.models import Conflict, InspectionRecord, Inspector, Item, Target, Training
from kiosk.errors import UserError


@dataclass(frozen=True)
class Column:
    field: str
    label: str
    type: str = "text"  # text lines int bool date datetime uscc choice percent strata
    required: bool = False
    max_len: int | None = None
    choices: tuple[str, ...] = ()
    words: tuple[str, str] = ("是", "否")  # how a bool is written on export
    minimum: int | None = None
    public: bool = True  # part of the public list (Art. 4, 5)
    doc: str = ""


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    doc: str = ""

    def col(self, name: str) -> Column:
        return next(c for c in self.columns if c.field == name)


TRUE_WORDS = {"是", "有", "1", "true", "yes", "y", "在用", "在岗", "有效", "正常", "启用", "√"}
FALSE_WORDS = {"否", "无", "0", "false", "no", "n", "停用", "离岗", "无效", "注销", "禁用", "×", ""}
SIZE_CLASSES = ("大型", "中型", "小型", "微型")
RISK_CLASSES = ("高", "较高", "中", "低")
METHODS = ("现场检查", "书面检查")
CRITERIA = ("special", "small_micro", "default")  # plus risk:<class>

KINDS: dict[str, Kind] = {
    "items": Kind("items", "随机抽查事项清单", (
        Column("code", "事项编码", required=True, max_len=32, doc="键，如 RS-01"),
        Column("name", "事项名称", required=True, max_len=200),
        Column("legal_basis", "检查依据", required=True),
        Column("content", "检查内容", "lines", required=True,
               doc="多个检查要点用竖线 | 分隔（文件中不能换行）"),
        Column("method", "检查方式", "choice", choices=METHODS, doc="现场检查 或 书面检查"),
        Column("category", "检查对象类别", required=True, max_len=64,
               doc="从哪一类检查对象中抽取，与检查对象名录的“类别”一致；“用人单位”也包括“用人单位-制造业”等细类"),
        Column("ratio_bp", "抽查比例", "percent", doc="百分数，如 1% 或 0.5%；默认 1%"),
        Column("frequency", "抽查频次", "int", minimum=1, doc="每年抽查次数，默认 3"),
        Column("lead_office", "责任股室", required=True, max_len=64),
        Column("offices", "可抽取股室", doc="多个用分号 ; 分隔；空为全部股室"),
        Column("departments", "联合检查部门", doc="多个用分号 ; 分隔"),
        Column("team_size", "每组检查人数", "int", minimum=2, doc="不少于 2，默认 2"),
        Column("recognition_months", "结果互认月数", "int", minimum=0,
               doc="近若干个月内已被检查的对象不再抽取，默认 12"),
        Column("strata", "分层及比例", "strata",
               doc="每层写成 名称:条件:比例，多层用分号 ; 分隔，按顺序先符合者归入该层。"
                   "条件：special（投诉举报3次及以上、有严重违法记录或信用风险为高）、"
                   "small_micro（小型、微型）、risk:等级（如 risk:较高）、default（其余）。"
                   "例：特殊监管:special:30%;小微企业:small_micro:0.5%;一般:default:1%"),
        Column("active", "状态", "bool", words=("在用", "停用"), doc="在用 或 停用，默认在用"),
        Column("special_frequency", "特殊对象抽查频次", "int", minimum=0,
               doc="特殊监管对象每年抽查次数（第七条：不少于一般对象）；空为同一般对象"),
        Column("special_recognition_months", "特殊对象结果互认月数", "int", minimum=0,
               doc="特殊监管对象的结果互认月数，短于一般对象则年内可再次抽取；空为同一般对象"),
        Column("small_micro_reason", "小微企业比例说明",
               doc="小微企业分层比例低于 1% 时必须写明理由（第七条）"),
    ), key=("code",),
        doc="公开清单（第四条）。导出即为公开的随机抽查事项清单；事项每次变更版本号加 1。"),
    "inspectors": Kind("inspectors", "执法检查人员名录", (
        Column("cert_no", "执法证号", required=True, max_len=32, doc="键"),
        Column("name", "姓名", required=True, max_len=64),
        Column("office", "股室", required=True, max_len=64),
        Column("department", "所属部门", max_len=64, doc="默认 商水县人力资源和社会保障局"),
        Column("cert_valid_from", "执法证有效期起", "date"),
        Column("cert_valid_until", "执法证有效期至", "date"),
        Column("active", "状态", "bool", words=("在岗", "离岗"), doc="在岗 或 离岗，默认在岗"),
        Column("phone", "联系电话", max_len=32, public=False),
    ), key=("cert_no",), doc="公开名录（第五条）。公开导出不含联系电话。"),
    "targets": Kind("targets", "检查对象名录", (
        Column("uscc", "统一社会信用代码", "uscc", required=True, doc="键；按 GB 32100-2015 校验"),
        Column("name", "单位名称", required=True, max_len=200),
        Column("category", "类别", required=True, max_len=64,
               doc="如 用人单位-制造业、劳务派遣单位、人力资源服务机构"),
        Column("township", "乡镇", max_len=64),
        Column("address", "地址", max_len=255),
        Column("size_class", "规模", "choice", choices=SIZE_CLASSES,
               doc="大型/中型/小型/微型，默认小型"),
        Column("credit_risk", "信用风险等级", "choice", choices=RISK_CLASSES,
               doc="高/较高/中/低，默认低"),
        Column("complaint_count", "投诉举报次数", "int", minimum=0),
        Column("serious_violation", "严重违法记录", "bool", doc="是 或 否"),
        Column("active", "状态", "bool", words=("正常", "停用"), doc="正常 或 停用，默认正常"),
    ), key=("uscc",), doc="第六条、第十九条。"),
    "conflicts": Kind("conflicts", "回避关系", (
        Column("cert_no", "执法证号", required=True, max_len=32, doc="须已在执法检查人员名录中"),
        Column("uscc", "统一社会信用代码", "uscc", required=True, doc="须已在检查对象名录中"),
        Column("reason", "回避原因"),
        Column("declared_at", "登记时间", "datetime", doc="如 2026-03-01 09:30，默认导入时间"),
    ), key=("cert_no", "uscc"), doc="第五条：有利害关系的检查人员回避。"),
    "trainings": Kind("trainings", "培训记录", (
        Column("cert_no", "执法证号", required=True, max_len=32, doc="须已在执法检查人员名录中"),
        Column("title", "培训名称", required=True, max_len=200),
        Column("date", "日期", "date", required=True),
        Column("hours", "学时", "int", minimum=0),
        Column("organizer", "主办单位", max_len=128),
    ), key=("cert_no", "title", "date"), doc="第十五条。"),
    "inspections": Kind("inspections", "其他部门检查结果", (
        Column("uscc", "统一社会信用代码", "uscc", required=True, doc="须已在检查对象名录中"),
        Column("date", "检查日期", "date", required=True),
        Column("department", "检查部门", required=True, max_len=64),
        Column("reference", "文书编号", max_len=64),
    ), key=("uscc", "date", "department"),
        doc="第十六条：检查结果互认，结果互认月数内已被检查的对象不再重复抽取。"),
}


MODELS = {"items": Item, "inspectors": Inspector, "targets": Target, "conflicts": Conflict,
          "trainings": Training, "inspections": InspectionRecord}

# The value an optional cell left empty (or a column left out of a new row's file) stands for.
DEFAULTS = {
    "items": {"method": "现场检查", "ratio_bp": 100, "frequency": 3, "offices": "",
              "departments": "", "team_size": 2, "recognition_months": 12, "active": True,
              "special_frequency": 0, "special_recognition_months": None,
              "small_micro_reason": ""},
    "inspectors": {"department": "商水县人力资源和社会保障局", "cert_valid_from": None,
                   "cert_valid_until": None, "active": True, "phone": ""},
    "targets": {"township": "", "address": "", "size_class": "小型", "credit_risk": "低",
                "complaint_count": 0, "serious_violation": False, "active": True},
    "conflicts": {"reason": ""},
    "trainings": {"hours": 0, "organizer": ""},
    "inspections": {"reference": ""},
}


def with_defaults(kind: str, rec: dict) -> dict:
    out = dict(rec)
    for f, v in DEFAULTS[kind].items():
        if out.get(f) is None:
            out[f] = v
    return out


def columns(kind: str) -> list[tuple[str, str]]:
    """(field, Chinese label) of each column, in file order."""
    return [(c.field, c.label) for c in find_kind(kind).columns]


def columns_doc() -> str:
    """The import/export file formats as a Markdown section for the README."""
    out = ["## 导入导出文件的列", "",
           "`kiosk import KIND FILE` / `kiosk export KIND FILE`：CSV（UTF-8，可带 BOM，或 GB18030，"
           "自动识别；导出为带 BOM 的 UTF-8，Excel 可直接打开）或 XLSX（第一个工作表）。"
           "第一行为列名（中文列名，也可用英文字段名）；列的顺序不限，非必填列可以不出现，"
           "不出现的列在更新已有记录时保持原值。",
           "",
           "整个文件要么全部导入，要么一行也不导入：任何一行有错（统一社会信用代码无效、键重复、"
           "缺少必填项、单元格内有制表符或换行、日期或数字写错、引用的人员或对象不存在、未知列名），"
           "整个文件被拒绝，并按行号（列名行为第1行）列出每一处错误。合格的文件按键更新已有记录、"
           "新增其余记录，并写一条审计记录（含文件名和 SHA-256）。", ""]
    for k in KINDS.values():
        out.append(f"### {k.name}：{k.label}")
        out.append("")
        key = "、".join(k.col(f).label for f in k.key)
        out.append(f"键：{key}。{k.doc}")
        out.append("")
        out.append("| 列名 | 字段 | 必填 | 说明 |")
        out.append("| --- | --- | --- | --- |")
        for c in k.columns:
            desc = (c.doc or _type_doc(c)).replace("|", "\\|")
            out.append(f"| {c.label} | `{c.field}` | {'是' if c.required else ''} | {desc} |")
        out.append("")
    return "\n".join(out)


def _type_doc(c: Column) -> str:
    return {"date": "日期，如 2026-03-01", "datetime": "日期时间", "int": "整数",
            "bool": f"{c.words[0]} 或 {c.words[1]}", "choice": "/".join(c.choices)}.get(c.type, "")


def find_kind(kind: str) -> Kind:
    try:
        return KINDS[kind]
    except KeyError:
        raise UserError(f"未知的名录类型“{kind}”，可用：{'、'.join(KINDS)}。") from None


"""A deterministic, realistic demo store for Shangshui County (region 411623)."""
from __future__ import annotations

import datetime as dt
import random

from db.models import (
    ALL_MODELS,
    Conflict,
    InspectionRecord,
    Inspector,
    Item,
    ItemStratum,
    Target,
    Training,
)
from kiosk import audit, auth, plans, settings, uscc
from kiosk.store import write_tx

REGION = "411623"
BUREAU = "商水县人力资源和社会保障局"
DEMO_TARGETS = 2000

# (username, password, role): shown on the demo login screen.
ACCOUNTS = [
    ("admin", "admin123", "登记管理员"),
    ("operator", "operator123", "抽签操作员"),
    ("witness", "witness123", "监督见证人"),
    ("witness1", "witness1123", "监督见证人"),
    ("witness2", "witness2123", "监督见证人"),
    ("witness3", "witness3123", "监督见证人"),
    ("insp01", "insp123", "执法检查人员"),
    ("insp02", "insp123", "执法检查人员"),
    ("reviewer", "reviewer123", "责任股室审核人"),
    ("leader", "leader123", "局领导"),
    ("auditor", "auditor123", "纪检审计"),
]
DISPLAY_NAMES = {"admin": "赵文静", "operator": "孙立新", "witness": "钱正平",
                 "witness1": "钱正平", "witness2": "郑秀兰", "witness3": "冯志远",
                 "reviewer": "周国栋", "leader": "吴建华", "auditor": "陈明德"}
# Where each demo witness comes from (printed on the protocol beside their name).
# One reviewer per lead office other than the main reviewer's (劳动保障监察大队), so a report of
# every item can be reviewed on the demo: (username, password, office, display name).
OFFICE_REVIEWERS = [
    ("reviewer2", "reviewer2123", "劳动关系股", "冯立军"),
    ("reviewer3", "reviewer3123", "社会保险股", "褚雅琴"),
    ("reviewer4", "reviewer4123", "人力资源市场股", "卫光明"),
    ("reviewer5", "reviewer5123", "职业能力建设股", "蒋文华"),
]
WITNESS_ORGS = {"witness": "县纪委监委派驻纪检组", "witness1": "县纪委监委派驻纪检组",
                "witness2": "县人大代表", "witness3": "县政协委员"}

TOWNSHIPS = ["东城街道", "老城街道", "新城街道", "城关乡", "黄寨镇", "练集镇", "魏集镇", "固墙镇",
             "白寺镇", "巴村镇", "谭庄镇", "邓城镇", "胡吉镇", "平店乡", "袁老乡", "化河乡",
             "姚集乡", "舒庄乡", "大武乡", "张明乡", "郝岗乡", "张庄乡", "汤庄乡"]

# (category, share of targets, name suffixes)
CATEGORIES = [
    ("用人单位-制造业", 0.26, ["食品有限公司", "纺织有限公司", "机械制造有限公司", "服装有限公司",
                         "建材有限公司"]),
    ("用人单位-建筑业", 0.14, ["建筑工程有限公司", "建设有限公司", "路桥工程有限公司"]),
    ("用人单位-批发零售业", 0.16, ["商贸有限公司", "超市有限公司", "农资有限公司"]),
    ("用人单位-餐饮住宿业", 0.12, ["餐饮管理有限公司", "酒店有限公司", "饭店"]),
    ("用人单位-交通运输业", 0.06, ["物流有限公司", "运输有限公司"]),
    ("用人单位-居民服务业", 0.08, ["物业服务有限公司", "家政服务有限公司", "保安服务有限公司"]),
    ("用人单位-医疗卫生", 0.04, ["医院", "诊所有限公司", "药房有限公司"]),
    ("劳务派遣单位", 0.05, ["劳务派遣有限公司", "人力资源有限公司"]),
    ("人力资源服务机构", 0.05, ["人力资源服务有限公司", "职业介绍所"]),
    ("职业技能培训机构", 0.04, ["职业技能培训学校", "职业培训学校有限公司"]),
]

BRANDS = ["恒昌", "鑫源", "豫丰", "华盛", "金穗", "宏达", "瑞祥", "永顺", "嘉禾", "兴业", "天成",
          "中原", "沙河", "汾河", "润泽", "福满", "长青", "博远", "锦程", "诚信", "众合", "安康",
          "新力", "盛世", "同心", "丰源", "佳美", "德隆", "弘毅", "明珠", "东方", "正阳", "广和",
          "利民", "惠农", "顺达", "海纳", "亿家", "春晖", "聚贤"]

# Henan 2021 tiers by credit risk: high 30%, fairly high 10%, medium 2%, low 1%;
# special targets (complaints, serious violations) first; small/micro may be lower (Art. 7).
STANDARD_STRATA = [
    ("特殊监管", "special", 3000),
    ("较高风险", "risk:较高", 1000),
    ("中风险", "risk:中", 200),
    ("小微企业", "small_micro", 50),
    ("一般", "default", 100),
]

# Art. 7: small/micro firms may get a ratio under 1%, with the reason stated on the item.
SMALL_MICRO_REASON = "小微企业用工人数少、违法风险低，按省厅分级分类抽查规定降低比例"

ITEMS = [
    ("RS-01", "用人单位劳动合同签订和履行情况的检查",
     "《中华人民共和国劳动合同法》第十条、第八十二条；《劳动保障监察条例》第十一条第（二）项",
     "书面劳动合同签订情况\n劳动合同条款是否齐备\n试用期约定是否合法", "现场检查", "用人单位",
     "劳动关系股"),
    ("RS-02", "用人单位支付劳动者工资和执行最低工资标准情况的检查",
     "《劳动保障监察条例》第十一条第（五）项、第二十六条；《保障农民工工资支付条例》第五十四条",
     "工资支付台账\n最低工资标准执行\n农民工工资专用账户", "现场检查", "用人单位-建筑业",
     "劳动保障监察大队"),
    ("RS-03", "用人单位参加社会保险和缴纳社会保险费情况的检查",
     "《中华人民共和国社会保险法》第五十八条、第八十四条、第八十六条",
     "参保登记\n缴费基数申报\n按时足额缴费", "书面检查", "用人单位", "社会保险股"),
    ("RS-04", "劳务派遣单位经营劳务派遣业务情况的检查",
     "《中华人民共和国劳动合同法》第五十七条、第九十二条；《劳务派遣暂行规定》第三十一条",
     "劳务派遣经营许可\n派遣协议\n同工同酬", "现场检查", "劳务派遣单位", "劳动关系股"),
    ("RS-05", "人力资源服务机构从事职业中介活动情况的检查",
     "《人力资源市场暂行条例》第三十五条、第四十二条",
     "人力资源服务许可证\n招聘信息真实性\n服务台账", "现场检查", "人力资源服务机构",
     "人力资源市场股"),
    ("RS-06", "职业技能培训机构办学情况的检查",
     "《中华人民共和国职业教育法》第四十八条；《民办职业培训机构管理办法》",
     "办学许可\n培训收费公示\n培训记录与结业证书", "现场检查", "职业技能培训机构",
     "职业能力建设股"),
    ("RS-07", "用人单位遵守禁止使用童工规定情况的检查",
     "《禁止使用童工规定》第十三条；《中华人民共和国劳动法》第十五条", "用工名册\n劳动者年龄核验",
     "现场检查", "用人单位", "劳动保障监察大队"),
]

OFFICES = ["劳动保障监察大队", "劳动关系股", "社会保险股", "人力资源市场股", "职业能力建设股"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN = ["建国", "红梅", "志强", "丽娟", "国庆", "晓东", "海燕", "卫东", "秀英", "俊杰", "春生",
         "玉兰", "明辉", "淑华", "振华", "雪梅"]


def _org_body(rng: random.Random, used: set[str]) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    while True:
        body = "MA" + "".join(rng.choice(alphabet) for _ in range(7))
        if body not in used:
            used.add(body)
            return body


def is_empty() -> bool:
    return not Item.select().exists()


def is_demo() -> bool:
    """Only a store the demo built may be wiped by `kiosk demo --reset`."""
    return settings.get("demo", "0") == "1"


def foreign_data() -> str:
    """What in the store did not come from the demo ("" when nothing): lists imported from
    files, or accounts the demo does not make. Such a store is never wiped by a reset."""
    from db.models import AuditEvent, User

    imported = (AuditEvent.select(AuditEvent.action)
                .where(AuditEvent.action.in_(("registry.import", "holidays.import")))
                .tuples().first())
    if imported:
        return "它导入过名录或节假日文件"
    names = {n for n, _, _ in ACCOUNTS} | {n for n, *_ in OFFICE_REVIEWERS}
    other = User.select(User.username).where(User.username.not_in(names)).tuples().first()
    if other:
        return f"它有演示以外的账户“{other[0]}”"
    return ""


def clear_store() -> None:
    """Empty every table, children first (works on SQLite and PostgreSQL).

    The audit table is append-only by trigger: only this reset of a demo store lifts that,
    inside its one transaction, and it forgets the terminal's anchor of the old chain."""
    from db.connection import database
    from db.migrations import create_audit_triggers, drop_audit_triggers
    from kiosk.audit import anchor

    db = database.obj
    with write_tx():
        drop_audit_triggers(db)
        for model in reversed(ALL_MODELS):
            model.delete().execute()
        create_audit_triggers(db)
    anchor.reset()


def build(*, fresh: bool = True, n_targets: int = DEMO_TARGETS,
          today: dt.date | None = None) -> str:
    """Fill the store with the demo; returns a one-paragraph summary in Chinese."""
    from kiosk import secrets as kiosk_secrets

    if fresh:
        clear_store()
    today = today or dt.date.today()
    rng = random.Random(int(REGION))
    with write_tx():
        for key, value in (("bureau_name", BUREAU), ("region_code", REGION), ("demo", "1")):
            settings.put(key, value, actor="demo")
        kiosk_secrets.keys()  # the key file beside the store: slip secret, entropy key

        items = []
        for code, name, basis, content, method, category, lead in ITEMS:
            offices = ";".join(dict.fromkeys(["劳动保障监察大队", lead]))
            item = Item.create(code=code, name=name, legal_basis=basis, content=content,
                               method=method, category=category, ratio_bp=100, frequency=3,
                               lead_office=lead, offices=offices, team_size=2,
                               small_micro_reason=SMALL_MICRO_REASON)
            for pos, (sname, crit, ratio) in enumerate(STANDARD_STRATA):
                ItemStratum.create(item=item, name=sname, criterion=crit, ratio_bp=ratio,
                                   position=pos)
            items.append(item)

        inspectors = []
        for n in range(15):
            office = OFFICES[0] if n < 7 else OFFICES[1 + (n - 7) % 4]
            name = SURNAMES[n % len(SURNAMES)] + GIVEN[n % len(GIVEN)]
            valid_until = (dt.date(today.year + 2, 12, 31) if n != 14
                           else today - dt.timedelta(days=40))
            inspectors.append(Inspector.create(
                cert_no=f"豫人社监{n + 1:04d}", name=name, office=office,
                cert_valid_from=dt.date(today.year - 3, 1, 1), cert_valid_until=valid_until,
                phone=f"1390394{n:04d}"))

        used: set[str] = set()
        weights = [c[1] for c in CATEGORIES]
        rows = []
        for _ in range(n_targets):
            category, _, suffixes = rng.choices(CATEGORIES, weights)[0]
            township = rng.choice(TOWNSHIPS)
            brand = rng.choice(BRANDS) + rng.choice(BRANDS)[0]
            name = f"商水县{brand}{rng.choice(suffixes)}"
            size = rng.choices(["大型", "中型", "小型", "微型"], [2, 10, 45, 43])[0]
            risk = rng.choices(["高", "较高", "中", "低"], [3, 9, 28, 60])[0]
            complaints = rng.choices([0, 1, 2, 3, 5], [80, 10, 5, 3, 2])[0]
            code = uscc.make(REGION, _org_body(rng, used))
            rows.append({"uscc": code, "name": name, "category": category, "township": township,
                         "address": f"河南省周口市商水县{township}{rng.randint(1, 300)}号",
                         "size_class": size, "credit_risk": risk, "complaint_count": complaints,
                         "serious_violation": rng.random() < 0.02, "active": rng.random() > 0.03})
        for i in range(0, len(rows), 500):
            Target.insert_many(rows[i:i + 500]).execute()

        targets = list(Target.select().order_by(Target.id).limit(40))
        for k in range(6):
            Conflict.create(inspector=inspectors[k * 2], target=targets[k * 5],
                            reason=rng.choice(["近亲属在该单位任职", "曾在该单位任职",
                                               "与法定代表人有利害关系"]))
        for insp in inspectors:
            Training.create(inspector=insp, title=f"{today.year}年度“双随机、一公开”业务培训",
                            date=dt.date(today.year, 3, 15), hours=8,
                            organizer="周口市人力资源和社会保障局")
        for t in targets[20:32]:
            InspectionRecord.create(target=t, date=today - dt.timedelta(days=rng.randint(20, 200)),
                                    department="商水县市场监督管理局", reference="市场监管双随机")

        inspector_users = {"insp01": inspectors[0], "insp02": inspectors[1]}
        for username, password, label in ACCOUNTS:
            role = next(k for k, v in auth.ROLES.items() if v == label)
            insp = inspector_users.get(username)
            auth.create_user(username, password, role,
                             display_name=insp.name if insp else DISPLAY_NAMES[username],
                             inspector=insp, office="劳动保障监察大队", actor="demo")
        for username, password, office, name in OFFICE_REVIEWERS:
            auth.create_user(username, password, "reviewer", display_name=name, office=office,
                             actor="demo")
        tasks = plans.make_plan(today.year, "demo")
        plans.approve(today.year, "leader")  # only an approved round may be drawn (Art. 18)
        audit.record("demo", "demo.build", "store", "", targets=n_targets, items=len(items))
    record = _first_draw(tasks[3].code, today)
    return (f"演示数据库已生成：{len(ITEMS)} 个抽查事项，{len(inspectors)} 名执法人员，"
            f"{n_targets} 个检查对象，{len(tasks)} 个{today.year}年度计划任务；"
            f"任务 {record['task']} 已当众摇号封存（{len(record['selected'])} 个对象，"
            f"可打印任务单、扫码录入报告）。各责任股室审核人："
            + "、".join(f"{login}（{office}）" for login, _, office, _ in OFFICE_REVIEWERS)
            + "，密码为用户名加 123。")


def _first_draw(task_code: str, today: dt.date) -> dict:
    """One draw already witnessed and sealed, so slips and reports can be tried at once."""
    from db.models import User
    from kiosk.draw import steps, witnesses

    draw = steps.prepare(task_code, "operator", draw_date=today)
    signed = [User.get(User.username == login) for login in ("witness1", "witness2")]
    for user in signed:
        witnesses.sign_in(draw.id, user)
    steps.commit(draw.id, "operator")
    witnesses.enter_entropy(draw.id, signed[0], "3 6 1 4 2 5")
    witnesses.enter_entropy(draw.id, signed[1], "二〇二六年演示")
    steps.reveal(draw.id, "operator")
    steps.match(draw.id, "operator")
    for user in signed:
        witnesses.confirm(draw.id, user)
    return steps.seal(draw.id, "operator")

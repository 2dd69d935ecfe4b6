"""A small draw world shared by the draw tests: an item, targets, inspectors, witness accounts."""
from __future__ import annotations

import datetime as dt

from db.models import Conflict, Draw, Inspector, Item, ItemStratum, PlanTask, Target, User
from kiosk import auth, plans, uscc
from kiosk.draw import steps, witnesses

TODAY = dt.date(2026, 5, 20)
WITNESSES = ("witness1", "witness2", "witness3")


def make_world(n_targets=40, n_inspectors=6, conflicts=((0, 0),), category="劳务派遣单位"):
    item = Item.create(code="RS-04", name="劳务派遣单位经营情况的检查",
                       legal_basis="《劳动合同法》第五十七条",
                       content="派遣协议", category=category, lead_office="劳动关系股",
                       offices="劳动保障监察大队;劳动关系股", team_size=2)
    ItemStratum.create(item=item, name="特殊监管", criterion="special", ratio_bp=5000, position=0)
    ItemStratum.create(item=item, name="一般", criterion="default", ratio_bp=1000, position=1)
    targets = []
    for i in range(n_targets):
        targets.append(Target.create(
            uscc=uscc.make("411623", f"MA{i:07d}"), name=f"商水县第{i}劳务派遣有限公司",
            category=category, township="城关乡", complaint_count=5 if i % 10 == 0 else 0))
    Target.create(uscc=uscc.make("411623", "MB0000001"), name="别类单位",
                  category="人力资源服务机构")
    inspectors = [Inspector.create(cert_no=f"豫人社监{i + 1:04d}", name=f"检查员{i + 1}",
                                   office="劳动保障监察大队", cert_valid_until=dt.date(2028, 1, 1))
                  for i in range(n_inspectors)]
    Inspector.create(cert_no="豫人社监9998", name="证件过期", office="劳动保障监察大队",
                     cert_valid_until=dt.date(2026, 1, 1))
    Inspector.create(cert_no="豫人社监9999", name="别的股室", office="社会保险股",
                     cert_valid_until=dt.date(2028, 1, 1))
    for ii, ti in conflicts:
        Conflict.create(inspector=inspectors[ii], target=targets[ti], reason="近亲属")
    tasks = plans.make_plan(2026, "tester", items=[item])
    plans.approve(2026, "leader")  # only an approved plan's rounds are drawn (Art. 18)
    tasks = [type(t).get_by_id(t.id) for t in tasks]
    make_accounts()
    return item, targets, inspectors, tasks


def make_accounts() -> None:
    """operator / operator123 and witness1..3 / <login>123, as the demo has them."""
    if User.get_or_none(User.username == "operator"):
        return
    auth.create_user("operator", "operator123", "operator", "孙立新", office="监察大队")
    for n, login in enumerate(WITNESSES):
        auth.create_user(login, f"{login}123", "witness", ["钱正平", "郑秀兰", "冯志远"][n],
                         office="县纪委监委派驻纪检组")


def user(login: str) -> User:
    return witnesses.login(login, f"{login}123")


def run_to_matched(task_code, entropy=("7 3 1 9", "20260520"), beacon_source="",
                   beacon=None):
    d = steps.prepare(task_code, "operator", draw_date=TODAY, beacon_source=beacon_source)
    signed = [user(WITNESSES[n]) for n in range(len(entropy))]
    for u in signed:
        witnesses.sign_in(d.id, u)
    steps.commit(d.id, "operator")
    if beacon is not None:
        witnesses.set_beacon(d.id, beacon, "operator")
    for u, ent in zip(signed, entropy, strict=True):
        witnesses.enter_entropy(d.id, u, ent)
    steps.reveal(d.id, "operator")
    steps.match(d.id, "operator")
    return d.id


def confirm_all(draw_id, n=2):
    for login in WITNESSES[:n]:
        witnesses.confirm(draw_id, user(login))


def sealed_draw(item: Item, year: int, month: int, **draw: object) -> tuple[PlanTask, Draw]:
    """Round 1 of `item` in `year`, drawn: its sealed first attempt with placeholder digests.
    For the report, case and audit tests, which need a draw's outcome, not its ceremony."""
    task = PlanTask.create(code=f"{year}-{item.code}-1", year=year, item=item, round_no=1,
                           planned_month=month, state="drawn")
    return task, Draw.create(task=task, attempt_no=1, state="sealed", operator="op",
                             pool_digest="a" * 64, inspectors_digest="b" * 64,
                             conflicts_digest="c" * 64, strata_json="{}", **draw)

"""First start, accounts and settings as services: each rule, each refusal, each audit event."""
from __future__ import annotations

import csv
import stat

import pytest

from db.models import AuditEvent, Inspector, Item, Setting, User
from kiosk import audit, auth, registry, settings, setup, users
from kiosk.errors import UserError


def last_event() -> AuditEvent:
    return AuditEvent.select().order_by(AuditEvent.seq.desc()).first()


# ---------------------------------------------------------------- init


def test_init_makes_the_first_admin_and_settings_once(db, tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_SECRETS_DIR", str(tmp_path / "sec"))
    assert not users.has_admin()
    done = setup.initialise("clerk", "clerk-pass", bureau="  项城市人社局 ", region="411681",
                            base_url="https://kiosk.example.cn/", name="赵文静")
    assert done.key_file == tmp_path / "sec" / "kiosk.key"
    assert stat.S_IMODE(done.key_file.stat().st_mode) == 0o600
    clerk = User.get(User.username == "clerk")
    assert (clerk.role, clerk.display_name, clerk.must_change) == ("admin", "赵文静", False)
    assert [settings.get(k) for k in ("bureau_name", "region_code", "base_url")] == [
        "项城市人社局", "411681", "https://kiosk.example.cn"]
    assert AuditEvent.select().where(AuditEvent.action == "store.init").count() == 1
    with pytest.raises(UserError, match="已有管理员账户"):
        setup.initialise("other", "other-pass", bureau="别的局", region="411681")
    assert audit.verify().ok


def test_init_validates_before_writing(db, tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_SECRETS_DIR", str(tmp_path / "sec"))
    with pytest.raises(UserError, match="6 位数字"):
        setup.initialise("clerk", "clerk-pass", bureau="局", region="4116")
    with pytest.raises(UserError, match="至少 6 位"):
        setup.initialise("clerk", "short", bureau="局", region="411623")
    with pytest.raises(UserError, match="http:// 或 https://"):
        setup.initialise("clerk", "clerk-pass", bureau="局", region="411623",
                         base_url="kiosk.example.cn")
    assert not User.select().exists() and not Setting.select().exists()
    assert not (tmp_path / "sec" / "kiosk.key").exists()


# ---------------------------------------------------------------- accounts


@pytest.fixture
def office(db):
    auth.create_user("clerk", "clerk-pass", "admin", "赵文静")
    return Inspector.create(cert_no="豫人社监0001", name="张伟", office="劳动保障监察大队")


def add(login, role, **kw):
    return users.add(login, role, kw.pop("name", f"{login}姓名"), kw.pop("password", "first-pass"),
                     actor="clerk", actor_role="admin", **kw)


def test_roles_get_their_links(office):
    insp = add("jcy", "inspector", inspector_cert="豫人社监0001")
    assert (insp.inspector_id, insp.office, insp.must_change) == (office.id, "劳动保障监察大队",
                                                                  True)
    shr = add("shr", "责任股室审核人", office="劳动关系股")  # the Chinese label works too
    assert (shr.role, shr.office) == ("reviewer", "劳动关系股")
    with pytest.raises(UserError, match="须关联其执法证号"):
        add("jcy2", "inspector")
    with pytest.raises(UserError, match="不在执法检查人员名录中"):
        add("jcy2", "inspector", inspector_cert="豫人社监9999")
    with pytest.raises(UserError, match="只有执法检查人员账户关联执法证号"):
        add("czy", "operator", inspector_cert="豫人社监0001")
    with pytest.raises(UserError, match="须指定其股室"):
        add("shr2", "reviewer")
    with pytest.raises(UserError, match="未知角色“boss”"):
        add("boss", "boss")
    with pytest.raises(UserError, match="英文字母、数字"):
        add("张三", "operator")
    with pytest.raises(UserError, match="只有管理员可以管理账户"):
        users.add("x", "operator", "某", "first-pass", actor="ld", actor_role="leader")


def test_reviewers_office_must_be_one_of_the_settings(office):
    settings.change("reviewer_offices", "劳动关系股；社会保险股", "clerk", role="admin")
    assert settings.reviewer_offices() == ["劳动关系股", "社会保险股"]
    with pytest.raises(UserError, match="不在设置的审核股室中"):
        add("shr", "reviewer", office="法规股")
    assert add("shr", "reviewer", office="社会保险股").office == "社会保险股"


def test_disable_keeps_history_and_refuses_at_login(office):
    add("czy", "operator")
    users.disable("czy", actor="clerk", actor_role="admin")
    assert User.get(User.username == "czy").active is False
    with pytest.raises(UserError, match="用户名或密码不正确"):
        auth.login("czy", "first-pass")
    with pytest.raises(UserError, match="已停用"):
        users.disable("czy", actor="clerk", actor_role="admin")
    with pytest.raises(UserError, match="不能停用自己"):
        users.disable("clerk", actor="clerk", actor_role="admin")
    users.enable("czy", actor="clerk", actor_role="admin")
    assert auth.login("czy", "first-pass").username == "czy"
    actions = [e.action for e in AuditEvent.select().where(AuditEvent.entity_id == "czy")
               .order_by(AuditEvent.seq)]
    assert actions == ["user.create", "user.must_change", "user.disable", "auth.login_failed",
                       "user.enable", "auth.login"]


def test_the_last_admin_stays(office):
    add("admin2", "admin")
    users.disable("admin2", actor="clerk", actor_role="admin")
    with pytest.raises(UserError, match="唯一的管理员账户，不能改为其他角色"):
        users.change_role("clerk", "leader", actor="clerk", actor_role="admin")


def test_reset_then_own_change(office):
    add("ld", "leader")
    users.change_own_password(User.get(User.username == "ld"), "own-pass-1")
    assert User.get(User.username == "ld").must_change is False
    users.reset_password("ld", "reset-pass", actor="clerk", actor_role="admin")
    ld = User.get(User.username == "ld")
    assert ld.must_change is True and auth.verify_password(ld, "reset-pass")
    with pytest.raises(UserError, match="不能与原密码相同"):
        users.change_own_password(ld, "reset-pass")
    users.change_own_password(ld, "own-pass-2")
    assert User.get(User.username == "ld").must_change is False
    assert last_event().action == "user.password_change"
    assert audit.verify().ok


def test_a_cleared_must_change_flag_behind_the_kiosk_is_named(office):
    add("ld", "leader")
    User.update(must_change=False).where(User.username == "ld").execute()
    verdict = audit.verify()
    assert not verdict.ok and "用户 ld" in verdict.message


def test_change_role_relinks(office):
    add("jcy", "inspector", inspector_cert="豫人社监0001")
    u = users.change_role("jcy", "reviewer", office="劳动关系股", actor="clerk",
                          actor_role="admin")
    assert (u.role, u.office, u.inspector) == ("reviewer", "劳动关系股", None)
    ev = last_event()
    assert (ev.action, ev.entity_id) == ("user.role", "jcy")
    assert '"before": "inspector"' in ev.detail


def test_rows_list_every_account(office):
    add("jcy", "inspector", inspector_cert="豫人社监0001")
    add("czy", "operator")
    users.disable("czy", actor="clerk", actor_role="admin")
    got = [(r.login, r.role_label, r.inspector, r.active, r.must_change) for r in users.rows()]
    assert got == [("clerk", "登记管理员", "", True, False),
                   ("jcy", "执法检查人员", "豫人社监0001", True, True),
                   ("czy", "抽签操作员", "", False, True)]


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize(("key", "value", "stored"), [
    ("witness_quorum", "03", "3"), ("paper", "a4", "A4"), ("printer", "", ""),
    ("printer", "office-laser", "office-laser"), ("recognition_months", "0", "0"),
    ("idle_lock_seconds", "600", "600"), ("base_url", "http://10.0.0.5:8080/k/", "http://10.0.0.5:8080/k"),
])
def test_settings_accept(db, key, value, stored):
    assert settings.change(key, value, "clerk", role="admin") == stored
    assert settings.get(key) == stored


@pytest.mark.parametrize(("key", "value", "sentence"), [
    ("witness_quorum", "1", "见证人人数应为 2 至 9 之间的整数。"),
    ("witness_quorum", "two", "见证人人数应为 2 至 9 之间的整数。"),
    ("paper", "Letter", "纸张应为 A4 或 A5。"),
    ("printer", "lp -d x; rm", "打印机名称只能含"),
    ("bureau_name", "", "单位名称不能为空。"),
    ("recognition_months", "-1", "结果互认月数应为 0 至 60 之间的整数。"),
    ("secret.slip_hmac", "00", "没有设置项“secret.slip_hmac”"),
])
def test_settings_refuse(db, key, value, sentence):
    with pytest.raises(UserError) as e:
        settings.change(key, value, "clerk", role="admin")
    assert str(e.value).startswith(sentence)
    assert not Setting.select().exists()


def test_settings_changes_are_audited_and_admin_only(db):
    with pytest.raises(UserError, match="只有管理员"):
        settings.change("paper", "A4", "ld", role="leader")
    settings.change("paper", "A4", "clerk", role="admin")
    n = AuditEvent.select().count()
    settings.change("paper", "A4", "clerk", role="admin")  # unchanged: no event
    assert AuditEvent.select().count() == n
    ev = last_event()
    assert (ev.actor, ev.action, ev.entity_id) == ("clerk", "setting.change", "paper")
    Setting.update(value="A5").where(Setting.key == "paper").execute()
    assert "设置 paper" in audit.verify().message


def test_new_items_take_the_bureau_recognition_window(db, tmp_path):
    settings.change("recognition_months", "6", "clerk")
    path = tmp_path / "items.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([
            ["事项编码", "事项名称", "检查依据", "检查内容", "检查对象类别", "责任股室",
             "结果互认月数"],
            ["RS-01", "甲", "依据", "内容", "用人单位", "劳动关系股", ""],
            ["RS-02", "乙", "依据", "内容", "用人单位", "劳动关系股", "0"]])
    registry.import_file("items", path, "clerk")
    got = {i.code: i.recognition_months for i in Item.select()}
    assert got == {"RS-01": 6, "RS-02": 0}  # an explicit 0 stays 0


def test_a_witness_must_change_a_reset_password_before_witnessing(office):
    from kiosk.draw import witnesses

    add("jz1", "witness")
    with pytest.raises(UserError, match="须先修改密码"):
        witnesses.login("jz1", "first-pass")
    users.change_own_password(User.get(User.username == "jz1"), "own-pass-1")
    assert witnesses.login("jz1", "own-pass-1").username == "jz1"

"""The operator never gives the last input and never acts for a witness (issue 8, DESIGN's
Trust section): each refusal below is one plain sentence and changes nothing."""
from __future__ import annotations

import pytest

from db.models import Draw, User
from kiosk import auth
from kiosk.draw import steps, witnesses
from kiosk.errors import UserError
from tests.draw_world import TODAY, make_world, user


@pytest.fixture
def task(db):
    return make_world()[3][0].code


def operator() -> User:
    return User.get(User.username == "operator")


def test_the_operator_cannot_sign_in_as_a_witness(task):
    d = steps.prepare(task, "operator", draw_date=TODAY)
    with pytest.raises(UserError, match="见证人"):
        witnesses.sign_in(d.id, operator())
    with pytest.raises(UserError, match="不是见证人账号"):
        witnesses.login("operator", "operator123")
    # even an operator who also holds a witness account is not a witness of their own draw
    auth.create_user("op2", "secret123", "witness", "操作员乙")
    d2 = Draw.get_by_id(d.id)
    d2.operator = "op2"
    d2.save()
    with pytest.raises(UserError, match="操作员不能同时担任见证人"):
        witnesses.sign_in(d.id, user_op2())
    assert Draw.get_by_id(d.id).witnesses.count() == 0


def user_op2() -> User:
    return witnesses.login("op2", "secret123")


def test_quorum_counts_distinct_witnesses(task):
    d = steps.prepare(task, "operator", draw_date=TODAY)
    witnesses.sign_in(d.id, user("witness1"))
    with pytest.raises(UserError, match="重复"):
        witnesses.sign_in(d.id, user("witness1"))
    with pytest.raises(UserError, match="见证人不足"):
        steps.commit(d.id, "operator")
    witnesses.sign_in(d.id, user("witness2"))
    assert Draw.get_by_id(d.id).state == "witnesses"


def _committed(task, beacon_source=""):
    d = steps.prepare(task, "operator", draw_date=TODAY, beacon_source=beacon_source)
    for login in ("witness1", "witness2"):
        witnesses.sign_in(d.id, user(login))
    steps.commit(d.id, "operator")
    return d.id


def test_the_operator_cannot_give_entropy_or_confirm_for_a_witness(task):
    draw_id = _committed(task)
    with pytest.raises(UserError, match="未在本次摇号签到"):
        witnesses.enter_entropy(draw_id, operator(), "1 2 3")
    witnesses.enter_entropy(draw_id, user("witness1"), "1")
    with pytest.raises(UserError, match="不能更改"):
        witnesses.enter_entropy(draw_id, user("witness1"), "2")
    witnesses.enter_entropy(draw_id, user("witness2"), "2")
    steps.reveal(draw_id, "operator")
    steps.match(draw_id, "operator")
    with pytest.raises(UserError, match="未在本次摇号签到"):
        witnesses.confirm(draw_id, operator())
    assert not any(w.confirmed_at for w in Draw.get_by_id(draw_id).witnesses)


def test_the_beacon_comes_before_witness_entropy_and_is_fixed_after(task):
    draw_id = _committed(task, beacon_source="福彩3D开奖号码")
    with pytest.raises(UserError, match="先由操作员录入公开信标"):
        witnesses.enter_entropy(draw_id, user("witness1"), "1")
    witnesses.set_beacon(draw_id, "517", "operator")
    witnesses.set_beacon(draw_id, "518", "operator")  # a typo fixed before any entropy
    witnesses.enter_entropy(draw_id, user("witness1"), "1")
    with pytest.raises(UserError, match="公开信标不能再填写或更改"):
        witnesses.set_beacon(draw_id, "999", "operator")
    witnesses.enter_entropy(draw_id, user("witness2"), "2")
    with pytest.raises(UserError, match="公开信标"):
        witnesses.set_beacon(draw_id, "999", "operator")
    steps.reveal(draw_id, "operator")
    assert Draw.get_by_id(draw_id).beacon == "518"


def test_no_beacon_unless_declared_at_freeze(task):
    draw_id = _committed(task)
    with pytest.raises(UserError, match="未声明公开信标来源"):
        witnesses.set_beacon(draw_id, "517", "operator")


def test_a_revealed_draw_is_not_aborted_by_the_operator_alone(task):
    draw_id = _committed(task)
    witnesses.enter_entropy(draw_id, user("witness1"), "1")
    witnesses.enter_entropy(draw_id, user("witness2"), "2")
    steps.reveal(draw_id, "operator")
    with pytest.raises(UserError, match="全部签到见证人"):
        steps.abort(draw_id, "结果不满意", "operator")
    with pytest.raises(UserError, match="witness2"):
        steps.abort(draw_id, "结果不满意", "operator", witnesses=[user("witness1")])
    with pytest.raises(UserError, match="全部签到见证人"):  # the operator is no witness
        steps.abort(draw_id, "结果不满意", "operator", witnesses=[user("witness1"), operator()])
    assert Draw.get_by_id(draw_id).state == "revealed"
    steps.abort(draw_id, "结果不满意", "operator",
                witnesses=[user("witness1"), user("witness2")])
    d = Draw.get_by_id(draw_id)
    assert d.state == "aborted" and d.seed and d.results_json and d.system_entropy


def test_before_the_reveal_the_operator_aborts_alone_and_nothing_is_revealed(task):
    draw_id = _committed(task)
    witnesses.enter_entropy(draw_id, user("witness1"), "1")
    steps.abort(draw_id, "见证人临时离场", "operator")
    d = Draw.get_by_id(draw_id)
    assert d.state == "aborted" and d.system_entropy == "" and d.seed == ""

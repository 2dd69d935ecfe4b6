"""Unified social credit code checks (GB 32100-2015)."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk import uscc

# The example printed in GB 32100-2015 itself, and a large listed company's published code.
PUBLISHED = ["91350100M000100Y43", "91440300708461136T"]


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code):
    assert uscc.check(code) is None
    assert uscc.is_valid(code)
    assert uscc.check_char(code[:17]) == code[17]


def test_check_char_of_the_standard_example():
    assert uscc.check_char("91350100M000100Y4") == "3"


def test_org_code_check_char_gb11714():
    # The organisation-code part of the standard's example ends in its own check character 4.
    assert uscc.org_check_char("M000100Y") == "4"
    assert uscc.org_check_char("70846113") == "6"


def test_make_builds_a_valid_code_in_the_county():
    code = uscc.make(body="MA3X1234")
    assert code.startswith("91411623MA3X1234")
    assert len(code) == 18
    assert uscc.is_valid(code)
    assert code[16] == uscc.org_check_char("MA3X1234")
    assert uscc.make("411623", "MA3X12345", authority="5", kind="2")[:2] == "52"


@pytest.mark.parametrize("code, reason", [
    ("", "统一社会信用代码为空"),
    ("91350100M000100Y4", "统一社会信用代码应为18位，实为17位"),
    ("91350100M000100Y434", "统一社会信用代码应为18位，实为19位"),
    ("91350100M000100Y44", "统一社会信用代码校验位错误（应为 3）"),
    ("9135010OM000100Y43", "统一社会信用代码第8位含非法字符“O”（代码不使用字母 I、O、Z、S、V）"),
    ("91350100M0001I0Y43", "统一社会信用代码第14位含非法字符“I”（代码不使用字母 I、O、Z、S、V）"),
    ("91350100m000100Y43", "统一社会信用代码第9位“m”应为大写字母"),
    ("91350100M000100Y4-", "统一社会信用代码第18位含非法字符“-”"),
    ("B1350100M000100Y43", "统一社会信用代码第1位登记管理部门代码“B”无效"),
    ("94350100M000100Y43", "统一社会信用代码第2位机构类别代码“4”与登记管理部门代码“9”不符"),
    ("9199A100M000100Y43", "统一社会信用代码第3至8位行政区划码“99A100”无效"),
])
def test_invalid_codes_name_the_reason(code, reason):
    assert uscc.check(code) == reason
    assert not uscc.is_valid(code)


def test_normalise_upper_cases_and_strips():
    assert uscc.normalise("  91350100m000100y43 \n") == "91350100M000100Y43"
    assert uscc.normalise("9135 0100 M000 100Y 43") == "91350100M000100Y43"


_body = st.text(alphabet=uscc.ALPHABET, min_size=9, max_size=9)


@given(_body)
def test_made_codes_are_valid(body):
    assert uscc.check(uscc.make("411623", body)) is None


@given(_body, st.integers(0, 17), st.sampled_from(uscc.ALPHABET))
def test_any_single_substitution_is_caught(body, pos, ch):
    code = uscc.make("411623", body)
    altered = code[:pos] + ch + code[pos + 1:]
    if altered != code:
        assert uscc.check(altered) is not None

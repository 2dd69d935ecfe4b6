"""Unified social credit codes (统一社会信用代码, GB 32100-2015): validation with a plain reason,
and making valid ones."""
from __future__ import annotations

# GB 32100-2015 alphabet: digits and capitals without I, O, Z, S, V (they look like 1, 0, 2, 5, U).
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_ALPHA_SET = frozenset(ALPHABET)
_WEIGHTS = [pow(3, i, 31) for i in range(17)]

# Registration authority (position 1) -> allowed institution kinds (position 2).
# None means the authority is known but its kind list is not checked here.
AUTHORITIES: dict[str, frozenset[str] | None] = {
    "1": frozenset("1239"),  # 机构编制
    "2": None,  # 外交
    "3": None,  # 司法行政
    "4": None,  # 文化
    "5": frozenset("1239"),  # 民政
    "6": None,  # 旅游
    "7": None,  # 宗教
    "8": None,  # 工会
    "9": frozenset("123"),  # 市场监管（工商）: 企业 / 个体工商户 / 农民专业合作社
    "A": None,  # 中央军委改革和编制办公室
    "N": None,  # 农业
    "Y": None,  # 其他
}
# First two digits of an administrative division code (GB/T 2260); 10 is used for central organs.
_PROVINCES = frozenset(
    "10 11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
    "61 62 63 64 65 71 81 82".split())


def normalise(code: str) -> str:
    """Upper-case and drop surrounding and inner blanks, as clerks often paste them."""
    return "".join(str(code).split()).upper()


def check_char(first17: str) -> str:
    """The 18th (check) character for the first 17 characters."""
    if len(first17) != 17 or any(c not in _VALUE for c in first17):
        raise ValueError("first17 must be 17 characters of the GB 32100 alphabet")
    return _check17(first17)


def _check17(first17: str) -> str:
    v = _VALUE
    total = 0
    for c, w in zip(first17, _WEIGHTS, strict=False):
        total += v[c] * w
    return ALPHABET[-total % 31]


def org_check_char(first8: str) -> str:
    """The 9th (check) character of an organisation code (GB 11714-1997)."""
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(c, 36) * w for c, w in zip(first8, weights, strict=False))
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def check(code: str) -> str | None:
    """None when the code is valid, else one plain Chinese reason."""
    if code is None or not str(code).strip():
        return "统一社会信用代码为空"
    c = str(code)
    if len(c) != 18:
        return f"统一社会信用代码应为18位，实为{len(c)}位"
    if _ALPHA_SET.issuperset(c):
        kinds = AUTHORITIES.get(c[0], "bad")
        if (kinds is None or (kinds != "bad" and c[1] in kinds)) and c[2:8].isdigit() \
                and c[2:4] in _PROVINCES and _check17(c[:17]) == c[17]:
            return None  # the common case, without the reasons below
    for pos, ch in enumerate(c, 1):
        if ch not in _VALUE:
            if ch.upper() in _VALUE and ch != ch.upper():
                return f"统一社会信用代码第{pos}位“{ch}”应为大写字母"
            if ch.upper() in "IOZSV":
                return f"统一社会信用代码第{pos}位含非法字符“{ch}”（代码不使用字母 I、O、Z、S、V）"
            return f"统一社会信用代码第{pos}位含非法字符“{ch}”"
    kinds = AUTHORITIES.get(c[0], "bad")
    if kinds == "bad":
        return f"统一社会信用代码第1位登记管理部门代码“{c[0]}”无效"
    if kinds is not None and c[1] not in kinds:
        return f"统一社会信用代码第2位机构类别代码“{c[1]}”与登记管理部门代码“{c[0]}”不符"
    region = c[2:8]
    if not region.isdigit() or region[:2] not in _PROVINCES:
        return f"统一社会信用代码第3至8位行政区划码“{region}”无效"
    expected = check_char(c[:17])
    if c[17] != expected:
        return f"统一社会信用代码校验位错误（应为 {expected}）"
    return None


def is_valid(code: str) -> bool:
    return check(code) is None


def make(region: str = "411623", body: str = "", authority: str = "9", kind: str = "1") -> str:
    """A valid code. body: the organisation code part, 8 characters (its GB 11714 check
    character is appended) or all 9; characters from the GB 32100 alphabet."""
    body = body.upper()
    if len(body) == 8:
        body += org_check_char(body)
    first17 = authority + kind + region + body
    if len(first17) != 17:
        raise ValueError("region must be 6 digits and body 8 or 9 characters")
    return first17 + check_char(first17)

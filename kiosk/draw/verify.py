"""`kiosk verify`: recompute a draw record by the protocol and state the first difference."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from kiosk.draw import lottery
from kiosk.draw.joint import matching_for, validate_joint
from kiosk.draw.lottery import PROTOCOL, DrawError, MalformedRecord

OK, MISMATCH, MALFORMED = 0, 1, 2


def _record_of(obj) -> dict:
    """The flat record; a test vector {"input", "expected"} is merged into one."""
    if not isinstance(obj, dict):
        raise MalformedRecord("记录应为一个 JSON 对象。")
    if "input" in obj and isinstance(obj["input"], dict) and "pool" not in obj:
        rec = {"protocol": PROTOCOL, **obj["input"]}
        expected = obj.get("expected")
        if not isinstance(expected, dict):
            raise MalformedRecord("测试向量缺少 expected 对象。")
        rec.update(expected)
        return rec
    return obj


def _check_results(rec: dict) -> None:
    for f in ("protocol", "commitment", "seed", "selected", "teams"):
        if f not in rec:
            raise MalformedRecord(f"缺少字段“{f}”。")
    if rec["protocol"] != PROTOCOL:
        raise MalformedRecord(f"不支持的协议“{rec['protocol']}”，应为 {PROTOCOL}。")
    for f in ("commitment", "seed"):
        if not isinstance(rec[f], str):
            raise MalformedRecord(f"字段“{f}”应为十六进制文字。")
    selected = rec["selected"]
    if not isinstance(selected, list) or not all(isinstance(u, str) for u in selected):
        raise MalformedRecord("字段“selected”应为统一社会信用代码的列表。")
    teams = rec["teams"]
    if not isinstance(teams, list):
        raise MalformedRecord("字段“teams”应为列表。")
    for k, t in enumerate(teams, 1):
        if not (isinstance(t, list) and len(t) == 2 and isinstance(t[0], str)
                and isinstance(t[1], list) and all(isinstance(i, str) for i in t[1])):
            raise MalformedRecord(f"字段“teams”第{k}项应为 [统一社会信用代码, [执法证号…]]。")


DIGEST_LABELS = {"pool": "检查对象名录", "inspectors": "执法人员名录", "conflicts": "回避名录"}


def _published_digests(rec: dict) -> dict[str, str]:
    """The record's `digests`, when present: {kind: hex} for pool, inspectors, conflicts."""
    if "digests" not in rec:
        return {}
    d = rec["digests"]
    if not isinstance(d, dict) or not all(isinstance(d.get(k, ""), str) for k in DIGEST_LABELS):
        raise MalformedRecord("字段“digests”应为 {pool, inspectors, conflicts} 的十六进制摘要。")
    return {k: d[k] for k in DIGEST_LABELS if k in d}


def _join(ids: list[str]) -> str:
    return "、".join(ids) if ids else "（无）"


def _compare_list(recorded: list, computed: list, what: str, unit: str) -> str | None:
    for k, (a, b) in enumerate(zip(recorded, computed, strict=False), 1):
        if a != b:
            return f"第{k}个{what}不一致：记录为 {a}，重算为 {b}。"
    if len(recorded) != len(computed):
        return f"{what}数量不一致：记录为 {len(recorded)} {unit}，重算为 {len(computed)} {unit}。"
    return None


def _compare_teams(recorded: list, computed: list) -> str | None:
    for k, ((rt, rm), (ct, cm)) in enumerate(zip(recorded, computed, strict=False), 1):
        if rt != ct:
            return f"第{k}个检查组的检查对象不一致：记录为 {rt}，重算为 {ct}。"
        if rm != cm:
            return f"检查对象 {ct} 的检查组不一致：记录为 {_join(rm)}，重算为 {_join(cm)}。"
    if len(recorded) != len(computed):
        return f"检查组数量不一致：记录为 {len(recorded)} 个，重算为 {len(computed)} 个。"
    return None


def verify_record(obj) -> tuple[int, str]:
    """(0, message) when the record recomputes exactly; (1, first difference); (2, malformed)."""
    try:
        rec = _record_of(obj)
        _check_results(rec)
        digests, by, seed = lottery.prepare(rec)
        published = _published_digests(rec)
        joint = rec.get("joint")  # Art. 11; a record without it is plain dsr-draw/1
        if joint is not None:
            validate_joint(joint, rec["inspectors"])
    except MalformedRecord as e:
        return MALFORMED, f"记录格式不正确：{e}"
    # The digests printed on the pre-draw sheet come first: lists changed after publication
    # are a mismatch even when everything else was recomputed from them.
    for kind, label in DIGEST_LABELS.items():
        if kind in published and published[kind].lower() != digests[kind]:
            return MISMATCH, (f"{label}摘要不一致：记录（预抽签表）为 {published[kind]}，"
                              f"按记录中的名录重算为 {digests[kind]}。")
    commit = lottery.commitment(rec["system_entropy"])
    if rec["commitment"].lower() != commit:
        return MISMATCH, (f"承诺值不一致：记录为 {rec['commitment']}，"
                          f"按系统随机数重算为 {commit}。")
    if rec["seed"].lower() != seed:
        return MISMATCH, f"种子不一致：记录为 {rec['seed']}，重算为 {seed}。"
    selected = lottery.select_from(by, rec["strata"], seed)
    diff = _compare_list(rec["selected"], selected, "抽中对象", "个")
    if diff:
        return MISMATCH, diff
    try:
        m = matching_for(selected, rec["inspectors"], rec["conflicts"],
                                 rec["team_size"], seed, joint)
        m.initial()
        lottery.apply_amendments(m, rec["amendments"])
    except DrawError as e:
        return MISMATCH, f"无法重算本次抽取：{e}"
    teams = m.result()
    diff = _compare_teams(rec["teams"], teams)
    if diff:
        return MISMATCH, diff
    if joint:
        return OK, (f"核验通过：{len(selected)}个抽中对象与{len(teams)}个检查组全部一致；"
                    f"联合抽查（{'、'.join(sorted(joint['departments']))}），"
                    "每个检查组均含各部门执法人员。")
    return OK, f"核验通过：{len(selected)}个抽中对象与{len(teams)}个检查组全部一致。"


def verify_file(path) -> tuple[int, str]:
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        return MALFORMED, f"无法读取文件 {p}：文件不存在。"
    except IsADirectoryError:
        return MALFORMED, f"无法读取 {p}：这是一个目录，不是记录文件。"
    except PermissionError:
        return MALFORMED, f"无法读取文件 {p}：没有读取权限。"
    except OSError as e:
        return MALFORMED, f"无法读取文件 {p}：{e.strerror or e}。"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return MALFORMED, f"文件 {p} 不是 UTF-8 编码的文本。"
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        return MALFORMED, f"文件 {p} 不是有效的 JSON（第{e.lineno}行第{e.colno}列）。"
    except (ValueError, RecursionError):
        return MALFORMED, f"文件 {p} 不是有效的 JSON。"
    return verify_record(obj)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("用法：python -m kiosk.draw.verify 记录.json", file=sys.stderr)
        return MALFORMED
    code, message = verify_file(args[0])
    print(message, file=sys.stdout if code == OK else sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())

"""What a draw looks like on screen, from its view model: shared by the ceremony screen and
`kiosk watch`, so the terminal and every remote witness see the same thing."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import DataTable, Digits, Input, Label

from kiosk.draw.view import View
from screens.widgets.plain_table import PlainTable

DIGEST_LABELS = {"pool": "对象名录", "inspectors": "人员名录", "conflicts": "回避名录"}


@dataclass
class Presentation:
    """How far the screen has paged through the teams: the screen's own, not the draw's."""

    team_index: int = 0
    full_list: bool = False
    export_path: Path | None = None
    operator: bool = True  # the terminal that runs the draw (prompts for its keys)


def pct(bp: int) -> str:
    return f"{bp / 100:g}%"


def spaced(uscc: str) -> str:
    # Grouped like the printed certificate so a room can read it aloud.
    return f"{uscc[:2]} {uscc[2:8]} {uscc[8:17]} {uscc[17:]}"


def digests(v: View) -> list[Widget]:
    out: list[Widget] = [Label("抽取前公布的名录摘要（SHA-256，与预抽签表核对）：", classes="h")]
    for kind, label in DIGEST_LABELS.items():
        out.append(Label(f"{label} [b]{v.digests[kind]}[/b]", id=f"digest-{kind}"))
    return out


def witness_lines(v: View, entropy: bool = False, confirm: bool = False) -> list[Widget]:
    out: list[Widget] = []
    for w in v.witnesses:
        line = f"{w['position'] + 1}. {w['account']} {w['name']}（{w['organisation'] or '—'}）"
        if entropy:
            if w["entropy"] is not None:
                line += f"  随机数：{w['entropy']}"
            elif w["given"]:
                line += "  已录入（全部录入后公布）"
            else:
                line += "  （待录入）"
        if confirm:
            line += "  ✔ 已确认" if w["confirmed"] else "  （待确认）"
        out.append(Label(line, classes="witness", markup=False))
    return out


def _beacon_line(v: View) -> Label:
    if not v.beacon_source:
        return Label("公开信标：本次不使用", classes="muted", id="beacon")
    value = v.beacon if v.beacon is not None else "（待录入）"
    return Label(f"公开信标（来源：{v.beacon_source}）：{value}", id="beacon", markup=False)


def _prepared(v: View, p: Presentation) -> list[Widget]:
    strata = "\n".join(
        f"  {name:<6} 范围 {s['pool']:>6} 户  比例 {pct(s['ratio_bp']):>6}  抽取 {s['quota']:>4} 户"
        for name, s in v.strata.items())
    out: list[Widget] = [
        Label("抽取范围已冻结（抽查对象名录、执法人员名录、回避名录）", classes="h"),
        Label(strata, id="strata", markup=False),  # stratum names are the item's, typed
        Label(f"抽取范围共 {v.pool_size} 户；执法人员 {v.inspector_count} 名，每组 "
              f"{v.team_size} 名；已知回避 {v.conflict_count} 对。", id="counts"),
        *digests(v), _beacon_line(v),
        Label(f"见证人签到：已签到 {len(v.witnesses)} 名，至少需要 {v.quorum} 名", classes="h",
              id="quorum"),
        *witness_lines(v),
    ]
    if p.operator:
        hint = ("签到已满：按 p 打印预抽签表供签字，按 c 开始摇号；w 继续签到。"
                if len(v.witnesses) >= v.quorum else
                "按 w，由见证人本人输入账号和密码签到（操作员不能担任见证人）。")
        out.append(Label(hint, classes="muted", id="hint"))
    return out


def _commitment(v: View) -> list[Widget]:
    return [Label("系统随机数的承诺值（SHA-256，揭晓后可核对）：", classes="h"),
            Label(v.commitment, classes="big hex", id="commitment")]


def _committed(v: View, p: Presentation) -> list[Widget]:
    out: list[Widget] = [*_commitment(v), _beacon_line(v)]
    if v.beacon_needed:
        if p.operator:
            out += [Label("请操作员录入公开信标的数值，按 Enter 确认"
                          "（见证人录入随机数后不能更改）：",
                          id="entry-label"),
                    Input(placeholder="公开信标的数值", id="beacon-input")]
        return out
    out += [Label("见证人按签到顺序录入随机数（掷骰结果、数字或一句话，全部录入后公布）：",
                  classes="h"),
            *witness_lines(v, entropy=True)]
    pending = [w for w in v.witnesses if not w["given"]]
    if pending:
        w = pending[0]
        who = f"第 {w['position'] + 1} 位见证人 {w['account']}（{w['name']}）"
        out.append(Label(f"请{who}按 e，输入本人密码和随机数。", id="entry-label",
                         markup=False))
    return out


def _entropy(v: View, p: Presentation) -> list[Widget]:
    out: list[Widget] = [*_commitment(v), _beacon_line(v),
                         Label("见证人随机数（已全部录入）：", classes="h"),
                         *witness_lines(v, entropy=True)]
    if p.operator:
        out.append(Label("按 v 揭晓系统随机数并抽取检查对象。", classes="h", id="entry-label"))
    return out


def pick(v: View, index: int, team: bool) -> list[Widget]:
    """The n-th (1-based) selected target, large, with its team when `team`."""
    n = len(v.selected)
    s = v.selected[index - 1]
    out: list[Widget] = [
        Horizontal(Digits(f"{index}/{n}", id="counter"),
                   Label(f"第 {index} 个，共 {n} 个", id="counter-text"), id="counter-row"),
        Label(spaced(s["uscc"]), classes="big hex", id="pick-uscc"),
        Label(f"分层：{s['stratum']}" + (f"    名称：{s['name']}" if v.names_shown else ""),
              id="pick-meta", markup=False)]
    if team:
        out.append(Label("检查组：" + "  ".join(f"{m['cert_no']} {m['name']}" for m in s["team"]),
                         classes="h", id="pick-team", markup=False))
        for a in v.amendments:
            if a["target"] == s["uscc"]:
                out.append(Label(f"{a['inspector']} 申报回避（{a['reason']}）；"
                                 f"由协议抽取替补：{a['replacement']}", classes="amend",
                                 markup=False))
    return out


def _revealed(v: View, p: Presentation) -> list[Widget]:
    n, i = len(v.selected), v.reveal_index
    out: list[Widget] = [Label(f"系统随机数已揭晓（可与承诺值核对）：\n{v.system_entropy}",
                               classes="muted", id="system-entropy")]
    if i == 0:
        out += [Horizontal(Digits(f"0/{n}", id="counter"),
                           Label(f"共抽中 {n} 个检查对象", id="counter-text"), id="counter-row")]
        if p.operator:
            out.append(Label("按空格揭晓第 1 个检查对象，按 a 揭晓全部。", classes="h",
                             id="reveal-hint"))
        return out
    out += pick(v, i, team=False)
    if p.operator:
        hint = (f"按空格揭晓第 {i + 1} 个，按 a 揭晓其余全部。" if i < n
                else "全部检查对象已揭晓。按 m 匹配执法检查组。")
        out.append(Label(hint, classes="h" if i >= n else "muted", id="reveal-hint"))
    earlier = [f"{k + 1}. {s['uscc']} {s['stratum']}" for k, s in enumerate(v.selected[:i - 1])]
    if earlier:
        out.append(Label("已揭晓：" + "；".join(reversed(earlier)), classes="muted",
                         id="revealed-so-far", markup=False))
    return out


def teams_table(v: View) -> DataTable:
    table: DataTable = PlainTable(id="teams", cursor_type="row", zebra_stripes=True)
    cols = ["#", "统一社会信用代码", "分层", "检查组"]
    if v.names_shown:
        cols.append("名称")
    table.add_columns(*cols)
    for k, s in enumerate(v.selected):
        row = [str(k + 1), s["uscc"], s["stratum"],
               "、".join(f"{m['cert_no']} {m['name']}" for m in s["team"])]
        if v.names_shown:
            row.append(s["name"])
        table.add_row(*row, key=s["uscc"])
    return table


def _matched(v: View, p: Presentation) -> list[Widget]:
    n = len(v.selected)
    if not p.full_list:
        out = pick(v, max(1, p.team_index), team=True)
        more = (f"按空格显示第 {p.team_index + 1} 组" if p.team_index < n
                else "按空格显示全部检查组")
        out.append(Label(f"{more}；本组有人需回避请按 r。", classes="muted", id="team-hint"))
        return out
    done = sum(w["confirmed"] for w in v.witnesses)
    out = [Label(f"全部检查组（{n} 组，现场回避 {len(v.amendments)} 次）：", classes="h"),
           teams_table(v),
           Label(f"见证人确认：{done} / {len(v.witnesses)}", classes="h", id="confirm-count"),
           *witness_lines(v, confirm=True)]
    if v.state == "confirmed":
        out.append(Label("见证人已全部确认。" + ("按 s 封存。" if p.operator else ""),
                         classes="h", id="seal-hint"))
    elif p.operator:
        out.append(Label("↑↓ 选择，r 申报回避；k 由下一位见证人输入本人密码确认。",
                         classes="muted"))
    return out


def _sealed(v: View, p: Presentation) -> list[Widget]:
    out: list[Widget] = [
        Label("摇号已封存", classes="big", id="sealed-title"),
        Label(f"任务 {v.task}（第 {v.attempt} 次）：抽中 {len(v.selected)} 个检查对象，"
              f"现场回避 {len(v.amendments)} 次。", id="sealed-summary", markup=False),
        Label(f"承诺值 {v.commitment}", classes="muted"),
        Label(f"种子   {v.seed}", classes="muted", id="sealed-seed"),
        Label("名称在公示前不在共享屏幕显示（第十二条）。", classes="muted")]
    if p.operator:
        out.append(Label("按 p 打印摇号记录，t 打印任务单，e 导出核验记录；Esc 返回。",
                         classes="h"))
    if p.export_path:
        out += [Label(f"核验记录：{p.export_path}", id="export-path", markup=False),
                Label(f"核验命令：kiosk verify {p.export_path}", id="verify-cmd", markup=False)]
    return out


def _aborted(v: View, p: Presentation) -> list[Widget]:
    return [Label("本次摇号已中止", classes="big"),
            Label(f"任务 {v.task} 第 {v.attempt} 次摇号已中止，记录保留备查。"
                  + (f"理由：{v.abort_reason}" if v.abort_reason else ""), markup=False,
                  id="abort-reason"),
            Label("任务已回到“待摇号”，可重新摇号（编号为下一次）。", classes="muted")]


BODIES = {"prepared": _prepared, "witnesses": _prepared, "committed": _committed,
          "entropy": _entropy, "revealed": _revealed, "matched": _matched,
          "confirmed": lambda v, p: _matched(v, Presentation(full_list=True,
                                                              operator=p.operator)),
          "sealed": _sealed, "aborted": _aborted}


def body(v: View, p: Presentation) -> list[Widget]:
    out = BODIES[v.state](v, p)
    if v.earlier_attempts and v.state in ("prepared", "witnesses"):
        out.append(Label("此前各次：" + "；".join(
            f"第 {a['attempt']} 次 {a['state']}" + (f"（{a['reason']}）" if a["reason"] else "")
            for a in v.earlier_attempts), classes="muted", id="earlier", markup=False))
    return out


def side(v: View) -> list[Widget]:
    out: list[Widget] = [Label("公开核验信息", classes="h"), *digests(v)[1:]]
    if v.commitment:
        out.append(Label(f"承诺值 {v.commitment}"))
    if v.system_entropy:
        out.append(Label(f"系统随机数 {v.system_entropy}"))
    if v.seed:
        out.append(Label(f"种子 {v.seed}"))
    out.append(_beacon_line(v))
    out.append(Label(f"见证人（{len(v.witnesses)}/{v.quorum}）", classes="h"))
    out += witness_lines(v, entropy=v.state != "prepared",
                         confirm=v.state in ("matched", "confirmed", "sealed"))
    for name, s in v.strata.items():
        out.append(Label(f"{name}：{s['pool']} 户 × {pct(s['ratio_bp'])} → {s['quota']} 户",
                         markup=False))
    return out

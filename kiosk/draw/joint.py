"""Joint tasks (Art. 11) in the draw protocol: teams holding one inspector of each department.

Pure, like kiosk.draw.lottery: a dsr-draw/1 record with a `joint` field
{"departments": [...], "inspector_departments": {cert: dept}} is matched by JointMatching;
a record without it by lottery.Matching, unchanged (the spec's vectors still pass).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from kiosk.draw.lottery import DrawError, MalformedRecord, Matching


class JointMatching(Matching):
    """Joint tasks (Art. 11): every team holds at least one inspector of each department.

    For each target t and each department d in sorted order, one inspector is picked by
    pick_team among the eligible inspectors of d (label "team:" + t + ":dept:" + d); the rest
    of the team is filled by the normal rule (label "team:" + t). A recusal that leaves a team
    without its department draws the replacement from that department, else as usual."""

    def __init__(self, selected: Sequence[str], inspectors: Iterable[str], conflicts,
                 team_size: int, seed: str | bytes, joint: dict):
        super().__init__(selected, inspectors, conflicts, team_size, seed)
        self.departments = sorted(set(joint["departments"]))
        self.dept_of = dict(joint["inspector_departments"])
        self.members = {d: {i for i in self.staff if self.dept_of.get(i) == d}
                        for d in self.departments}
        if team_size < len(self.departments):
            raise DrawError(f"联合抽查有 {len(self.departments)} 个部门，"
                            f"每组 {team_size} 人不足以每个部门一人。")

    def _from_department(self, d: str, label: str, exclude: set[str], target: str) -> str:
        others = (self.staff - self.members[d]) | exclude
        if not self.members[d] - exclude:
            raise DrawError(f"检查对象 {target} 回避后没有 {d} 的可选执法人员，"
                            "无法组成联合检查组。")
        return self._pick(1, label, others)[0]

    def _team(self, t: str, exclude: set[str]) -> list[str]:
        """One inspector of each department first, then the rest by the normal rule."""
        team: list[str] = []
        for d in self.departments:
            team.append(self._from_department(d, "team:" + t + ":dept:" + d,
                                              exclude | set(team), t))
        team.extend(self._pick(self.team_size - len(team), "team:" + t, exclude | set(team)))
        return team

    def amend(self, target: str, inspector: str) -> str:
        team = self.teams.get(target)
        d = self.dept_of.get(inspector)
        if (team is None or inspector not in team or d not in self.members
                or any(self.dept_of.get(i) == d for i in team if i != inspector)):
            return super().amend(target, inspector)
        n = len(self.replacements)  # the team's only member of d: replaced from d
        self.conflicts.setdefault(target, set()).add(inspector)
        team.remove(inspector)
        self._move(inspector, -1)
        exclude = (self.conflicts[target] & self.staff) | set(team)
        try:
            new = self._from_department(d, "replace:" + str(n) + ":" + target, exclude, target)
        except DrawError:
            self.conflicts[target].discard(inspector)
            team.append(inspector)
            self._move(inspector, 1)
            raise DrawError(f"第{n + 1}项回避申报无法执行：检查对象 {target} 已没有 {d} "
                            "的可替换执法人员。") from None
        self._move(new, 1)
        team.append(new)
        self.replacements.append(new)
        return new


def validate_joint(joint, inspectors: Iterable[str]) -> None:
    """A record's optional `joint` field: departments, and a department for every inspector."""
    if not isinstance(joint, dict) or set(joint) != {"departments", "inspector_departments"}:
        raise MalformedRecord("字段“joint”应为 {departments, inspector_departments}。")
    deps, of = joint["departments"], joint["inspector_departments"]
    if (not isinstance(deps, list) or len(deps) < 2 or len(set(deps)) != len(deps)
            or not all(isinstance(d, str) and d for d in deps)):
        raise MalformedRecord("字段“joint.departments”应为至少两个不同部门名称的列表。")
    if not isinstance(of, dict) or not all(isinstance(v, str) for v in of.values()):
        raise MalformedRecord("字段“joint.inspector_departments”应为 {执法证号: 部门}。")
    missing = [i for i in inspectors if i not in of]
    if missing:
        raise MalformedRecord(f"联合抽查记录缺少执法人员 {missing[0]} 的所属部门。")


def matching_for(selected, inspectors, conflicts, team_size: int, seed: str | bytes,
                 joint: dict | None = None) -> Matching:
    """The matching a record asks for: joint when it carries a `joint` field (Art. 11)."""
    if joint:
        return JointMatching(selected, inspectors, conflicts, team_size, seed, joint)
    return Matching(selected, inspectors, conflicts, team_size, seed)

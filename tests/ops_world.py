"""A demo store with evidence attached to a sealed task: the shared start of the ops tests."""
from __future__ import annotations

from pathlib import Path

from db.models import Assignment, AssignmentMember, Draw, User


def member_and_assignment() -> tuple[User, Assignment]:
    """An inspector account on a team of the demo's sealed draw, and that team's task."""
    for m in (AssignmentMember.select().join(Assignment).join(Draw)
              .where(Draw.state == "sealed").order_by(Assignment.id)):
        user = User.get_or_none(User.inspector == m.inspector_id)
        if user is not None:
            return user, m.assignment
    raise AssertionError("the demo has no inspector account on a sealed team")


def demo_with_evidence(tmp: Path, n: int = 2):
    """The demo store plus `n` evidence photos on one report; returns their Evidence rows."""
    from kiosk import demo, reports

    demo.build(fresh=True)
    user, assignment = member_and_assignment()
    rep = reports.open_report(assignment, user)
    rows = []
    for i in range(n):
        photo = tmp / f"现场照片{i}.jpg"
        photo.write_bytes(b"\xff\xd8\xff" + bytes([i]) * 3000)
        rows.append(reports.attach_evidence(rep, photo, user))
    return user, rep, rows

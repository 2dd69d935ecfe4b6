"""`kiosk open PAYLOAD` without --check: the kiosk opens on the scan flow for that slip."""
from __future__ import annotations

import datetime as dt

from textual.widgets import Input

from db.models import Assignment, AssignmentMember, Draw, Report, User
from kiosk import demo, slips
from screens.app import make_app
from screens.login import LoginModal
from screens.report import ReportScreen
from screens.scan import ScanScreen


async def test_open_payload_starts_on_the_scan_flow(db, tmp_path):
    demo.build(n_targets=300, today=dt.date(2026, 6, 1))
    draw = Draw.get(Draw.state == "sealed")
    slips.render_slips(draw.id, tmp_path / "slips.pdf", "operator")
    insp = User.get(User.username == "insp01").inspector
    a = (Assignment.select().join(AssignmentMember)
         .where((Assignment.draw == draw) & (AssignmentMember.inspector == insp)).first())
    app = make_app(open_payload=slips.payload(a))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen_stack[-2], ScanScreen)
        assert isinstance(app.screen, LoginModal)  # the scanned slip asks its inspector to log in
        assert not any(isinstance(s, ScanScreen) and s.query_one("#payload", Input).value
                       for s in app.screen_stack)
        await pilot.press(*"insp01", "enter", *"insp123", "enter")
        await app.workers.wait_for_complete()  # the login check, if it runs in a worker
        await pilot.pause()
        assert isinstance(app.screen, ReportScreen)
        assert app.user.username == "insp01"
        assert Report.get(Report.assignment == a).state == "draft"

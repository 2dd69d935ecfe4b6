"""The ceremony's witness dialog at 80x24: the sentence a witness signs for is shown whole."""
from __future__ import annotations

from textual.widgets import Label

from screens.app import make_app
from screens.widgets.ceremony_modals import WitnessModal

PROMPT = ("见证人 witness1（钱正平）确认：所见摇号过程和结果（75 个检查对象及其检查组）"
          "与屏幕和预抽签表一致。请输入本人密码。")


async def test_the_witness_reads_the_whole_sentence_they_confirm(db):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(WitnessModal("见证人确认", PROMPT, account="witness1"))
        await pilot.pause()
        label = app.screen.query(Label)[1]
        assert str(label.content) == PROMPT
        # Wrapped inside the 72-column dialog, not cut at its edge: every cell of the
        # sentence (two per CJK character) fits in the lines the label is given.
        assert label.size.width <= 70
        from rich.cells import cell_len

        assert label.size.height * label.size.width >= cell_len(PROMPT)

"""`kiosk publish DRAW_ID --out DIR` and `kiosk publish lists --out DIR` (Art. 4, 5, 13)."""
from __future__ import annotations

from kiosk.errors import UserError


def cmd_publish(args) -> int:
    from kiosk import access, publication
    from kiosk.cli import _account, _connect

    what = args.what.strip()
    if what != "lists" and not what.isdigit():
        raise UserError(f"“{what}”不是摇号编号：请写摇号编号（数字）或 lists。")
    _connect(args)
    if args.versions:
        if what == "lists":
            rows = publication.versions(None, kind="lists")
        else:
            rows = publication.versions(int(what))
        if not rows:
            print("尚未公示。")
        for v in rows:
            counts = "，".join(f"{k} {n}" for k, n in v.counts.items())
            print(f"第 {v.version} 版  {v.published_at}  {v.published_by}  {counts}  {v.archive}")
        return 0
    if not args.out:
        raise UserError("请用 --out 指定公示文件目录。")
    user = _account(args, may=access.may_publish, refusal=access.MAY_NOT_PUBLISH)
    if what == "lists":
        res = publication.publish_lists(args.out, user)
        n_items, n_insp = res.counts.get("items", 0), res.counts.get("inspectors", 0)
        print(f"已发布公示名录第 {res.version} 版到 {res.folder}："
              f"事项 {n_items} 项，执法人员 {n_insp} 名。")
        return 0
    res = publication.publish_draw(int(what), args.out, user)
    counts = "，".join(f"{k} {n} 个" for k, n in res.counts.items())
    print(f"已发布摇号 {what} 的结果公示第 {res.version} 版到 {res.folder}（{counts}）；"
          "核验：sha256sum -c SHA256SUMS && python3 verify.py record.json")
    return 0


def register(sub, common) -> None:
    s = sub.add_parser("publish", parents=[common],
                       help="公示摇号结果（局领导）：kiosk publish 摇号编号 --out 目录；"
                            "公示名录：kiosk publish lists --out 目录")
    s.add_argument("what", metavar="DRAW_ID|lists")
    s.add_argument("--out", help="写入公示文件的目录")
    s.add_argument("--versions", action="store_true", help="列出已发布的各版本")
    s.set_defaults(func=cmd_publish)

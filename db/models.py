"""The bureau's records as Peewee models: registries, plans, draws, assignments, reports, audit."""
from __future__ import annotations

import datetime as dt

from peewee import (
    BigIntegerField,
    BlobField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from db.connection import database


def now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class Setting(BaseModel):
    """Key/value settings: bureau name, base_url, printer, paper size, secrets made at init."""

    key = CharField(primary_key=True, max_length=64)
    value = TextField()


class Item(BaseModel):
    """An entry of the public random-inspection item list (Art. 4)."""

    code = CharField(unique=True, max_length=32)  # e.g. RS-01
    name = CharField(max_length=200)
    legal_basis = TextField()
    content = TextField()  # what is checked; one point a line
    method = CharField(max_length=16, default="现场检查")  # 现场检查 / 书面检查 (Art. 8)
    category = CharField(max_length=64, index=True)  # target category this item draws from
    ratio_bp = IntegerField(default=100)  # default stratum ratio, basis points (1% = 100)
    frequency = IntegerField(default=3)  # draws a year (Art. 7: at least 3)
    lead_office = CharField(max_length=64)  # 责任股室
    offices = TextField(default="")  # offices whose inspectors may be drawn, separated by ';'
    departments = TextField(default="")  # departments for joint items (Art. 11), separated by ';'
    team_size = IntegerField(default=2)
    recognition_months = IntegerField(default=12)  # Art. 16: recent inspections are recognised
    # Art. 7: special targets are drawn more often and may be drawn again within the year;
    # 0 / None: as the item's own frequency and window.
    special_frequency = IntegerField(default=0)
    special_recognition_months = IntegerField(null=True)
    small_micro_reason = TextField(default="")  # why small/micro firms get a ratio under 1%
    version = IntegerField(default=1)  # bumped on every change (Art. 4)
    active = BooleanField(default=True)
    updated_at = DateTimeField(default=now)


class ItemStratum(BaseModel):
    """A stratum of an item's pool and its ratio (Art. 7; Henan's credit-risk tiers).

    criterion: 'special' (many complaints / serious violation / high risk), 'small_micro',
    'risk:<class>' for a credit-risk class, or 'default' for whatever else is left.
    """

    item = ForeignKeyField(Item, backref="strata", on_delete="CASCADE")
    name = CharField(max_length=32)
    criterion = CharField(max_length=32)
    ratio_bp = IntegerField()
    position = IntegerField(default=0)  # first matching criterion wins

    class Meta:
        indexes = ((("item", "name"), True),)


class Inspector(BaseModel):
    """An entry of the inspector directory (Art. 5)."""

    cert_no = CharField(unique=True, max_length=32)  # 执法证号
    name = CharField(max_length=64, index=True)
    office = CharField(max_length=64, index=True)  # 股室 / 大队
    department = CharField(max_length=64, default="商水县人力资源和社会保障局")
    cert_valid_from = DateField(null=True)
    cert_valid_until = DateField(null=True)
    active = BooleanField(default=True)
    phone = CharField(max_length=32, default="")
    updated_at = DateTimeField(default=now)


class Target(BaseModel):
    """An entry of the target directory (Art. 6, 19)."""

    uscc = CharField(unique=True, max_length=18)
    name = CharField(max_length=200, index=True)
    category = CharField(max_length=64)
    township = CharField(max_length=64, default="")
    address = CharField(max_length=255, default="")
    size_class = CharField(max_length=8, default="小型")  # 大型 / 中型 / 小型 / 微型
    credit_risk = CharField(max_length=8, default="低")  # 高 / 较高 / 中 / 低
    complaint_count = IntegerField(default=0)
    serious_violation = BooleanField(default=False)
    active = BooleanField(default=True)
    updated_at = DateTimeField(default=now)

    class Meta:
        indexes = (
            (("category", "active"), False),
            (("township",), False),
        )


class Conflict(BaseModel):
    """A known recusal pair: the inspector must not inspect the target (Art. 5)."""

    inspector = ForeignKeyField(Inspector, backref="conflicts", on_delete="CASCADE")
    target = ForeignKeyField(Target, backref="conflicts", on_delete="CASCADE")
    reason = TextField(default="")
    declared_at = DateTimeField(default=now)

    class Meta:
        indexes = ((("inspector", "target"), True),)


class Training(BaseModel):
    """A training an inspector attended (Art. 15)."""

    inspector = ForeignKeyField(Inspector, backref="trainings", on_delete="CASCADE")
    title = CharField(max_length=200)
    date = DateField()
    hours = IntegerField(default=0)
    organizer = CharField(max_length=128, default="")

    class Meta:
        indexes = ((("inspector", "title", "date"), True),)


class InspectionRecord(BaseModel):
    """A past inspection of a target, ours or another department's (Art. 16: recognised, not
    repeated)."""

    target = ForeignKeyField(Target, backref="inspections", on_delete="CASCADE")
    date = DateField(index=True)
    department = CharField(max_length=64)
    reference = CharField(max_length=64, default="")


class User(BaseModel):
    username = CharField(unique=True, max_length=32)
    display_name = CharField(max_length=64)
    role = CharField(max_length=16)  # admin / operator / witness / inspector / reviewer / leader
    password_hash = CharField(max_length=255)
    inspector = ForeignKeyField(Inspector, null=True, backref="users", on_delete="SET NULL")
    office = CharField(max_length=64, default="")
    active = BooleanField(default=True)
    must_change = BooleanField(default=False)  # set by an administrator's reset


class PlanTask(BaseModel):
    """A planned draw: one round of one item in the year's plan (Art. 7, 18)."""

    code = CharField(unique=True, max_length=32)  # e.g. 2026-RS-01-1
    year = IntegerField(index=True)
    item = ForeignKeyField(Item, backref="tasks")
    round_no = IntegerField()
    planned_month = IntegerField()
    state = CharField(max_length=16, default="planned")  # planned / drawing / drawn / cancelled
    note = TextField(default="")
    # Art. 18: only a round a leader approved may be drawn; a change clears the approval.
    approved_by = CharField(max_length=32, default="")
    approved_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("item", "year", "round_no"), True),)


class Draw(BaseModel):
    """One draw attempt of a task. Attempts are numbered per task and never deleted."""

    task = ForeignKeyField(PlanTask, backref="draws")
    attempt_no = IntegerField()
    state = CharField(max_length=16, default="prepared")
    operator = CharField(max_length=32)
    started_at = DateTimeField(default=now)
    updated_at = DateTimeField(default=now)
    sealed_at = DateTimeField(null=True)
    abort_reason = TextField(default="")
    draw_date = DateField(default=dt.date.today)
    pool_digest = CharField(max_length=64)
    inspectors_digest = CharField(max_length=64)
    conflicts_digest = CharField(max_length=64)
    strata_json = TextField()  # {"stratum": {"ratio_bp": n}}
    team_size = IntegerField(default=2)
    pool_size = IntegerField(default=0)
    # Empty until the reveal: before it the store holds only the commitment and, in
    # sealed_entropy, the entropy encrypted under the kiosk's key file (kiosk/secrets.py).
    system_entropy = CharField(max_length=64, default="")
    sealed_entropy = TextField(default="")
    beacon_source = TextField(default="")  # declared at freeze, printed on the pre-draw sheet
    commitment = CharField(max_length=64, default="")
    beacon = TextField(null=True)
    seed = CharField(max_length=64, default="")
    results_json = TextField(default="")  # selected + teams, once computed
    record_json = TextField(default="")  # the sealed record, as exported for `kiosk verify`
    lock_owner = CharField(max_length=128, default="")  # which terminal holds the ceremony
    lock_at = DateTimeField(null=True)
    reveal_index = IntegerField(default=0)  # how many picks have been shown on screen

    class Meta:
        indexes = ((("task", "attempt_no"), True),)
        # A save writes only the fields set since the row was read: each ceremony step
        # rewrote the draw's whole row, its large results and record JSON too (33 ms on
        # PostgreSQL for a million-target draw's seal).
        only_save_dirty = True


class DrawListing(BaseModel):
    """The frozen inputs of a draw: pool, inspectors and conflicts listings (gzip of the TSV)."""

    draw = ForeignKeyField(Draw, backref="listings", on_delete="CASCADE")
    kind = CharField(max_length=16)  # pool / inspectors / conflicts
    digest = CharField(max_length=64)
    rows = IntegerField()
    content = BlobField()

    class Meta:
        indexes = ((("draw", "kind"), True),)


class DrawWitness(BaseModel):
    draw = ForeignKeyField(Draw, backref="witnesses", on_delete="CASCADE")
    position = IntegerField()
    name = CharField(max_length=64)
    organisation = CharField(max_length=128, default="")
    account = CharField(max_length=32, default="")  # the witness's own kiosk account
    entropy = TextField(null=True)  # as typed
    signed_at = DateTimeField(default=now)
    confirmed_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("draw", "position"), True),)


class DrawAmendment(BaseModel):
    draw = ForeignKeyField(Draw, backref="amendments", on_delete="CASCADE")
    seq = IntegerField()
    target_uscc = CharField(max_length=18)
    inspector_cert = CharField(max_length=32)
    reason = TextField()
    replacement_cert = CharField(max_length=32, default="")
    declared_at = DateTimeField(default=now)

    class Meta:
        indexes = ((("draw", "seq"), True),)


class Assignment(BaseModel):
    """A selected target of a sealed draw with its team: one task slip."""

    draw = ForeignKeyField(Draw, backref="assignments")
    position = IntegerField()
    task_code = CharField(unique=True, max_length=32)  # e.g. 2026-07-0013
    target = ForeignKeyField(Target, backref="assignments")
    stratum = CharField(max_length=32, default="")
    slip_version = IntegerField(default=0)  # 0: never printed
    state = CharField(max_length=16, default="assigned")  # assigned / reported / final


class AssignmentMember(BaseModel):
    assignment = ForeignKeyField(Assignment, backref="members", on_delete="CASCADE")
    inspector = ForeignKeyField(Inspector, backref="assignments")
    position = IntegerField()

    class Meta:
        indexes = ((("assignment", "inspector"), True),)


class Report(BaseModel):
    """The inspection report of one assignment (Art. 9, 10)."""

    assignment = ForeignKeyField(Assignment, unique=True, backref="reports")
    state = CharField(max_length=16, default="draft")  # draft / submitted / reviewed / final
    inspection_start = DateTimeField(null=True)
    inspection_end = DateTimeField(null=True)
    method = CharField(max_length=16, default="现场检查")
    inspectors_present = TextField(default="")
    unit = CharField(max_length=200, default="")
    content_checked = TextField(default="")
    onsite_record = TextField(default="")  # 现场检查笔录
    evaluation = TextField(default="")
    finding = CharField(max_length=16, default="")  # 无问题 / 责令整改 / 行政处罚 / 移送司法机关
    rectify_deadline = DateField(null=True)
    opinion = TextField(default="")  # 处理意见和建议
    due_date = DateField(null=True)
    due_provisional = BooleanField(default=False)
    submitted_by = CharField(max_length=32, default="")
    submitted_at = DateTimeField(null=True)
    reviewed_by = CharField(max_length=32, default="")
    reviewed_at = DateTimeField(null=True)
    review_note = TextField(default="")
    finalised_at = DateTimeField(null=True)
    updated_at = DateTimeField(default=now)


class Evidence(BaseModel):
    report = ForeignKeyField(Report, backref="evidence", on_delete="CASCADE")
    filename = CharField(max_length=255)
    sha256 = CharField(max_length=64)
    size = BigIntegerField()
    stored_path = TextField()
    added_by = CharField(max_length=32)
    added_at = DateTimeField(default=now)
    # A file attached by mistake is withdrawn before submission, never deleted: it stays on
    # file, marked, with who withdrew it and why (Art. 9 全程留痕).
    withdrawn_at = DateTimeField(null=True)
    withdrawn_by = CharField(max_length=32, default="")
    withdraw_reason = TextField(default="")

    class Meta:
        indexes = ((("report", "sha256"), True),)


class Rectification(BaseModel):
    """A rectification order tracked until closed (Art. 10)."""

    report = ForeignKeyField(Report, backref="rectifications", on_delete="CASCADE")
    deadline = DateField()
    closed_at = DateTimeField(null=True)
    closed_by = CharField(max_length=32, default="")
    note = TextField(default="")


class Holiday(BaseModel):
    """The bureau's own working-day calendar for years the package does not know yet."""

    date = DateField(primary_key=True)
    is_workday = BooleanField()  # True for a 调休 make-up working day
    name = CharField(max_length=64, default="")


class AuditEvent(BaseModel):
    """Tamper-evident log (Art. 9, 14, 18): each entry hashes the one before it."""

    seq = BigIntegerField(unique=True)
    at = DateTimeField(default=now)
    actor = CharField(max_length=32)
    action = CharField(max_length=48, index=True)
    entity = CharField(max_length=32, default="")
    entity_id = CharField(max_length=64, default="")
    detail = TextField(default="{}")
    prev_hash = CharField(max_length=64)
    hash = CharField(max_length=64)
    # JSON {"kind:id": {"part": sha256}}: content hashes of the rows this event covers.
    covers = TextField(default="")


class Publication(BaseModel):
    """One published version of a draw's notice or of the public lists (Art. 13, 4, 5).

    Versions are never replaced: publishing again as more reports become final adds one."""

    kind = CharField(max_length=16)  # draw / lists
    draw = ForeignKeyField(Draw, null=True, backref="publications")
    version = IntegerField()
    published_at = DateTimeField(default=now)
    published_by = CharField(max_length=32)
    effective_date = DateField(default=dt.date.today)
    files_json = TextField(default="{}")  # {file name: sha256} of the kit
    results_json = TextField(default="{}")  # what the notice said: {uscc: result}, counts
    archive = TextField(default="")  # where the store keeps this version's kit

    class Meta:
        indexes = ((("kind", "draw", "version"), True),)


class ItemVersion(BaseModel):
    """Every version of an item of the public item list, with its effective date (Art. 4)."""

    code = CharField(max_length=32, index=True)
    version = IntegerField()
    effective_from = DateField()
    fields_json = TextField()  # the item's public fields and strata as of this version
    recorded_at = DateTimeField(default=now)

    class Meta:
        indexes = ((("code", "version"), True),)


class EnforcementCase(BaseModel):
    """A finding followed to its end (Art. 10): one case per final report with a finding.

    kind is the report's finding; each kind has its own steps and fields (kiosk/cases.py).
    deadline is the current step's: the case is overdue once it has passed."""

    report = ForeignKeyField(Report, unique=True, backref="cases", on_delete="CASCADE")
    kind = CharField(max_length=16)  # 责令整改 / 行政处罚 / 移送司法机关
    state = CharField(max_length=16, default="open", index=True)
    opened_at = DateTimeField(default=now)
    deadline = DateField(null=True)
    rectification = ForeignKeyField(Rectification, null=True, on_delete="SET NULL")
    reinspected_on = DateField(null=True)  # 责令整改: the re-inspection
    reinspection = TextField(default="")
    decision_no = CharField(max_length=64, default="")  # 行政处罚: the decision
    decision_date = DateField(null=True)
    amount_fen = BigIntegerField(null=True)  # the fine in fen: money is never a float
    paid_on = DateField(null=True)
    appealed_on = DateField(null=True)
    organ = CharField(max_length=128, default="")  # 移送司法机关: the receiving organ
    transferred_on = DateField(null=True)
    receipt_no = CharField(max_length=64, default="")
    outcome = TextField(default="")  # how it ended (appeal, transfer, closing note)
    closed_at = DateTimeField(null=True)
    closed_by = CharField(max_length=32, default="")
    updated_at = DateTimeField(default=now)


class Sanction(BaseModel):
    """A sanction on an inspector (Art. 18): 批评教育, 通报批评, 暂扣执法证, 吊销执法证, 调离."""

    inspector = ForeignKeyField(Inspector, backref="sanctions", on_delete="CASCADE")
    kind = CharField(max_length=16)
    start_date = DateField()
    end_date = DateField(null=True)  # 暂扣执法证: the last day of the suspension
    reason = TextField()
    decided_by = CharField(max_length=128, default="")  # the organ or decision document
    recorded_by = CharField(max_length=32)
    recorded_at = DateTimeField(default=now)


ALL_MODELS = [
    Setting,
    Item,
    ItemStratum,
    Inspector,
    Target,
    Conflict,
    Training,
    InspectionRecord,
    User,
    PlanTask,
    Draw,
    DrawListing,
    DrawWitness,
    DrawAmendment,
    Assignment,
    AssignmentMember,
    Report,
    Evidence,
    Rectification,
    Holiday,
    AuditEvent,
    Publication,
    ItemVersion,
    EnforcementCase,
    Sanction,
]

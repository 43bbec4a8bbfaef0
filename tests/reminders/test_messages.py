"""What a reminder says, pinned to the letter: the phrases in Vietnamese and English and
the e-mails (one reminder, or the daily digest) exactly as they leave. The texts live in
templates; a change of wording must show up here as a deliberate edit."""

from __future__ import annotations

from datetime import date
from email.message import EmailMessage

import pytest

from workflow.config import SmtpSettings
from workflow.models import User
from workflow.reminders.messages import ReminderView, compose
from workflow.reminders.outbox import Outbox

TODAY = date(2027, 1, 31)
OUTBOX = Outbox(SmtpSettings(sender="ketnap@test"), "http://ketnap.test/")
SPONSOR = User(
    username="sponsor",
    full_name="Đảng viên giới thiệu",
    email="sponsor@ketnap.local",
    role="sponsor",
)
SECRETARY = User(username="secretary", email="secretary@ketnap.local", role="secretary")
USERS = {"sponsor": SPONSOR, "secretary": SECRETARY}


def reminder(
    reminder_id: int,
    deadline: str,
    due: date,
    stage: str,
    *,
    warn: int = 0,
    cause: str = "deadline",
    person: str = "Nguyễn Thị Lan",
    failed_votes: int = 0,
) -> ReminderView:
    cell = "Chi bộ thôn Hương Câu"
    return ReminderView(
        reminder_id, 42, deadline, due, stage, warn, cause, person, cell, failed_votes
    )


REMINDERS = {
    "certificate": reminder(1, "certificate", date(2027, 3, 2), "upcoming", warn=30),
    "ceremony": reminder(2, "ceremony", date(2027, 1, 31), "due"),
    "votes": reminder(
        3, "confirmation_vote", date(2027, 1, 20), "escalated", cause="failed_votes", failed_votes=2
    ),
    "late": reminder(4, "decision", date(2027, 1, 10), "overdue", person="Trần Văn Hùng"),
    "escalated": reminder(5, "theory_class", date(2026, 12, 1), "escalated"),
}


PHRASES = [
    (
        "certificate",
        "vi",
        "Sắp đến hạn",
        "Giấy chứng nhận lớp nhận thức hết hạn — quá hạn thì không thể: Chi bộ biểu quyết đề nghị kết nạp",
        "02/03/2027 (còn 30 ngày)",
    ),
    (
        "certificate",
        "en",
        "Coming up",
        "Awareness certificate expires — afterwards impossible: Cell vote on admission",
        "02/03/2027 (30 days left)",
    ),
    ("ceremony", "vi", "Đến hạn", "Tổ chức lễ kết nạp", "31/01/2027 (hôm nay)"),
    ("ceremony", "en", "Due", "Admission ceremony", "31/01/2027 (today)"),
    (
        "votes",
        "vi",
        "Báo cáo cấp trên",
        "Chi bộ xét công nhận chính thức: chi bộ đã 2 lần biểu quyết không đạt hai phần ba; cấp ủy có thẩm quyền xem xét, quyết định (QĐ 294 §4.2c)",
        "20/01/2027 (đã quá hạn 11 ngày)",
    ),
    (
        "votes",
        "en",
        "Escalated",
        "Cell confirmation vote: the cell voted 2 times without the two-thirds majority; the competent committee decides (QĐ 294 §4.2c)",
        "20/01/2027 (11 days overdue)",
    ),
    ("late", "vi", "Quá hạn", "Quyết định kết nạp", "10/01/2027 (đã quá hạn 21 ngày)"),
    ("late", "en", "Overdue", "Admission decision", "10/01/2027 (21 days overdue)"),
    (
        "escalated",
        "vi",
        "Báo cáo cấp trên",
        "Học lớp bồi dưỡng đảng viên mới",
        "01/12/2026 (đã quá hạn 61 ngày)",
    ),
    ("escalated", "en", "Escalated", "New-member theory class", "01/12/2026 (61 days overdue)"),
]


@pytest.mark.parametrize(("name", "lang", "stage", "what", "when"), PHRASES)
def test_a_reminder_says_its_stage_what_to_do_and_when_in_both_languages(
    name: str, lang: str, stage: str, what: str, when: str
) -> None:
    view = REMINDERS[name]
    assert (view.stage_label(lang), view.what(lang), view.when(TODAY, lang)) == (stage, what, when)


MAILS = {
    "one_reminder": (
        "sponsor",
        ["certificate"],
        "[Ketnap] Sắp đến hạn: Giấy chứng nhận lớp nhận thức hết hạn — Nguyễn Thị Lan (hạn 02/03/2027)",
        """\
Kính gửi đồng chí Đảng viên giới thiệu,

Xin nhắc đồng chí: hồ sơ dưới đây sắp đến hạn.

  • Họ và tên: Nguyễn Thị Lan
  • Chi bộ: Chi bộ thôn Hương Câu
  • Việc cần làm: Giấy chứng nhận lớp nhận thức hết hạn — quá hạn thì không thể: Chi bộ biểu quyết đề nghị kết nạp
  • Thời hạn: 02/03/2027 (còn 30 ngày)
  • Căn cứ: HD 06 §5.4
  • Mở hồ sơ: http://ketnap.test/cases/42

Trân trọng,
Hệ thống Ketnap

—
Thư gửi tự động, xin đừng trả lời thư này. Mọi việc cần làm của đồng chí: http://ketnap.test/tasks
""",
    ),
    "due_today": (
        "secretary",
        ["ceremony"],
        "[Ketnap] Đến hạn: Tổ chức lễ kết nạp — Nguyễn Thị Lan (hạn 31/01/2027)",
        """\
Kính gửi đồng chí secretary,

Xin nhắc đồng chí: hồ sơ dưới đây đến hạn.

  • Họ và tên: Nguyễn Thị Lan
  • Chi bộ: Chi bộ thôn Hương Câu
  • Việc cần làm: Tổ chức lễ kết nạp
  • Thời hạn: 31/01/2027 (hôm nay)
  • Căn cứ: QĐ 294 §4.1
  • Mở hồ sơ: http://ketnap.test/cases/42?step=hold_ceremony

Trân trọng,
Hệ thống Ketnap

—
Thư gửi tự động, xin đừng trả lời thư này. Mọi việc cần làm của đồng chí: http://ketnap.test/tasks
""",
    ),
    "failed_votes": (
        "sponsor",
        ["votes"],
        "[Ketnap] Báo cáo cấp trên: Chi bộ xét công nhận chính thức — Nguyễn Thị Lan (hạn 20/01/2027)",
        """\
Kính gửi đồng chí Đảng viên giới thiệu,

Hồ sơ dưới đây được báo cáo lên cấp ủy có thẩm quyền vì chi bộ đã 2 lần biểu quyết không đạt đề nghị công nhận đảng viên chính thức.

  • Họ và tên: Nguyễn Thị Lan
  • Chi bộ: Chi bộ thôn Hương Câu
  • Việc cần làm: Chi bộ xét công nhận chính thức: chi bộ đã 2 lần biểu quyết không đạt hai phần ba; cấp ủy có thẩm quyền xem xét, quyết định (QĐ 294 §4.2c)
  • Thời hạn: 20/01/2027 (đã quá hạn 11 ngày)
  • Căn cứ: QĐ 294 §4.2a
  • Mở hồ sơ: http://ketnap.test/cases/42

Trân trọng,
Hệ thống Ketnap

—
Thư gửi tự động, xin đừng trả lời thư này. Mọi việc cần làm của đồng chí: http://ketnap.test/tasks
""",
    ),
    "overdue": (
        "secretary",
        ["late"],
        "[Ketnap] Quá hạn: Quyết định kết nạp — Trần Văn Hùng (hạn 10/01/2027)",
        """\
Kính gửi đồng chí secretary,

Hồ sơ dưới đây đã quá hạn; đề nghị đồng chí khẩn trương thực hiện.

  • Họ và tên: Trần Văn Hùng
  • Chi bộ: Chi bộ thôn Hương Câu
  • Việc cần làm: Quyết định kết nạp
  • Thời hạn: 10/01/2027 (đã quá hạn 21 ngày)
  • Căn cứ: QĐ 294 §4.3.1
  • Mở hồ sơ: http://ketnap.test/cases/42

Trân trọng,
Hệ thống Ketnap

—
Thư gửi tự động, xin đừng trả lời thư này. Mọi việc cần làm của đồng chí: http://ketnap.test/tasks
""",
    ),
    "escalated": (
        "secretary",
        ["escalated"],
        "[Ketnap] Báo cáo cấp trên: Học lớp bồi dưỡng đảng viên mới — Nguyễn Thị Lan (hạn 01/12/2026)",
        """\
Kính gửi đồng chí secretary,

Hồ sơ dưới đây đã quá hạn và được báo cáo lên cấp ủy cấp trên để đôn đốc, xử lý.

  • Họ và tên: Nguyễn Thị Lan
  • Chi bộ: Chi bộ thôn Hương Câu
  • Việc cần làm: Học lớp bồi dưỡng đảng viên mới
  • Thời hạn: 01/12/2026 (đã quá hạn 61 ngày)
  • Căn cứ: hướng dẫn nghiệp vụ
  • Mở hồ sơ: http://ketnap.test/cases/42?step=complete_theory_class

Trân trọng,
Hệ thống Ketnap

—
Thư gửi tự động, xin đừng trả lời thư này. Mọi việc cần làm của đồng chí: http://ketnap.test/tasks
""",
    ),
    "digest": (
        "sponsor",
        ["certificate", "ceremony", "votes", "late"],
        "[Ketnap] Nhắc việc ngày 31/01/2027: 4 việc cần đồng chí quan tâm",
        """\
Kính gửi đồng chí Đảng viên giới thiệu,

Có 4 việc cần đồng chí quan tâm:

1. [Sắp đến hạn] Giấy chứng nhận lớp nhận thức hết hạn — Nguyễn Thị Lan
  • Họ và tên: Nguyễn Thị Lan
  • Chi bộ: Chi bộ thôn Hương Câu
  • Việc cần làm: Giấy chứng nhận lớp nhận thức hết hạn — quá hạn thì không thể: Chi bộ biểu quyết đề nghị kết nạp
  • Thời hạn: 02/03/2027 (còn 30 ngày)
  • Căn cứ: HD 06 §5.4
  • Mở hồ sơ: http://ketnap.test/cases/42

2. [Đến hạn] Tổ chức lễ kết nạp — Nguyễn Thị Lan
  • Họ và tên: Nguyễn Thị Lan
  • Chi bộ: Chi bộ thôn Hương Câu
  • Việc cần làm: Tổ chức lễ kết nạp
  • Thời hạn: 31/01/2027 (hôm nay)
  • Căn cứ: QĐ 294 §4.1
  • Mở hồ sơ: http://ketnap.test/cases/42

3. [Báo cáo cấp trên] Chi bộ xét công nhận chính thức — Nguyễn Thị Lan
  • Họ và tên: Nguyễn Thị Lan
  • Chi bộ: Chi bộ thôn Hương Câu
  • Việc cần làm: Chi bộ xét công nhận chính thức: chi bộ đã 2 lần biểu quyết không đạt hai phần ba; cấp ủy có thẩm quyền xem xét, quyết định (QĐ 294 §4.2c)
  • Thời hạn: 20/01/2027 (đã quá hạn 11 ngày)
  • Căn cứ: QĐ 294 §4.2a
  • Mở hồ sơ: http://ketnap.test/cases/42

4. [Quá hạn] Quyết định kết nạp — Trần Văn Hùng
  • Họ và tên: Trần Văn Hùng
  • Chi bộ: Chi bộ thôn Hương Câu
  • Việc cần làm: Quyết định kết nạp
  • Thời hạn: 10/01/2027 (đã quá hạn 21 ngày)
  • Căn cứ: QĐ 294 §4.3.1
  • Mở hồ sơ: http://ketnap.test/cases/42

Trân trọng,
Hệ thống Ketnap

—
Thư gửi tự động, xin đừng trả lời thư này. Mọi việc cần làm của đồng chí: http://ketnap.test/tasks
""",
    ),
}


@pytest.mark.parametrize("kind", sorted(MAILS))
def test_the_mail_reads_exactly_as_before(kind: str) -> None:
    username, names, subject, body = MAILS[kind]
    user = USERS[username]
    message = compose(user, [REMINDERS[n] for n in names], TODAY, OUTBOX)
    assert message["Subject"] == subject
    assert message.get_content() == body
    assert message["From"] == "Ketnap <ketnap@test>"
    assert message["To"] == f"{user.full_name or user.username} <{user.email}>"


def test_the_mail_is_utf8_text_encoded_as_before() -> None:
    username, names, _, body = MAILS["digest"]
    message = compose(USERS[username], [REMINDERS[n] for n in names], TODAY, OUTBOX)
    expected = EmailMessage()
    expected.set_content(body)
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message["Content-Transfer-Encoding"] == expected["Content-Transfer-Encoding"] == "base64"
    assert message.get_payload() == expected.get_payload()  # the very bytes on the wire

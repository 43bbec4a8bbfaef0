"""The official forms open as Word documents with the case's data in place and blanks
where a person must write."""

from __future__ import annotations

import io
from datetime import date

import docx
import pytest

from tests.documents.conftest import Docs
from workflow.documents import case_facts, forms
from workflow.models import Case, Member, Person


def text_of(content: bytes) -> str:
    """Every paragraph and table cell of a .docx, as python-docx reads it back."""
    document = docx.Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for cell in table._cells]
    return "\n".join(parts)


def rendered(
    docs: Docs, case_id: int, name: str, sponsor: int | None = None
) -> tuple[str, Case, Person]:
    with docs.engine.session() as session:
        case = session.get(Case, case_id)
        assert case is not None
        person = session.get(Person, case.person_id)
        assert person is not None
        content = forms.render(session, case, name, docs.engine.params, sponsor)
    assert content.startswith(b"PK")  # a .docx is a zip package
    return text_of(content), case, person


def test_the_cell_resolution_6_knd_carries_the_vote_and_the_candidate(docs: Docs) -> None:
    text, case, person = rendered(docs, docs.case_in("official"), "6-KNĐ")

    assert "Mẫu 6-KNĐ" in text
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in text
    assert "ĐẢNG BỘ XÃ ĐÔNG LỖ" in text and "CHI BỘ THÔN HƯƠNG CÂU" in text
    assert "NGHỊ QUYẾT" in text and "đề nghị kết nạp đảng viên" in text
    assert person.full_name.upper() in text
    assert f"Sinh ngày: {person.birth_date:%d/%m/%Y}" in text
    assert forms.day_words(case.cell_resolution_on) in text  # the meeting's date, in words
    assert f"Đông Lỗ, {forms.day_words(case.cell_resolution_on)}" in text
    assert "9/9 đồng chí, đạt 100%" in text
    assert f"Số NQ-{case.cell_resolution_on:%y%m%d}" in text  # the resolution's number
    assert "Chủ trì hội nghị: đồng chí ....." in text  # the minutes' data is left blank
    assert "(Ký, ghi rõ họ tên)" in text


def test_the_6_knd_before_the_vote_leaves_the_votes_blank(docs: Docs) -> None:
    text, _, person = rendered(docs, docs.case_in("verified"), "6-knd")

    assert person.full_name in text
    assert "ngày ...... tháng ...... năm .........." in text
    assert "tán thành việc đề nghị kết nạp: ....../...... đồng chí" in text


def test_the_sponsor_introduction_3_knd_is_one_per_sponsor(docs: Docs) -> None:
    case_id = docs.case_in("dossier_complete")
    with docs.engine.session() as session:
        case = session.get(Case, case_id)
        assert case is not None
        facts = case_facts.load(session, case)
    first, second = (s.member for s in facts.sponsors)

    both, _, person = rendered(docs, case_id, "3-KNĐ")
    one, _, _ = rendered(docs, case_id, "3-knd", first.id)

    assert both.count("GIẤY GIỚI THIỆU NGƯỜI VÀO ĐẢNG") == 2
    assert first.full_name in both and second.full_name in both
    assert one.count("GIẤY GIỚI THIỆU NGƯỜI VÀO ĐẢNG") == 1
    assert f"Tôi là: {first.full_name}" in one and f"Tôi là: {second.full_name}" not in one
    assert person.full_name.upper() in one
    assert f"Vào Đảng ngày: {first.joined_on:%d/%m/%Y}" in one
    assert f"từ ngày {facts.sponsors[0].alongside_since:%d/%m/%Y}" in one
    assert "Tôi xin chịu trách nhiệm trước Đảng về sự giới thiệu của mình." in one


def test_the_verification_request_20_knd_dates_the_reply(docs: Docs) -> None:
    case_id = docs.case_in("verified")
    text, case, person = rendered(docs, case_id, "20-KNĐ")
    with docs.engine.session() as session:
        facts = case_facts.load(session, case)
    sent = date.fromisoformat(facts.act("verify_background", "requests_sent_on"))

    assert "Mẫu 20-KNĐ" in text and "V/v thẩm tra lý lịch người vào Đảng" in text
    assert person.full_name.upper() in text and f"{person.birth_date:%d/%m/%Y}" in text
    assert forms.day_words(sent) in text
    reply_by = date.fromordinal(sent.toordinal() + docs.engine.params.verification_reply_days)
    assert f"trước ngày {reply_by:%d/%m/%Y}" in text
    assert "Kính gửi: ......" in text  # the secretary names the addressee


def test_the_confirmation_resolution_13_knd_states_the_probation(docs: Docs) -> None:
    text, case, person = rendered(docs, docs.case_in("confirmation_cell_resolved"), "13-KNĐ")

    assert "Mẫu 13-KNĐ" in text and "đề nghị công nhận đảng viên chính thức" in text
    assert person.full_name in text
    assert f"Quyết định số {case.decision_no}" in text
    assert f"từ ngày {case.ceremony_on:%d/%m/%Y} đến ngày {case.probation_end:%d/%m/%Y}" in text
    assert "8/9 đồng chí, đạt 88,9%" in text  # rounded half up, decimal comma
    assert forms.day_words(case.confirmation_cell_resolution_on) in text
    with docs.engine.session() as session:
        helper = session.get(Member, docs.world.officials[docs.dong_lo_cell][0])
    assert helper is not None and f"giúp đỡ: {helper.full_name}" in text


def test_a_form_is_offered_only_once_its_step_is_reached(docs: Docs) -> None:
    nominated, sponsored, probationary = (
        docs.case_in(s) for s in ("nominated", "sponsored", "probationary")
    )
    with docs.engine.session() as session:
        offered = {
            case_id: [link.code for link in forms.relevant_for(session, session.get(Case, case_id))]  # type: ignore[arg-type]
            for case_id in (nominated, sponsored, probationary)
        }
    assert offered[nominated] == []
    assert offered[sponsored] == ["3-KNĐ", "3-KNĐ", "20-KNĐ"]
    assert offered[probationary] == ["3-KNĐ", "3-KNĐ", "20-KNĐ", "6-KNĐ", "13-KNĐ"]
    with pytest.raises(forms.FormNotApplicable, match="13-KNĐ does not apply"):
        rendered(docs, nominated, "13-KNĐ")


def test_an_unknown_form_or_sponsor_is_refused(docs: Docs) -> None:
    case_id = docs.case_in("sponsored")
    with pytest.raises(forms.FormNotApplicable, match="no form '7-KNĐ'"):
        rendered(docs, case_id, "7-KNĐ")
    with pytest.raises(forms.FormNotApplicable, match="not a sponsor"):
        rendered(docs, case_id, "3-KNĐ", sponsor=999_999)


@pytest.mark.parametrize(
    ("part", "whole", "shown"),
    [
        (9, 9, "100"),
        (8, 9, "88,9"),
        (2, 3, "66,7"),
        (1, 8, "12,5"),
        (0, 5, "0"),
        (3, 0, forms.DOTS),
    ],
)
def test_shares_are_rounded_half_up_to_one_decimal(part: int, whole: int, shown: str) -> None:
    assert forms.percent(part, whole) == shown


def test_dates_are_written_the_way_party_documents_write_them() -> None:
    assert forms.day_words(date(2024, 3, 5)) == "ngày 05 tháng 3 năm 2024"
    assert forms.day_words(date(2024, 2, 15)) == "ngày 15 tháng 02 năm 2024"
    assert forms.day_words(None) == "ngày ...... tháng ...... năm .........."
    assert forms.slug_of("6-KNĐ") == forms.slug_of("6knd") == "6-knd"

"""Answering a citizen from the console: the form is empty afterwards and a resend is refused."""

import pytest

from grassroots.feedback.models import ReportEvent

from .helpers import make_report


@pytest.mark.django_db
def test_the_answer_form_is_cleared_and_a_double_send_is_refused(client, users):
    report = make_report()
    client.force_login(users["operator"])
    url = f"/xu-ly-phan-anh/{report.pk}/tra-loi/"
    body = {"public_answer": "Đã thu gom rác sáng nay.", "private_answer": ""}
    page = client.post(url, body, follow=True).content.decode()
    assert "Đã gửi trả lời." in page
    # the answer is shown once, the form below it is empty
    form = page[page.index('id="answer-form"') :]
    form = form[: form.index("</form>")]
    assert "Đã thu gom rác sáng nay." not in form
    answered = ReportEvent.objects.filter(report=report, kind="answered").count()
    assert answered == 1
    again = client.post(url, body, follow=True).content.decode()
    assert "đã được gửi rồi" in again
    assert ReportEvent.objects.filter(report=report, kind="answered").count() == answered

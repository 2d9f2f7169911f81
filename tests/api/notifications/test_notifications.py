"""A user's notifications: the inbox, unread counts, marking read, and email through a real
SMTP server process (aiosmtpd) on 127.0.0.1."""
from __future__ import annotations

import mailbox
import socket
import subprocess
import sys
from collections.abc import Iterator
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.api.notifications import service as notifications
from services.api.notifications.mailer import Mailer
from services.api.notifications.models import EmailState, Notification
from services.common.settings import MailSettings
from tests.helpers import assert_problem
from tests.live import free_port


def test_inbox_counts_unread_and_marks_read(client, factory):
    teacher, other = factory.user(), factory.user()
    first = notifications.notify(factory.session, user_id=teacher.id, kind="review.rejected", title="资源被驳回",
                                 body="画面模糊", resource_id=None, details={"reason_code": "low_quality"})
    notifications.notify(factory.session, user_id=teacher.id, kind="report.resolved", title="举报已处理")
    notifications.notify(factory.session, user_id=other.id, kind="report.resolved", title="别人的")
    factory.commit()

    inbox = client.get("/api/v1/me/notifications", headers=factory.headers(teacher))
    assert inbox.status_code == 200, inbox.text
    body = inbox.json()
    assert (body["total"], body["unread"]) == (2, 2)
    assert {n["title"] for n in body["items"]} == {"资源被驳回", "举报已处理"}
    rejected = next(n for n in body["items"] if n["kind"] == "review.rejected")
    assert rejected["body"] == "画面模糊" and rejected["details"] == {"reason_code": "low_quality"}

    marked = client.post("/api/v1/me/notifications/read", json={"ids": [first.id]}, headers=factory.headers(teacher))
    assert marked.status_code == 200, marked.text
    assert marked.json() == {"marked": 1, "unread": 1}
    unread = client.get("/api/v1/me/notifications?unread_only=true", headers=factory.headers(teacher))
    assert unread.status_code == 200
    assert [n["kind"] for n in unread.json()["items"]] == ["report.resolved"]

    everything = client.post("/api/v1/me/notifications/read", json={}, headers=factory.headers(teacher))
    assert everything.status_code == 200
    assert everything.json() == {"marked": 1, "unread": 0}
    # The other user's inbox is untouched.
    theirs = client.get("/api/v1/me/notifications", headers=factory.headers(other))
    assert theirs.status_code == 200 and theirs.json()["unread"] == 1


def test_cannot_mark_anothers_notification(client, factory):
    teacher, other = factory.user(), factory.user()
    theirs = notifications.notify(factory.session, user_id=other.id, kind="review.approved", title="通过")
    factory.commit()
    response = client.post("/api/v1/me/notifications/read", json={"ids": [theirs.id]},
                           headers=factory.headers(teacher))
    assert_problem(response, 404, "notification.not_found")
    inbox = client.get("/api/v1/me/notifications", headers=factory.headers(other))
    assert inbox.status_code == 200 and inbox.json()["unread"] == 1


def test_inbox_needs_a_token(client):
    assert_problem(client.get("/api/v1/me/notifications"), 401, "auth.not_authenticated")


@pytest.fixture(scope="module")
def smtp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """aiosmtpd as its own process, delivering into a maildir the test reads."""
    maildir = tmp_path_factory.mktemp("smtp") / "maildir"  # made, with its subfolders, by the server
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                                "-c", "aiosmtpd.handlers.Mailbox", str(maildir)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for_port(port, process)
        yield port, maildir
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    while True:  # bounded by the process: it either listens or exits
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else "aiosmtpd exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            try:
                process.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                pass


def test_notifications_are_emailed_once(smtp_server, sessions: sessionmaker[Session], factory):
    port, maildir = smtp_server
    teacher = factory.user()
    teacher.email = f"{teacher.username}@example.edu.cn"
    without_address = factory.user()
    notifications.notify(factory.session, user_id=teacher.id, kind="review.rejected", title="您的资源《勾股定理》被驳回",
                         body="原因：画面模糊。请修改后重新提交。")
    notifications.notify(factory.session, user_id=without_address.id, kind="review.approved", title="通过")
    factory.commit()

    mailer = Mailer(settings=MailSettings(smtp_host="127.0.0.1", smtp_port=port), sessionmaker=sessions)
    before = len(mailbox.Maildir(maildir, create=False))
    assert mailer.send_pending() == {"sent": 1, "failed": 0}
    assert mailer.send_pending() == {"sent": 0, "failed": 0}  # nothing is sent twice

    messages = [m for m in mailbox.Maildir(maildir, create=False) if m["To"] == teacher.email]
    assert len(mailbox.Maildir(maildir, create=False)) == before + 1 and len(messages) == 1
    message = messages[0]
    assert message["To"] == teacher.email
    assert str(make_header(decode_header(message["Subject"]))) == "您的资源《勾股定理》被驳回"
    assert "画面模糊" in message.get_payload(decode=True).decode("utf-8")

    with sessions() as session:
        states = dict(session.execute(select(Notification.user_id, Notification.email_state)).all())
    assert states[teacher.id] is EmailState.sent
    assert states[without_address.id] is EmailState.none

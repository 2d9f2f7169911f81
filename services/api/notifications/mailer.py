"""Emails notifications to users with an address, when SMTP is configured. The notification
rows are the outbox: a round claims pending rows one by one (compare-and-set on the attempt
count, so several API processes never send the same row in the same round), sends, and marks
them. Delivery is at least once: a process that dies between the send and the mark sends again."""
from __future__ import annotations

import smtplib
from collections.abc import Callable
from email.message import EmailMessage

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.api.notifications.models import EmailState, Notification
from services.api.orgs.models import User
from services.common.settings import MailSettings

log = structlog.get_logger("mailer")
ROUND_SIZE = 50
MAX_ATTEMPTS = 5


class Mailer:
    def __init__(self, *, settings: MailSettings, sessionmaker: Callable[[], Session]) -> None:
        assert settings.smtp_host, "the mailer runs only when LB_SMTP_HOST is set"
        self.settings, self.sessionmaker = settings, sessionmaker

    def send_pending(self) -> dict[str, int]:
        sent = failed = 0
        with self.sessionmaker() as session:
            pending = session.execute(
                select(Notification.id, Notification.email_attempts, Notification.title, Notification.body, User.email)
                .join(User, User.id == Notification.user_id)
                .where(Notification.email_state == EmailState.pending)
                .order_by(Notification.created_at, Notification.id).limit(ROUND_SIZE)).all()
            session.rollback()
        if not pending:
            return {"sent": 0, "failed": 0}
        with self._connect() as smtp:
            for row in pending:
                if not self._claim(row.id, row.email_attempts):
                    continue  # another process took it
                try:
                    smtp.send_message(self._message(to=row.email, title=row.title, body=row.body))
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as refusal:
                    log.warning("notification_email_refused", notification_id=row.id, error=str(refusal))
                    self._mark(row.id, EmailState.failed if row.email_attempts + 1 >= MAX_ATTEMPTS
                               else EmailState.pending)
                    failed += 1
                    continue
                self._mark(row.id, EmailState.sent)
                sent += 1
        return {"sent": sent, "failed": failed}

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.settings.smtp_host or "", self.settings.smtp_port, timeout=30)
        if self.settings.smtp_starttls:
            smtp.starttls()
        if self.settings.smtp_username:
            smtp.login(self.settings.smtp_username, self.settings.smtp_password or "")
        return smtp

    def _message(self, *, to: str, title: str, body: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.smtp_from
        message["To"] = to
        message["Subject"] = title
        message.set_content(body or title)
        return message

    def _claim(self, notification_id: str, attempts: int) -> bool:
        with self.sessionmaker() as session:
            claimed = session.execute(update(Notification).where(
                Notification.id == notification_id, Notification.email_state == EmailState.pending,
                Notification.email_attempts == attempts).values(email_attempts=attempts + 1)).rowcount
            session.commit()
            return bool(claimed)

    def _mark(self, notification_id: str, state: EmailState) -> None:
        with self.sessionmaker() as session:
            session.execute(update(Notification).where(Notification.id == notification_id).values(email_state=state))
            session.commit()

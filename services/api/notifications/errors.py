"""A user's notifications: review outcomes, reports, revisions waiting, pairing events."""
from __future__ import annotations

from services.common.problems import DomainError


class NotificationNotFound(DomainError):
    status = 404
    code = "notification.not_found"
    title = {"zh-CN": "通知不存在", "en": "Notification not found"}

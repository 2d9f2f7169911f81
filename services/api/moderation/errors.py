from __future__ import annotations

from services.common.problems import DomainError


class ReasonRequired(DomainError):
    status = 422
    code = "moderation.reason_required"
    title = {"zh-CN": "驳回或下架必须填写原因", "en": "A reason_code is required to reject or take down"}

from __future__ import annotations

from services.common.problems import DomainError


class StatisticsNotAllowed(DomainError):
    status = 403
    code = "statistics.forbidden"
    title = {"zh-CN": "无权查看统计", "en": "Statistics not allowed"}
    detail = {"zh-CN": "参与度统计仅对区县管理员（本区县）和学校管理员（本校）开放",
              "en": "Participation figures are for district administrators (their district) "
                    "and school administrators (their school)"}

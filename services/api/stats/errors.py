from __future__ import annotations

from services.common.problems import DomainError, InvalidField


class StatisticsNotAllowed(DomainError):
    status = 403
    code = "statistics.forbidden"
    title = {"zh-CN": "无权查看统计", "en": "Statistics not allowed"}
    detail = {"zh-CN": "参与度统计仅对区县管理员（本区县）和学校管理员（本校）开放",
              "en": "Participation figures are for district administrators (their district) "
                    "and school administrators (their school)"}


class UnknownSemester(InvalidField):
    """A 422 like any bad field, with its own code so a client can offer the semesters it knows."""

    code = "statistics.unknown_semester"
    title = {"zh-CN": "未知的学期", "en": "Unknown semester"}

    def __init__(self, *, value: str) -> None:
        super().__init__(loc=["query", "semester"], value=value,
                         msg={"zh-CN": "未知的学期“{value}”：应为 2026-fall（秋季学期，9月1日至次年2月1日）"
                                       "或 2027-spring（春季学期，2月1日至9月1日）这样的形式",
                              "en": "Unknown semester '{value}': use e.g. 2026-fall (1 September to 1 February) "
                                    "or 2027-spring (1 February to 1 September)"})

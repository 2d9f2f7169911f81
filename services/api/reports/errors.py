from __future__ import annotations

from services.common.problems import DomainError


class ReportAlreadyOpen(DomainError):
    status = 409
    code = "report.already_open"
    title = {"zh-CN": "您已举报过该资源，正在处理中",
             "en": "You already have an open report on this resource"}


class NoOpenReports(DomainError):
    status = 404
    code = "report.none_open"
    title = {"zh-CN": "该资源没有待处理的举报", "en": "No open reports on this resource"}
    detail = {"zh-CN": "您所在区县没有针对该资源的待处理举报",
              "en": "There are no open reports on this resource in your district"}

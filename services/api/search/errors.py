from __future__ import annotations

from services.common.problems import DependencyUnavailable, DomainError


class SearchUnavailable(DomainError):
    status = 503
    code = "search.unavailable"
    title = {"zh-CN": "检索服务暂不可用", "en": "Search is unavailable"}
    detail = {"zh-CN": "检索服务暂时无法响应，请稍后再试", "en": "The search service does not answer right now; try again shortly"}

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": str(DependencyUnavailable.RETRY_AFTER_S)})


class CoverageNotAllowed(DomainError):
    status = 403
    code = "statistics.forbidden"
    title = {"zh-CN": "无权查看统计", "en": "Statistics not allowed"}
    detail = {"zh-CN": "只有区县管理员和审核员可以查看资源覆盖率", "en": "Only district administrators and moderators see coverage"}

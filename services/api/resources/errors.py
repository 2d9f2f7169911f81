from __future__ import annotations

from services.common.problems import DomainError


class ResourceNotFound(DomainError):
    # Also what a caller gets for a resource they may not see: its existence is not revealed.
    status = 404
    code = "resource.not_found"
    title = {"zh-CN": "资源不存在", "en": "Resource not found"}
    detail = {"zh-CN": "资源不存在或无权查看", "en": "The resource does not exist or you may not see it"}


class InvalidTransition(DomainError):
    status = 409
    code = "resource.invalid_transition"
    title = {"zh-CN": "当前状态下不能执行该操作", "en": "Not possible in the resource's current status"}
    detail = {"zh-CN": "资源处于“{status}”状态，不能执行“{event}”",
              "en": "A resource in status '{status}' cannot take '{event}'"}


class NotResourceManager(DomainError):
    status = 403
    code = "resource.not_owner"
    title = {"zh-CN": "只有资源所有者或管理员可以修改", "en": "Only the owner or an administrator may change this resource"}

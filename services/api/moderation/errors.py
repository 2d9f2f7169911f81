from __future__ import annotations

from services.common.problems import DomainError


class ReasonRequired(DomainError):
    status = 422
    code = "moderation.reason_required"
    title = {"zh-CN": "驳回或下架必须填写原因", "en": "A reason_code is required to reject or take down"}


class OwnItem(DomainError):
    status = 403
    code = "moderation.own_item"
    title = {"zh-CN": "不能审核自己的资源或修订", "en": "You may not review your own resource or revision"}


class NotYourLevel(DomainError):
    status = 403
    code = "moderation.not_your_level"
    title = {"zh-CN": "该审核不属于您的级别或范围", "en": "This review is not at your level or in your scope"}
    detail = {"zh-CN": "该审核等待“{level}”级审核", "en": "This review waits for the {level} level"}


class AppealNeedsAnotherReviewer(DomainError):
    status = 403
    code = "moderation.appeal_needs_another_reviewer"
    title = {"zh-CN": "申诉须由驳回者以外的审核员处理", "en": "An appeal is decided by someone other than the reviewer who rejected"}


class NothingToAppeal(DomainError):
    status = 409
    code = "moderation.nothing_to_appeal"
    title = {"zh-CN": "没有可申诉的驳回", "en": "There is no rejection to appeal"}
    detail = {"zh-CN": "只能对最近一次、仍然有效的驳回申诉", "en": "Only the latest rejection, still in force, may be appealed"}


class AlreadyAppealed(DomainError):
    status = 409
    code = "moderation.already_appealed"
    title = {"zh-CN": "该驳回已申诉过", "en": "This rejection was already appealed"}
    detail = {"zh-CN": "每次驳回只能申诉一次；申诉后的驳回为最终决定",
              "en": "A rejection may be appealed once; a rejection on appeal is final"}


class StaleReview(DomainError):
    status = 409
    code = "moderation.stale_version"
    title = {"zh-CN": "资源在审核期间已被修改", "en": "The resource changed while you reviewed it"}
    detail = {"zh-CN": "您审核的是第 {expected} 版，当前为第 {current} 版，请重新查看",
              "en": "You reviewed version {expected}; it is now version {current}: look again"}


class RevisionNotPending(DomainError):
    status = 409
    code = "moderation.revision_not_pending"
    title = {"zh-CN": "该修订不在待审状态", "en": "That revision is not the one waiting for review"}

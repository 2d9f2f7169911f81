from __future__ import annotations

from services.common.problems import DomainError


class CampaignNotFound(DomainError):
    status = 404
    code = "campaign.not_found"
    title = {"zh-CN": "评选活动不存在", "en": "Campaign not found"}


class PackageNotFound(DomainError):
    status = 404
    code = "campaign.package_not_found"
    title = {"zh-CN": "参评课例不存在", "en": "Campaign package not found"}


class NotLevelAdmin(DomainError):
    status = 403
    code = "campaign.not_level_admin"
    title = {"zh-CN": "您不是该级评选的管理员", "en": "You do not administer this level of the campaign"}


class InvalidCampaign(DomainError):
    status = 422
    code = "campaign.invalid"
    title = {"zh-CN": "评选活动设置无效", "en": "The campaign settings are invalid"}
    detail = {"zh-CN": "{reason}", "en": "{reason}"}


class WindowClosed(DomainError):
    status = 409
    code = "campaign.window_closed"
    title = {"zh-CN": "不在报送时间内", "en": "Outside the submission window"}
    detail = {"zh-CN": "报送时间为 {opens_at} 至 {closes_at}", "en": "Submissions are accepted from {opens_at} to {closes_at}"}


class PackageIncomplete(DomainError):
    status = 422
    code = "campaign.package_incomplete"
    title = {"zh-CN": "参评材料不完整", "en": "The package is incomplete"}
    detail = {"zh-CN": "有 {count} 项不符合要求，请逐项查看", "en": "{count} part(s) do not meet the category's requirements"}


class PackageLocked(DomainError):
    status = 409
    code = "campaign.package_locked"
    title = {"zh-CN": "已报送的课例不能修改", "en": "A submitted package cannot change"}
    detail = {"zh-CN": "请修改资源（修订需重新审核）后撤回并重新报送",
              "en": "Change the resource (a new revision, reviewed again), then withdraw and submit the package again"}


class PackageChanged(DomainError):
    status = 409
    code = "campaign.package_changed"
    title = {"zh-CN": "课例资源在报送后已变更，须重新报送", "en": "A resource changed after the package was submitted"}
    detail = {"zh-CN": "资源 {resource_id} 已有新版本，须重新审核并重新报送",
              "en": "Resource {resource_id} has a newer version: it must be reviewed and the package submitted again"}


class NotYourResource(DomainError):
    status = 422
    code = "campaign.not_your_resource"
    title = {"zh-CN": "只能使用本人的资源", "en": "A package is built from your own resources"}


class UnknownCategory(DomainError):
    status = 422
    code = "campaign.unknown_category"
    title = {"zh-CN": "该活动没有此类别", "en": "The campaign has no such category"}


class WrongRound(DomainError):
    status = 409
    code = "campaign.wrong_round_status"
    title = {"zh-CN": "当前阶段不能进行此操作", "en": "Not possible at this stage of the level"}
    detail = {"zh-CN": "本级当前为 {status}，不能 {event}", "en": "The level is {status}; cannot {event}"}


class NotEnoughJudges(DomainError):
    status = 422
    code = "campaign.not_enough_judges"
    title = {"zh-CN": "评委人数不足", "en": "Not enough eligible judges"}
    detail = {"zh-CN": "课例 {package_id} 需要 {needed} 名非本校评委，仅有 {available} 名",
              "en": "Package {package_id} needs {needed} judges from other schools; {available} are eligible"}


class NotYourAssignment(DomainError):
    status = 403
    code = "campaign.not_your_panel"
    title = {"zh-CN": "该课例不在您的评审组", "en": "This package is not assigned to you on your panel"}


class ScoreOutOfRange(DomainError):
    status = 422
    code = "campaign.score_out_of_range"
    title = {"zh-CN": "评分超出范围", "en": "Score outside the rubric's range"}
    detail = {"zh-CN": "{criterion} 的分数须在 {min} 至 {max} 之间", "en": "{criterion} must be scored from {min} to {max}"}


class JudgingClosed(DomainError):
    status = 409
    code = "campaign.judging_closed"
    title = {"zh-CN": "评审时间已截止", "en": "The judging window has closed"}
    detail = {"zh-CN": "评审截止于 {closes_at}", "en": "Judging closed at {closes_at}"}


class ScoresIncomplete(DomainError):
    status = 422
    code = "campaign.scores_incomplete"
    title = {"zh-CN": "须对每项指标评分", "en": "Every criterion must be scored"}
    detail = {"zh-CN": "缺少：{missing}", "en": "Missing: {missing}"}


class JudgingIncomplete(DomainError):
    status = 409
    code = "campaign.judging_incomplete"
    title = {"zh-CN": "评审尚未完成", "en": "Judging is not finished"}
    detail = {"zh-CN": "还有 {remaining} 份评分未提交", "en": "{remaining} score sheet(s) are outstanding"}


class QuotaExceeded(DomainError):
    status = 409
    code = "campaign.quota_exceeded"
    title = {"zh-CN": "推荐超出名额规则", "en": "The promotion breaks a quota rule"}
    detail = {"zh-CN": "违反规则：{rule}", "en": "Breaks the rule: {rule}"}


class NotCompeting(DomainError):
    status = 422
    code = "campaign.not_competing"
    title = {"zh-CN": "该课例不在本级参评", "en": "The package is not competing at this level"}


class PublicityRunning(DomainError):
    status = 409
    code = "campaign.publicity_running"
    title = {"zh-CN": "公示期未结束或仍有未处理的异议", "en": "The publicity period is running or objections are open"}
    detail = {"zh-CN": "公示期至 {ends_at}，未处理异议 {open_objections} 条",
              "en": "Publicity ends at {ends_at}; {open_objections} objection(s) open"}


class PublicityOver(DomainError):
    status = 409
    code = "campaign.publicity_over"
    title = {"zh-CN": "公示期已结束，不能再提出异议", "en": "The publicity period is over"}


class ObjectionNotFound(DomainError):
    status = 404
    code = "campaign.objection_not_found"
    title = {"zh-CN": "异议不存在", "en": "Objection not found"}


class CertificateNotFound(DomainError):
    status = 404
    code = "campaign.certificate_not_found"
    title = {"zh-CN": "证书编号无效", "en": "No certificate has this code"}


class InvalidTransition(DomainError):
    status = 409
    code = "campaign.invalid_transition"
    title = {"zh-CN": "状态不允许此操作", "en": "Not allowed in the current status"}
    detail = {"zh-CN": "{what} 当前为 {status}，不能 {event}", "en": "{what} is {status}; cannot {event}"}


class RoundNotFound(DomainError):
    status = 404
    code = "campaign.round_not_found"
    title = {"zh-CN": "该级没有此单位的评选轮次", "en": "No round of this level for that organisation"}
    detail = {"zh-CN": "第 {position} 级有 {rounds} 个轮次；请用 ?org= 指定区县或地区",
              "en": "Level {position} has {rounds} round(s); name the district or region with ?org="}


class NotParticipating(DomainError):
    status = 403
    code = "campaign.not_participating"
    title = {"zh-CN": "您所在区县未参加该评选活动", "en": "Your district does not take part in this campaign"}


class RoundsBelowRunning(DomainError):
    status = 409
    code = "campaign.rounds_below_running"
    title = {"zh-CN": "下级评选尚未结束", "en": "Rounds below have not finished"}
    detail = {"zh-CN": "尚未结束：{names}", "en": "Not yet final: {names}"}

from __future__ import annotations

from services.common.problems import DomainError


class PairingExists(DomainError):
    status = 409
    code = "pairing.exists"
    title = {"zh-CN": "这两所学校已经结对", "en": "These schools are already paired"}


class PairingNotFound(DomainError):
    status = 404
    code = "pairing.not_found"
    title = {"zh-CN": "结对关系不存在", "en": "Pairing not found"}


class SelfPairing(DomainError):
    status = 422
    code = "pairing.same_school"
    title = {"zh-CN": "学校不能与自身结对", "en": "A school cannot be paired with itself"}


class PlanExists(DomainError):
    status = 409
    code = "pairing.plan_exists"
    title = {"zh-CN": "该学期已有帮扶计划", "en": "This pair already has a plan for the semester"}
    detail = {"zh-CN": "学期 {semester} 的计划已存在，请用 PUT 修改", "en": "A plan for {semester} exists; change it with PUT"}


class PlanNotFound(DomainError):
    status = 404
    code = "pairing.plan_not_found"
    title = {"zh-CN": "该学期没有帮扶计划", "en": "No plan for this semester"}


class InvalidPlan(DomainError):
    status = 422
    code = "pairing.invalid_plan"
    title = {"zh-CN": "帮扶计划有误，未作任何修改", "en": "The plan is invalid; nothing was changed"}
    detail = {"zh-CN": "发现 {count} 处错误", "en": "{count} problems found"}


class InvalidActivity(DomainError):
    status = 422
    code = "pairing.invalid_activity"
    title = {"zh-CN": "帮扶活动有误，未作任何创建", "en": "The activity is invalid; nothing was created"}
    detail = {"zh-CN": "发现 {count} 处错误", "en": "{count} problems found"}


class SlotTaken(DomainError):
    status = 409
    code = "pairing.slot_taken"
    title = {"zh-CN": "录播教室该时段已被占用", "en": "The recording classroom is booked at that time"}
    detail = {"zh-CN": "录播教室在 {starts_at} 至 {ends_at} 已有课程安排", "en": "The classroom has a lesson from {starts_at} to {ends_at}"}


class PackNotVisible(DomainError):
    # Like resource.not_found: what the caller may not see is not revealed, only located.
    status = 404
    code = "pairing.pack_not_visible"
    title = {"zh-CN": "帮扶资源包中有无法查看的资源", "en": "The pack names resources you cannot see"}
    detail = {"zh-CN": "{count} 个资源不存在或无权查看，未作任何创建",
              "en": "{count} resources do not exist or you may not see them; nothing was created"}


class ActivityNotFound(DomainError):
    status = 404
    code = "pairing.activity_not_found"
    title = {"zh-CN": "帮扶活动不存在", "en": "Activity not found"}


class InvalidActivityTransition(DomainError):
    status = 409
    code = "pairing.invalid_activity_transition"
    title = {"zh-CN": "活动当前状态下不能执行该操作", "en": "Not possible in the activity's current status"}
    detail = {"zh-CN": "活动处于“{status}”状态，不能执行“{event}”",
              "en": "An activity in status '{status}' cannot take '{event}'"}

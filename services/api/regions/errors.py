from __future__ import annotations

from services.common.problems import DomainError


class RegionNotFound(DomainError):
    status = 404
    code = "region.not_found"
    title = {"zh-CN": "地区不存在", "en": "Region not found"}


class UnknownParent(DomainError):
    status = 422
    code = "region.unknown_parent"
    title = {"zh-CN": "上级地区不存在", "en": "The parent region does not exist"}
    detail = {"zh-CN": "没有编号为 {parent_id} 的地区", "en": "No region has the id {parent_id}"}


class WrongLevel(DomainError):
    status = 422
    code = "region.wrong_level"
    title = {"zh-CN": "地区层级不符", "en": "Wrong level for this region"}
    detail = {"zh-CN": "{reason}", "en": "{reason}"}


class RegionCycle(DomainError):
    status = 422
    code = "region.cycle"
    title = {"zh-CN": "地区不能隶属于自身或其下级", "en": "A region cannot sit under itself or under a region below it"}


class DuplicateRegionName(DomainError):
    status = 409
    code = "region.duplicate_name"
    title = {"zh-CN": "同级地区名称已存在", "en": "A region of this kind already has this name"}
    detail = {"zh-CN": "已有名为“{name}”的{kind}", "en": "A {kind} named '{name}' exists"}


class UnknownDistrict(DomainError):
    status = 404
    code = "region.unknown_district"
    title = {"zh-CN": "区县不存在", "en": "No such district"}


class UnknownUser(DomainError):
    status = 404
    code = "region.unknown_user"
    title = {"zh-CN": "用户不存在", "en": "No such user"}

from __future__ import annotations

from services.common.problems import DomainError


class DistrictNotFound(DomainError):
    status = 404
    code = "district.not_found"
    title = {"zh-CN": "区县不存在", "en": "District not found"}


class DistrictNameTaken(DomainError):
    status = 409
    code = "district.name_taken"
    title = {"zh-CN": "区县名称已存在", "en": "A district with this name exists"}


class SchoolNotFound(DomainError):
    status = 404
    code = "school.not_found"
    title = {"zh-CN": "学校不存在", "en": "School not found"}


class UserNotFound(DomainError):
    status = 404
    code = "user.not_found"
    title = {"zh-CN": "用户不存在", "en": "User not found"}


class UsernameTaken(DomainError):
    status = 409
    code = "user.username_taken"
    title = {"zh-CN": "用户名已被占用", "en": "Username already taken"}
    detail = {"zh-CN": "用户名“{username}”已被占用", "en": "The username '{username}' is already taken"}


class SchoolRequired(DomainError):
    status = 422
    code = "user.school_required"
    title = {"zh-CN": "教师和学校管理员必须属于一所学校", "en": "Teachers and school administrators need a school"}

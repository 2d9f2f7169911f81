from __future__ import annotations

from services.common.problems import DomainError
from services.common.tokens import AUTHENTICATE


class InvalidDeviceToken(DomainError):
    status = 401
    code = "device.invalid_token"
    title = {"zh-CN": "设备凭证无效", "en": "Invalid device token"}
    detail = {"zh-CN": "设备凭证无效或已被吊销", "en": "The device token is invalid or has been revoked"}

    def __init__(self) -> None:
        super().__init__(headers=AUTHENTICATE)


class DeviceNotFound(DomainError):
    status = 404
    code = "device.not_found"
    title = {"zh-CN": "设备不存在", "en": "Device not found"}


class InvalidSchedule(DomainError):
    status = 422
    code = "device.invalid_schedule"
    title = {"zh-CN": "课表有误，未作任何修改", "en": "The timetable is invalid; nothing was changed"}
    detail = {"zh-CN": "发现 {count} 处错误", "en": "{count} problems found"}


class ScheduleTooLarge(DomainError):
    status = 422
    code = "device.schedule_too_large"
    title = {"zh-CN": "课表过大，未作任何修改", "en": "The timetable is too large; nothing was changed"}
    detail = {"zh-CN": "课表展开后超过 {limit} 节课（重复规则只展开 {days} 天）",
              "en": "The timetable expands to more than {limit} lessons (recurrences are expanded {days} days ahead)"}


class RecordingNotFound(DomainError):
    status = 404
    code = "recording.not_found"
    title = {"zh-CN": "录像不存在", "en": "Recording not found"}


class InvalidRecording(DomainError):
    status = 422
    code = "recording.invalid"
    title = {"zh-CN": "录像信息有误", "en": "Invalid recording"}
    detail = {"zh-CN": "{reason}", "en": "{reason}"}

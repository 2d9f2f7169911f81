from __future__ import annotations

from services.common.problems import DomainError


class BackupTargetInvalid(DomainError):
    status = 422
    code = "backup.target_invalid"
    title = {"zh-CN": "备份位置无效", "en": "Invalid backup target"}
    detail = {"zh-CN": "{target}：{reason}", "en": "{target}: {reason}"}


class BackupNotFound(DomainError):
    status = 404
    code = "backup.not_found"
    title = {"zh-CN": "找不到备份", "en": "Backup not found"}
    detail = {"zh-CN": "{target} 中没有备份 {backup_id}", "en": "{target} holds no backup {backup_id}"}


class BackupBusy(DomainError):
    status = 409
    code = "backup.busy"
    title = {"zh-CN": "备份位置正被使用", "en": "Backup target in use"}
    detail = {"zh-CN": "另一个备份、清理或恢复正在使用 {target}，请稍后再试",
              "en": "Another backup, prune or restore is using {target}; try again when it has finished"}


class BackupCorrupt(DomainError):
    status = 422
    code = "backup.corrupt"
    title = {"zh-CN": "备份已损坏", "en": "Backup is corrupt"}
    detail = {"zh-CN": "备份 {backup_id} 校验失败（{count} 处问题，例如：{example}），拒绝恢复",
              "en": "Backup {backup_id} failed verification ({count} problems, e.g. {example}); refusing to restore"}


class RestoreTargetNotEmpty(DomainError):
    status = 409
    code = "backup.target_not_empty"
    title = {"zh-CN": "恢复目标不是空的", "en": "Restore target is not empty"}
    detail = {"zh-CN": "{what}已有数据；恢复会覆盖它。确认要覆盖请加 --force",
              "en": "{what} already holds data, which a restore would overwrite; add --force to overwrite it"}


class BackupSchemaUnknown(DomainError):
    status = 422
    code = "backup.schema_unknown"
    title = {"zh-CN": "备份的数据库版本未知", "en": "Unknown schema revision in backup"}
    detail = {"zh-CN": "备份的数据库版本 {revision} 比本程序新，请先升级 LessonBridge",
              "en": "The backup's schema revision {revision} is newer than this LessonBridge; upgrade it first"}


class DatabaseToolFailed(DomainError):
    status = 500
    code = "backup.database_tool_failed"
    title = {"zh-CN": "数据库工具失败", "en": "Database tool failed"}
    detail = {"zh-CN": "{tool} 失败：{message}", "en": "{tool} failed: {message}"}

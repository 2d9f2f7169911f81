from __future__ import annotations

from services.common.problems import DomainError


class KnowledgePointNotFound(DomainError):
    status = 404
    code = "taxonomy.knowledge_point_not_found"
    title = {"zh-CN": "知识点不存在", "en": "Knowledge point not found"}


class InvalidTaxonomyDocument(DomainError):
    status = 422
    code = "taxonomy.invalid_document"
    title = {"zh-CN": "分类体系文件有误，未导入任何内容", "en": "The taxonomy document is invalid; nothing was imported"}
    detail = {"zh-CN": "发现 {count} 处错误", "en": "{count} problems found"}


class TaxonomyDocumentTooLarge(DomainError):
    status = 413
    code = "taxonomy.document_too_large"
    title = {"zh-CN": "分类体系文件过大", "en": "Taxonomy document too large"}
    detail = {"zh-CN": "文件不能超过 {limit_mib} MiB", "en": "The document may be at most {limit_mib} MiB"}


class UnsupportedTaxonomyFormat(DomainError):
    status = 415
    code = "taxonomy.unsupported_format"
    title = {"zh-CN": "不支持的文件格式", "en": "Unsupported document format"}
    detail = {"zh-CN": "请上传 JSON（application/json）或 CSV（text/csv）", "en": "Send JSON (application/json) or CSV (text/csv)"}

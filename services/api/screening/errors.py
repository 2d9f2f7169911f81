from __future__ import annotations

from services.common.problems import DomainError


class ContentBlocked(DomainError):
    status = 422
    code = "screening.content_blocked"
    title = {"zh-CN": "该文件的内容已被下架，不能再次发布",
             "en": "This file's content was taken down and cannot come back"}
    detail = {"zh-CN": "上传 {upload_id} 的内容与已下架的资源相同",
              "en": "Upload {upload_id} has the content of a resource that was taken down"}

    def __init__(self, *, upload_id: str, index: int) -> None:
        super().__init__(errors=[{"loc": ["body", "upload_ids", index], "msg": f"blocked content {upload_id}"}],
                         upload_id=upload_id)


class InvalidLexicon(DomainError):
    status = 422
    code = "screening.invalid_lexicon"
    title = {"zh-CN": "敏感词库文件有误，未导入", "en": "The lexicon has errors; nothing was imported"}


class UnsupportedLexiconFormat(DomainError):
    status = 415
    code = "screening.unsupported_lexicon_format"
    title = {"zh-CN": "词库须为纯文本（每行一个词）或 CSV",
             "en": "A lexicon is plain text (one word a line) or CSV"}

from __future__ import annotations

from services.common.problems import DomainError


class InvalidBlobSignature(DomainError):
    status = 403
    code = "blob.invalid_signature"
    title = {"zh-CN": "链接无效或已过期", "en": "Link invalid or expired"}
    detail = {"zh-CN": "下载链接已过期或被篡改，请重新获取", "en": "The link has expired or been altered; request a new one"}


class BlobMissing(DomainError):
    status = 404
    code = "blob.not_found"
    title = {"zh-CN": "文件不存在", "en": "File not found"}


class RangeNotSatisfiable(DomainError):
    status = 416
    code = "blob.range_not_satisfiable"
    title = {"zh-CN": "请求的字节范围无效", "en": "Range not satisfiable"}
    detail = {"zh-CN": "文件大小为 {size} 字节", "en": "The file has {size} bytes"}

    def __init__(self, *, size: int) -> None:
        super().__init__(headers={"Content-Range": f"bytes */{size}"}, size=size)

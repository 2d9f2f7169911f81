from __future__ import annotations

from services.common.problems import DomainError


class ResourceNotFound(DomainError):
    # Also what a caller gets for a resource they may not see: its existence is not revealed.
    status = 404
    code = "resource.not_found"
    title = {"zh-CN": "资源不存在", "en": "Resource not found"}
    detail = {"zh-CN": "资源不存在或无权查看", "en": "The resource does not exist or you may not see it"}


class InvalidTransition(DomainError):
    status = 409
    code = "resource.invalid_transition"
    title = {"zh-CN": "当前状态下不能执行该操作", "en": "Not possible in the resource's current status"}
    detail = {"zh-CN": "资源处于“{status}”状态，不能执行“{event}”",
              "en": "A resource in status '{status}' cannot take '{event}'"}


class NotResourceManager(DomainError):
    status = 403
    code = "resource.not_owner"
    title = {"zh-CN": "只有资源所有者或管理员可以修改", "en": "Only the owner or an administrator may change this resource"}


class UploadNotUsable(DomainError):
    status = 422
    code = "resource.upload_not_usable"
    title = {"zh-CN": "上传不可用", "en": "Upload cannot be attached"}
    detail = {"zh-CN": "上传 {upload_id} 不存在、未完成、未通过检查或已被使用",
              "en": "Upload {upload_id} is unknown, unfinished, refused, or already attached"}

    def __init__(self, *, upload_id: str, index: int) -> None:
        super().__init__(errors=[{"loc": ["body", "upload_ids", index], "msg": f"unusable upload {upload_id}"}],
                         upload_id=upload_id)


class AssetKindNotAllowed(DomainError):
    status = 422
    code = "resource.asset_kind_not_allowed"
    title = {"zh-CN": "该类资源不接受此类文件", "en": "This kind of resource does not take this kind of file"}
    detail = {"zh-CN": "“{kind}”资源不接受{category}文件", "en": "A {kind} resource does not take {category} files"}


class AssetNotFound(DomainError):
    status = 404
    code = "resource.asset_not_found"
    title = {"zh-CN": "文件不存在", "en": "Asset not found"}


class NoDocumentPreview(DomainError):
    status = 404
    code = "resource.no_preview"
    title = {"zh-CN": "该资源没有可预览的文档", "en": "This resource has no document preview"}
    detail = {"zh-CN": "资源中没有已转换的文档（不是文档、仍在处理或转换失败）",
              "en": "No converted document: none is attached, it is still processing, or its conversion failed"}


class LinkRevoked(DomainError):
    # 403 like an expired link: the player asks the API for a new one, which decides afresh.
    status = 403
    code = "resource.link_revoked"
    title = {"zh-CN": "链接已失效", "en": "Link revoked"}
    detail = {"zh-CN": "资源已下架、可见范围已收窄或结对已解除，此前的链接不再有效；请重新打开资源",
              "en": "The resource was taken down, its audience narrowed or a pairing ended since this link "
                    "was made; open the resource again"}


class RenditionUnreadable(DomainError):
    """What processing stored for a file does not have the shape this version reads (a damaged
    row or manifest, or a worker of another version): said with where and what, not a crash."""

    status = 500
    code = "resource.rendition_unreadable"
    title = {"zh-CN": "文件的处理结果无法读取", "en": "A file's processing result cannot be read"}
    detail = {"zh-CN": "{where} 的处理结果无法读取（{problem}）；请管理员重新处理该文件",
              "en": "The processing result in {where} cannot be read ({problem}); an administrator can process the file"
                    " again"}

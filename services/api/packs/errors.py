from __future__ import annotations

from services.common.problems import DomainError


class PackResourceNotFound(DomainError):
    # A listed resource the caller may not see (or that does not exist): nothing is built.
    status = 422
    code = "pack.resource_not_found"
    title = {"zh-CN": "资源包中有资源不存在或无权查看", "en": "A resource of the pack does not exist or you may not see it"}
    detail = {"zh-CN": "资源 {resource_id} 不存在或无权查看，未生成资源包",
              "en": "Resource {resource_id} does not exist or you may not see it; no pack was built"}

    def __init__(self, *, resource_id: str, index: int) -> None:
        super().__init__(errors=[{"loc": ["body", "resource_ids", index], "msg": f"no visible resource {resource_id}"}],
                         resource_id=resource_id)


class PackResourceNotPublished(DomainError):
    status = 422
    code = "pack.resource_not_published"
    title = {"zh-CN": "只有已发布的资源可以打包", "en": "Only published resources can be packed"}
    detail = {"zh-CN": "资源 {resource_id} 尚未发布，未生成资源包",
              "en": "Resource {resource_id} is not published; no pack was built"}

    def __init__(self, *, resource_id: str, index: int | None = None) -> None:
        errors = None if index is None else [{"loc": ["body", "resource_ids", index],
                                              "msg": f"resource {resource_id} is not published"}]
        super().__init__(errors=errors, resource_id=resource_id)


class PackEmpty(DomainError):
    status = 422
    code = "pack.empty"
    title = {"zh-CN": "没有可以打包的资源", "en": "Nothing to pack"}
    detail = {"zh-CN": "该知识点及其下级没有您可以查看的已发布资源",
              "en": "No published resource you may see is filed under this knowledge point or below it"}


class PackTooManyResources(DomainError):
    status = 422
    code = "pack.too_many_resources"
    title = {"zh-CN": "资源包中的资源过多", "en": "Too many resources for one pack"}
    detail = {"zh-CN": "共 {count} 个资源，一个资源包最多 {limit} 个；请选择更小的单元",
              "en": "{count} resources; a pack holds at most {limit}: choose a smaller unit"}


class PackTooLarge(DomainError):
    status = 422
    code = "pack.too_large"
    title = {"zh-CN": "资源包过大", "en": "The pack would be too large"}
    detail = {"zh-CN": "预计 {size_mb} MB，一个资源包最多 {limit_mb} MB（FAT32 U 盘的单个文件上限）",
              "en": "About {size_mb} MB; a pack is at most {limit_mb} MB (the largest file a FAT32 USB stick holds)"}

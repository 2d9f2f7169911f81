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

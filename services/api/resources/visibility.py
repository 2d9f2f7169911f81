"""Who may see a resource, as one SQL predicate: detail, lists and counts all use it, so no
path can show what another hides."""
from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_

from services.api.auth.principal import Principal
from services.api.orgs.models import Role
from services.api.pairing.service import partner_school_ids
from services.api.resources.models import Resource, ResourceStatus, Visibility


def visible_to(principal: Principal) -> ColumnElement[bool]:
    # Others see a resource only once it is published, and only within its audience.
    audience = [Resource.visibility == Visibility.public,
                and_(Resource.visibility == Visibility.district, Resource.district_id == principal.district_id)]
    if principal.school_id is not None:
        audience += [
            and_(Resource.visibility.in_([Visibility.school, Visibility.paired]),
                 Resource.school_id == principal.school_id),
            and_(Resource.visibility == Visibility.paired,
                 Resource.school_id.in_(partner_school_ids(principal.school_id))),
        ]
    return or_(
        Resource.owner_id == principal.user_id,
        manages(principal),
        and_(Resource.status == ResourceStatus.published, or_(*audience)),
    )


def manages(principal: Principal) -> ColumnElement[bool]:
    """Resources the caller administers or reviews, whatever their status or visibility."""
    if principal.reviews_district:
        return Resource.district_id == principal.district_id
    if Role.school_admin in principal.roles and principal.school_id is not None:
        return Resource.school_id == principal.school_id
    return false()


def may_edit(principal: Principal, resource: Resource) -> bool:
    if resource.owner_id == principal.user_id:
        return True
    if principal.is_district_admin:
        return resource.district_id == principal.district_id
    return Role.school_admin in principal.roles and resource.school_id == principal.school_id

"""Who may see a resource, as one SQL predicate: detail, lists and counts all use it, so no
path can show what another hides.

The predicate is built once per *shape* of viewer (reviewer, school administrator, teacher with
a school, ...) with bind parameters for who they are; `viewer_params` supplies those values at
execution. Building SQLAlchemy expressions per request cost more than running the SQL (1.1 ms
against 0.02 ms, measured on GET /resources/{id}).
"""
from __future__ import annotations

from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, bindparam, false, or_

from services.api.auth.principal import Principal
from services.api.orgs.models import Role
from services.api.pairing.service import partner_school_ids
from services.api.resources.models import Resource, ResourceStatus, Visibility

VIEWER_ID = bindparam("viewer_id")
VIEWER_DISTRICT = bindparam("viewer_district_id")
VIEWER_SCHOOL = bindparam("viewer_school_id")


class ViewerShape(NamedTuple):
    reviews_district: bool   # moderator or district administrator
    administers_school: bool  # school administrator or school reviewer, with a school
    has_school: bool


def viewer_shape(principal: Principal) -> ViewerShape:
    has_school = principal.school_id is not None
    return ViewerShape(reviews_district=principal.reviews_district,
                       administers_school=principal.has_any_role(Role.school_admin, Role.school_reviewer)
                       and has_school,
                       has_school=has_school)


def viewer_params(principal: Principal) -> dict[str, Any]:
    return {"viewer_id": principal.user_id, "viewer_district_id": principal.district_id,
            "viewer_school_id": principal.school_id}


def visible_to(principal: Principal) -> ColumnElement[bool]:
    """Execute statements using this with `viewer_params(principal)`."""
    return visible_for(viewer_shape(principal))


@cache
def visible_for(shape: ViewerShape) -> ColumnElement[bool]:
    # Others see a resource only once it is published, and only within its audience.
    audience = [Resource.visibility == Visibility.public,
                and_(Resource.visibility == Visibility.district, Resource.district_id == VIEWER_DISTRICT)]
    if shape.has_school:
        audience += [
            # Not `in_([...])`: an IN list is compiled per execution, and PreparedQuery runs this.
            and_(or_(Resource.visibility == Visibility.school, Resource.visibility == Visibility.paired),
                 Resource.school_id == VIEWER_SCHOOL),
            and_(Resource.visibility == Visibility.paired, Resource.school_id.in_(partner_school_ids(VIEWER_SCHOOL))),
        ]
    return or_(
        Resource.owner_id == VIEWER_ID,
        _manages(shape),
        and_(Resource.status == ResourceStatus.published, or_(*audience)),
    )


@cache
def _manages(shape: ViewerShape) -> ColumnElement[bool]:
    """Resources the viewer administers or reviews, whatever their status or visibility."""
    if shape.reviews_district:
        return Resource.district_id == VIEWER_DISTRICT
    if shape.administers_school:
        return Resource.school_id == VIEWER_SCHOOL
    return false()


def may_edit(principal: Principal, resource: Resource) -> bool:
    if resource.owner_id == principal.user_id:
        return True
    if principal.is_district_admin:
        return resource.district_id == principal.district_id
    return Role.school_admin in principal.roles and resource.school_id == principal.school_id


def sees_review(principal: Principal, resource: Any) -> bool:
    """The owner, and those who administer or review the resource, see its review and revisions
    (`resource`: an entity or a row with its columns)."""
    if resource.owner_id == principal.user_id:
        return True
    if resource.district_id != principal.district_id:
        return False
    if principal.reviews_district:
        return True
    return (principal.has_any_role(Role.school_admin, Role.school_reviewer)
            and principal.school_id is not None and resource.school_id == principal.school_id)

from __future__ import annotations

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.api.audit import service as audit
from services.api.auth.errors import Forbidden
from services.api.auth.models import RefreshToken
from services.api.auth.passwords import hash_password
from services.api.auth.principal import Principal
from services.api.orgs.errors import (DistrictNameTaken, DistrictNotFound, SchoolNotFound, SchoolRequired,
                                      UsernameTaken, UserNotFound)
from services.api.orgs.models import District, Role, School, SchoolKind, User
from services.common.db import utcnow

# Roles that live within a school; district-wide roles come from the district.
_SCHOOL_ROLES = frozenset({Role.teacher, Role.school_admin})
_NEEDS_SCHOOL = {Role.teacher, Role.school_admin, Role.school_reviewer}
# Above the district: only operators appoint them (lb region appoint-admin), and no district manages them.
_REGION_ROLES = frozenset({Role.city_admin, Role.province_admin})


def create_district(session: Session, *, name: str, actor_id: str | None) -> District:
    if session.scalar(select(District.id).where(District.name == name)):
        raise DistrictNameTaken()
    district = District(name=name)
    session.add(district)
    session.flush()
    audit.record(session, actor_id=actor_id, district_id=district.id, action="district.create",
                 target_type="district", target_id=district.id, name=name)
    return district


def find_district(session: Session, *, name: str) -> District | None:
    return session.scalar(select(District).where(District.name == name))


def get_district(session: Session, *, district_id: str) -> District:
    district = session.get(District, district_id)
    if district is None:
        raise DistrictNotFound()
    return district


def create_school(session: Session, *, actor: Principal | None, district_id: str, name: str,
                  kind: SchoolKind, bandwidth_kbps: int) -> School:
    if actor is not None and (not actor.is_district_admin or actor.district_id != district_id):
        raise Forbidden()
    get_district(session, district_id=district_id)
    school = School(district_id=district_id, name=name, kind=kind, bandwidth_kbps=bandwidth_kbps)
    session.add(school)
    session.flush()
    audit.record(session, actor_id=actor.user_id if actor else None, district_id=district_id,
                 action="school.create", target_type="school", target_id=school.id, name=name, kind=kind)
    return school


def get_school(session: Session, *, school_id: str, district_id: str | None = None) -> School:
    """A school, optionally only if it belongs to `district_id` (otherwise: not found)."""
    school = session.get(School, school_id)
    if school is None or (district_id is not None and school.district_id != district_id):
        raise SchoolNotFound()
    return school


def update_school(session: Session, *, actor: Principal, school_id: str, changes: dict) -> School:
    school = get_school(session, school_id=school_id, district_id=actor.district_id)
    if not (actor.is_district_admin or (Role.school_admin in actor.roles and actor.school_id == school.id)):
        raise Forbidden()
    for field, value in changes.items():
        setattr(school, field, value)
    audit.record(session, actor_id=actor.user_id, district_id=school.district_id, action="school.update",
                 target_type="school", target_id=school.id, **{k: str(v) for k, v in changes.items()})
    return school


def schools_query(*, actor: Principal) -> Select[tuple[School]]:
    return select(School).where(School.district_id == actor.district_id).order_by(School.name, School.id)


def create_user(session: Session, *, actor: Principal | None, username: str, real_name: str,
                password: str, roles: list[Role], school_id: str | None,
                district_id: str | None = None, email: str | None = None) -> User:
    """`actor` None is the command line, trusted to create the first administrators."""
    roles = sorted(set(roles))
    if actor is not None:
        district_id = actor.district_id
        _check_may_grant(actor, roles=roles, school_id=school_id)
    if school_id is not None:
        school = get_school(session, school_id=school_id, district_id=district_id)
        district_id = school.district_id
    elif _NEEDS_SCHOOL.intersection(roles):
        raise SchoolRequired()
    if district_id is None:
        raise DistrictNotFound()
    if session.scalar(select(User.id).where(User.username == username)):
        raise UsernameTaken(username=username)
    user = User(username=username, real_name=real_name, password_hash=hash_password(password),
                roles=[str(r) for r in roles], school_id=school_id, district_id=district_id, email=email)
    try:
        with session.begin_nested():  # a savepoint: a lost race undoes only this insert
            session.add(user)
    except IntegrityError:  # a concurrent request took the name between our check and insert
        raise UsernameTaken(username=username) from None
    audit.record(session, actor_id=actor.user_id if actor else None, district_id=district_id,
                 action="user.create", target_type="user", target_id=user.id, username=username,
                 roles=[str(r) for r in roles])
    return user


def get_user(session: Session, *, user_id: str, actor: Principal) -> User:
    """A user the caller may see as an administrator: their district's, or their school's."""
    user = session.get(User, user_id)
    if user is None or not _may_see(actor, user):
        raise UserNotFound()
    return user


def get_self(session: Session, *, principal: Principal) -> User:
    user = session.get(User, principal.user_id)
    if user is None:
        raise UserNotFound()
    return user


def update_user(session: Session, *, actor: Principal, user_id: str, real_name: str | None,
                roles: list[Role] | None, is_active: bool | None, password: str | None) -> User:
    user = get_user(session, user_id=user_id, actor=actor)
    if not _may_manage(actor, user):
        raise Forbidden()  # seen (same school) but above the caller: a moderator, say
    changed: dict[str, object] = {}
    if real_name is not None:
        user.real_name = real_name
        changed["real_name"] = real_name
    if roles is not None:
        roles = sorted(set(roles))
        _check_may_grant(actor, roles=roles, school_id=user.school_id)
        if _NEEDS_SCHOOL.intersection(roles) and user.school_id is None:
            raise SchoolRequired()
        user.roles = [str(r) for r in roles]
        changed["roles"] = user.roles
    if password is not None:
        user.password_hash = hash_password(password)
        changed["password"] = "changed"
    if is_active is not None and is_active != user.is_active:
        if user.id == actor.user_id:
            raise Forbidden()  # an administrator cannot lock themselves out
        user.is_active = is_active
        changed["is_active"] = is_active
    if password is not None or is_active is False:
        # Out with every session: old access tokens by version, refresh tokens by revocation.
        user.token_version += 1
        session.execute(update(RefreshToken).where(RefreshToken.user_id == user.id,
                                                   RefreshToken.revoked_at.is_(None)).values(revoked_at=utcnow()))
    audit.record(session, actor_id=actor.user_id, district_id=user.district_id, action="user.update",
                 target_type="user", target_id=user.id, **changed)
    return user


def users_query(*, actor: Principal) -> Select[tuple[User]]:
    query = select(User).where(User.district_id == actor.district_id)
    if not actor.is_district_admin:
        query = query.where(User.school_id == actor.school_id)
    return query.order_by(User.username)


def require_user_admin(actor: Principal) -> None:
    if not actor.has_any_role(Role.district_admin, Role.school_admin):
        raise Forbidden()


def _may_see(actor: Principal, user: User) -> bool:
    if user.district_id != actor.district_id:
        return False
    return actor.is_district_admin or (Role.school_admin in actor.roles and user.school_id == actor.school_id)


def manageable_roles(actor: Principal) -> frozenset[Role]:
    """The roles an administrator may hold power over: grant, or manage the holders of.

    District administrators: every role, in their district. A school administrator: only the
    school's roles they hold themselves, so nobody can turn the power upward: no moderator or
    district administrator can be created, reset, disabled or demoted from a school, nor a role
    granted that its granter lacks. School administration implies the teacher role here, because
    managing the school's teachers is what the role is for."""
    if actor.is_district_admin:
        # Roles above the district are never a district's to give or take: regions' are appointed
        # by operators (lb region appoint-admin), the platform's only by its own holders.
        above = _REGION_ROLES | ({Role.platform_admin} - set(actor.roles))
        return frozenset(Role) - above
    if Role.school_admin in actor.roles:
        return (actor.roles | {Role.teacher}) & _SCHOOL_ROLES
    return frozenset()


def _may_manage(actor: Principal, user: User) -> bool:
    if not _may_see(actor, user):
        return False
    return {Role(r) for r in user.roles} <= manageable_roles(actor)


def _check_may_grant(actor: Principal, *, roles: list[Role], school_id: str | None) -> None:
    if not set(roles) <= manageable_roles(actor):
        raise Forbidden()
    if not actor.is_district_admin and school_id != actor.school_id:
        raise Forbidden()

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, or_, select, union
from sqlalchemy.orm import Session

from services.api.audit import service as audit
from services.api.auth.errors import Forbidden
from services.api.auth.principal import Principal
from services.api.orgs import service as orgs
from services.api.orgs.models import Role, School, User
from services.api.pairing.errors import PairingExists, PairingNotFound, SelfPairing
from services.api.pairing.models import Pairing
from services.api.resources import links


def create_pairing(session: Session, *, actor: Principal | None, helper_school_id: str,
                   assisted_school_id: str) -> Pairing:
    if actor is not None and not actor.is_district_admin:
        raise Forbidden()
    if helper_school_id == assisted_school_id:
        raise SelfPairing()
    district_id = actor.district_id if actor else None
    helper = orgs.get_school(session, school_id=helper_school_id, district_id=district_id)
    orgs.get_school(session, school_id=assisted_school_id, district_id=helper.district_id)
    exists = session.scalar(select(Pairing.id).where(
        or_((Pairing.helper_school_id == helper_school_id) & (Pairing.assisted_school_id == assisted_school_id),
            (Pairing.helper_school_id == assisted_school_id) & (Pairing.assisted_school_id == helper_school_id))))
    if exists:
        raise PairingExists()
    pairing = Pairing(helper_school_id=helper_school_id, assisted_school_id=assisted_school_id,
                      created_by=actor.user_id if actor else "cli")
    session.add(pairing)
    session.flush()
    audit.record(session, actor_id=actor.user_id if actor else None, district_id=helper.district_id,
                 action="pairing.create", target_type="pairing", target_id=pairing.id,
                 helper_school_id=helper_school_id, assisted_school_id=assisted_school_id)
    return pairing


def delete_pairing(session: Session, *, actor: Principal, pairing_id: str) -> None:
    if not actor.is_district_admin:
        raise Forbidden()
    pairing = session.get(Pairing, pairing_id)
    if pairing is None:
        raise PairingNotFound()
    orgs.get_school(session, school_id=pairing.helper_school_id, district_id=actor.district_id)
    audit.record(session, actor_id=actor.user_id, district_id=actor.district_id, action="pairing.delete",
                 target_type="pairing", target_id=pairing.id)
    links.revoke_paired(session, school_ids=[pairing.helper_school_id, pairing.assisted_school_id])
    session.delete(pairing)


def pairings_query(*, school_ids: Select | list[str], school_id: str | None) -> Select[tuple[Pairing]]:
    query = select(Pairing).order_by(Pairing.created_at)
    if school_id:
        query = query.where(or_(Pairing.helper_school_id == school_id, Pairing.assisted_school_id == school_id))
    return query.where(Pairing.helper_school_id.in_(school_ids))


def partner_school_ids(school_id: str | ColumnElement[str]) -> Select:
    """The schools paired with `school_id`, in either direction (a SQL subquery)."""
    return select(union(
        select(Pairing.assisted_school_id.label("school_id")).where(Pairing.helper_school_id == school_id),
        select(Pairing.helper_school_id.label("school_id")).where(Pairing.assisted_school_id == school_id),
    ).subquery().c.school_id)


# --- membership: who may see and act for a pair ----------------------------------------------

def get_member_pairing(session: Session, *, actor: Principal, pairing_id: str) -> Pairing:
    """The pairing, if the caller administers its district or belongs to one of its schools.
    Anyone else gets pairing.not_found, as for a pairing that does not exist: a school's
    partnerships are not revealed to the schools outside them."""
    pairing = session.get(Pairing, pairing_id)
    helper = session.get(School, pairing.helper_school_id) if pairing else None
    if pairing is None or helper is None or helper.district_id != actor.district_id:
        raise PairingNotFound()
    if actor.is_district_admin or actor.school_id in (pairing.helper_school_id, pairing.assisted_school_id):
        return pairing
    raise PairingNotFound()


def administers_pairing(actor: Principal, pairing: Pairing) -> bool:
    """District administrators and the administrators of either school (given a member pairing)."""
    return actor.is_district_admin or (Role.school_admin in actor.roles and actor.school_id in (
        pairing.helper_school_id, pairing.assisted_school_id))


def school_admin_ids(session: Session, *, school_ids: list[str]) -> set[str]:
    users = session.scalars(select(User).where(User.school_id.in_(school_ids), User.is_active.is_(True)))
    return {u.id for u in users if Role.school_admin in u.roles}

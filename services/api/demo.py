"""The demo district `make run` seeds on an empty database: two paired schools, the four demo
accounts, the seed taxonomy and a few published resources to find."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.api.auth.principal import Principal
from services.api.orgs import service as orgs
from services.api.orgs.models import District, Role, SchoolKind
from services.api.pairing import service as pairing
from services.api.resources import service as resources
from services.api.resources.models import License, ResourceKind, Visibility
from services.api.resources.status import ResourceEvent, apply_event
from services.api.taxonomy import service as taxonomy
from services.api.taxonomy.models import KnowledgePoint

DEMO_DISTRICT = "青山区（演示）"
DEMO_ACCOUNTS = {
    "district-admin": ("王建国", [Role.district_admin], None),
    "moderator": ("李审核", [Role.moderator], None),
    "teacher-urban": ("张老师", [Role.teacher], "urban"),
    "teacher-rural": ("赵老师", [Role.teacher], "rural"),
}


@dataclass(frozen=True)
class DemoDistrict:
    district_id: str
    usernames: list[str]


def is_empty(session: Session) -> bool:
    return session.scalar(select(District.id).limit(1)) is None


def seed_demo(session: Session, *, password: str) -> DemoDistrict:
    taxonomy.import_document(session, taxonomy.seed_document(), actor_id=None, district_id=None)
    district = orgs.create_district(session, name=DEMO_DISTRICT, actor_id=None)
    schools = {
        "urban": orgs.create_school(session, actor=None, district_id=district.id, name="青山区实验小学",
                                    kind=SchoolKind.urban, bandwidth_kbps=1_000_000),
        # A village school on the kind of link the platform is built for.
        "rural": orgs.create_school(session, actor=None, district_id=district.id, name="石桥村小学",
                                    kind=SchoolKind.rural, bandwidth_kbps=8_000),
    }
    pairing.create_pairing(session, actor=None, helper_school_id=schools["urban"].id,
                           assisted_school_id=schools["rural"].id)
    users = {}
    for username, (real_name, roles, school) in DEMO_ACCOUNTS.items():
        users[username] = orgs.create_user(session, actor=None, username=username, real_name=real_name,
                                           password=password, roles=roles,
                                           school_id=schools[school].id if school else None,
                                           district_id=district.id)
    teacher = users["teacher-urban"]
    author = Principal(user_id=teacher.id, roles=frozenset([Role.teacher]), school_id=teacher.school_id,
                       district_id=district.id)
    for title, kind, point_code, visibility in (
        ("20以内的进位加法（凑十法）说课稿", ResourceKind.lesson_plan, "math.p.num.addsub.carry20", Visibility.paired),
        ("认识钟表 微课", ResourceKind.micro_lesson, "math.p.num.qty.clock", Visibility.district),
        ("凸透镜成像规律 实验课", ResourceKind.excellent_lesson, "phys.j.motion.lens.imaging", Visibility.public),
    ):
        point = session.scalars(select(KnowledgePoint).where(KnowledgePoint.code == point_code)).one()
        resource = resources.create_resource(
            session, actor=author, title=title, kind=kind, description="演示资源",
            taxonomy_codes={"subject": point.subject_code, "stage": point.stage_code},
            knowledge_point_ids=[point.id], tags=["演示"], visibility=visibility,
            license=License.cc_by_nc_sa, upload_ids=[])
        apply_event(resource, ResourceEvent.submit)
        apply_event(resource, ResourceEvent.approve)
    session.flush()
    return DemoDistrict(district_id=district.id, usernames=list(DEMO_ACCOUNTS))

"""Building a campaign's world: a province above a city above a district, schools and teachers,
lessons that passed review, and the API calls every campaign test makes."""
from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from services.api.campaigns.models import CampaignLevel
from services.api.orgs.models import District, Region, RegionKind, Role, School, User
from services.api.resources.models import Asset
from services.api.uploads.models import Blob
from services.common.db import utcnow

API = "/api/v1"
_files = itertools.count(1)

LESSON = {"lesson": {"name": "优课", "parts": [
    {"part": "recording", "kinds": ["lesson_recording"], "formats": ["mp4"],
     "min_duration_s": 30 * 60, "max_duration_s": 45 * 60},
    {"part": "plan", "kinds": ["lesson_plan"], "formats": ["pdf", "docx"]},
]}}
RUBRIC = [{"code": "design", "name": "教学设计", "weight": 40, "min": 0, "max": 10},
          {"code": "delivery", "name": "课堂实施", "weight": 40, "min": 0, "max": 10},
          {"code": "media", "name": "信息技术应用", "weight": 20, "min": 0, "max": 10}]


@dataclass
class World:
    """测试省 above two cities: 测试市 with two districts, 第二市 with one. Each district has an
    administrator and a moderator; each region an administrator."""
    province: Region
    city: Region
    other_city: Region
    districts: list[District]  # the first two are 测试市's, the last 第二市's
    district_admins: list[User]
    moderators: list[User]
    city_admin: User
    other_city_admin: User
    province_admin: User
    schools: list[School] = field(default_factory=list)

    @property
    def district(self) -> District:
        return self.districts[0]

    @property
    def district_admin(self) -> User:
        return self.district_admins[0]

    @property
    def moderator(self) -> User:
        return self.moderators[0]

    def moderator_of(self, user: User) -> User:
        return next(m for m in self.moderators if m.district_id == user.district_id)


def build_world(factory) -> World:  # type: ignore[no-untyped-def]
    session = factory.session
    province = Region(name="测试省", kind=RegionKind.province)
    session.add(province)
    session.flush()
    city = Region(name="测试市", kind=RegionKind.city, parent_id=province.id)
    other_city = Region(name="第二市", kind=RegionKind.city, parent_id=province.id)
    session.add_all([city, other_city])
    session.flush()
    districts = [factory.district(name=name) for name in ("东区", "西区", "南区")]
    for district, region in zip(districts, (city, city, other_city)):
        district.region_id = region.id
    city_admin = factory.user(roles=(Role.city_admin,), district=districts[0])
    city_admin.region_id = city.id
    other_city_admin = factory.user(roles=(Role.city_admin,), district=districts[2])
    other_city_admin.region_id = other_city.id
    province_admin = factory.user(roles=(Role.province_admin,), district=districts[0])
    province_admin.region_id = province.id
    session.flush()
    return World(province=province, city=city, other_city=other_city, districts=districts,
                 district_admins=[factory.user(roles=(Role.district_admin,), district=d) for d in districts],
                 moderators=[factory.user(roles=(Role.moderator,), district=d) for d in districts],
                 city_admin=city_admin, other_city_admin=other_city_admin, province_admin=province_admin)


def level_specs(*, publicity_days=(1, 0, 0), quotas=([], [], []), judges=(2, 2, 2)) -> list[dict[str, Any]]:
    now = utcnow()
    return [{"kind": kind, "submission_opens_at": (now - timedelta(hours=1)).isoformat(),
             "submission_closes_at": (now + timedelta(days=7)).isoformat(),
             "judging_closes_at": (now + timedelta(days=30)).isoformat(),
             "publicity_days": publicity_days[i], "judges_per_package": judges[i], "quotas": quotas[i]}
            for i, kind in enumerate(("district", "city", "province"))]


def create_campaign(client, factory, world, **levels) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The province's three-level campaign: every district of the province takes part."""
    created = client.post(f"{API}/campaigns", headers=factory.headers(world.province_admin), json={
        "title": "2026年“一师一优课”晒课活动", "categories": LESSON, "rubric": RUBRIC,
        "aggregation": "trimmed_mean", "levels": level_specs(**levels)})
    assert created.status_code == 201, created.text
    return created.json()


def lesson(client, factory, world, teacher, *, kind="lesson_recording", filename="lesson.mp4",
           duration_min: float | None = 40, converted=True, point="phys.j.matter.state.temp",
           grade="g8", approve=True) -> str:  # type: ignore[no-untyped-def]
    """A resource of `teacher` with one file, through review (approved by its district's moderator)."""
    created = client.post(f"{API}/resources", headers=factory.headers(teacher), json={
        "title": f"《温度》{filename}", "kind": kind, "subject": "physics", "stage": "junior", "grade": grade,
        "edition": "pep", "knowledge_point_ids": [factory.knowledge_point(point).id]})
    assert created.status_code == 201, created.text
    resource_id = created.json()["id"]
    digest = hashlib.sha256(f"file-{next(_files)}".encode()).hexdigest()
    blob = Blob(sha256=digest, size=1000, media_type="application/octet-stream", backend="local", key=digest)
    factory.session.add(blob)
    factory.session.flush()
    video = filename.endswith(".mp4")
    factory.session.add(Asset(
        resource_id=resource_id, blob_id=blob.id, role="main", filename=filename,
        media_type="video/mp4" if video else "application/pdf", category="video" if video else "document",
        size=1000, sha256=digest, duration_s=duration_min * 60 if video and duration_min else None,
        renditions=[{"job": "document", "kind": "document", "prefix": f"media/{digest[:26]}/document", "pages": 3}]
        if not video and converted else []))
    factory.commit()
    if approve:
        assert client.post(f"{API}/resources/{resource_id}/submit", headers=factory.headers(teacher)).status_code == 200
        decided = client.post(f"{API}/moderation/resources/{resource_id}/decision", json={"action": "approve"},
                              headers=factory.headers(world.moderator_of(teacher)))
        assert decided.json()["status"] == "published", decided.text
    return resource_id


def post_lesson(client, factory, world, campaign, teacher, **lesson_args) -> str:  # type: ignore[no-untyped-def]
    """A teacher's complete package, submitted."""
    recording = lesson(client, factory, world, teacher, **lesson_args)
    plan = lesson(client, factory, world, teacher, kind="lesson_plan", filename="plan.pdf",
                  **{k: v for k, v in lesson_args.items() if k in ("point", "grade")})
    created = client.post(f"{API}/campaigns/{campaign['id']}/packages", headers=factory.headers(teacher), json={
        "category": "lesson", "title": f"温度 {teacher.real_name}", "items": {"recording": recording, "plan": plan}})
    assert created.status_code == 201, created.text
    submitted = client.post(f"{API}/campaigns/{campaign['id']}/packages/{created.json()['id']}/submit",
                            headers=factory.headers(teacher))
    assert submitted.status_code == 200, submitted.text
    return created.json()["id"]


def move_level(factory, campaign, position, **values) -> None:  # type: ignore[no-untyped-def]
    """Moves a level's clock (windows, publicity) as time passing would."""
    factory.session.execute(update(CampaignLevel).where(CampaignLevel.campaign_id == campaign["id"],
                                                        CampaignLevel.position == position).values(**values))
    factory.commit()


def score_all(client, factory, judges, campaign, *, marks) -> None:  # type: ignore[no-untyped-def]
    """Each judge scores every package assigned to them in this campaign; marks[package_id] is the
    score each criterion gets."""
    for judge in judges:
        listed = client.get(f"{API}/me/judging", headers=factory.headers(judge))
        assert listed.status_code == 200, listed.text
        for assignment in listed.json():
            if assignment["campaign_id"] != campaign["id"] or assignment["scored"]:
                continue
            mark = marks[assignment["package_id"]]
            scored = client.put(f"{API}/campaigns/{campaign['id']}/assignments/{assignment['id']}/scores",
                                headers=factory.headers(judge), json={"scores": {
                                    c["code"]: {"score": mark, "comment": "好"} for c in RUBRIC}})
            assert scored.status_code == 200, scored.text

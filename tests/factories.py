"""Factories that build valid domain objects straight into the database, and tokens for them."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.api.auth.passwords import hash_password
from services.api.orgs.models import District, Role, School, SchoolKind, User
from services.api.pairing.models import Pairing
from services.api.resources.models import License, Resource, ResourceKind, ResourceStatus, Visibility
from services.api.taxonomy.models import KnowledgePoint
from services.common.keys import Purpose, derive_key
from services.common.tokens import issue_access_token

PASSWORD = "correct-horse-battery"
_PASSWORD_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once for all tests
_sequence = itertools.count(1)


@dataclass
class Factory:
    session: Session
    secret: str  # the master secret (LB_SECRET_KEY); tokens are signed with the key derived from it
    _district: District | None = field(default=None, init=False)

    def district(self, name: str | None = None) -> District:
        district = District(name=name or f"测试区{next(_sequence)}")
        self.session.add(district)
        self.session.flush()
        return district

    @property
    def default_district(self) -> District:
        if self._district is None:
            self._district = self.district()
        return self._district

    def school(self, *, district: District | None = None, kind: SchoolKind = SchoolKind.urban,
               bandwidth_kbps: int = 100_000, name: str | None = None) -> School:
        school = School(district_id=(district or self.default_district).id, name=name or f"第{next(_sequence)}小学",
                        kind=kind, bandwidth_kbps=bandwidth_kbps)
        self.session.add(school)
        self.session.flush()
        return school

    def user(self, *, school: School | None = None, roles: tuple[Role, ...] = (Role.teacher,),
             district: District | None = None, active: bool = True, username: str | None = None) -> User:
        if school is None and (Role.teacher in roles or Role.school_admin in roles):
            school = self.school(district=district)
        district_id = school.district_id if school else (district or self.default_district).id
        user = User(username=username or f"user{next(_sequence)}", real_name=f"测试{next(_sequence)}",
                    password_hash=_PASSWORD_HASH, roles=[str(r) for r in roles], district_id=district_id,
                    school_id=school.id if school else None, is_active=active)
        self.session.add(user)
        self.session.flush()
        return user

    def pairing(self, helper: School, assisted: School) -> Pairing:
        pairing = Pairing(helper_school_id=helper.id, assisted_school_id=assisted.id, created_by="test")
        self.session.add(pairing)
        self.session.flush()
        return pairing

    def resource(self, owner: User, *, status: ResourceStatus = ResourceStatus.published,
                 published_at: datetime | None = None, submitted_at: datetime | None = None, view_count: int = 0,
                 stage: str | None = None, subject: str | None = None, title: str | None = None) -> Resource:
        """A resource row as the status machine would have left it (no files): `submitted_at` is
        when it last changed (the moderation queue's submission time)."""
        resource = Resource(title=title or f"资源{next(_sequence)}", kind=ResourceKind.courseware,
                            visibility=Visibility.district, license=License.cc_by, owner_id=owner.id,
                            school_id=owner.school_id, district_id=owner.district_id, status=status,
                            published_at=published_at, view_count=view_count, stage_code=stage, subject_code=subject)
        if submitted_at is not None:
            resource.updated_at = submitted_at
        self.session.add(resource)
        self.session.flush()
        return resource

    def knowledge_point(self, code: str) -> KnowledgePoint:
        return self.session.scalars(select(KnowledgePoint).where(KnowledgePoint.code == code)).one()

    def headers(self, user: User, *, ttl_s: int = 900, secret: str | None = None) -> dict[str, str]:
        token = issue_access_token(secret=derive_key(secret or self.secret, Purpose.access_token), ttl_s=ttl_s, user_id=user.id,
                                   token_version=user.token_version, school_id=user.school_id,
                                   district_id=user.district_id, roles=user.roles)
        return {"Authorization": f"Bearer {token}"}

    def commit(self) -> None:
        """Makes what was built visible to the app's sessions (a savepoint, undone after the test)."""
        self.session.commit()

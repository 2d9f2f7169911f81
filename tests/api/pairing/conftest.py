"""A pair of schools with their people, for the semester tests."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from services.api.orgs.models import Role, School, User
from services.api.pairing.models import Pairing

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Inside 2026-fall (2026-09-01 .. 2027-02-01).
NOV_2 = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)


@dataclass
class Pair:
    pairing: Pairing
    helper: School
    assisted: School
    district_admin: User
    helper_admin: User
    helper_teacher: User
    assisted_admin: User
    assisted_teacher: User
    outsider_teacher: User   # a teacher of a third school of the same district
    outsider_admin: User


@pytest.fixture
def pair(factory) -> Pair:
    helper = factory.school(name="城关第一小学")
    assisted = factory.school(name="石门村教学点")
    third = factory.school()
    result = Pair(
        pairing=factory.pairing(helper, assisted), helper=helper, assisted=assisted,
        district_admin=factory.user(roles=(Role.district_admin,)),
        helper_admin=factory.user(school=helper, roles=(Role.school_admin,)),
        helper_teacher=factory.user(school=helper, username=f"wang.{helper.id[-6:].lower()}"),
        assisted_admin=factory.user(school=assisted, roles=(Role.school_admin,)),
        assisted_teacher=factory.user(school=assisted),
        outsider_teacher=factory.user(school=third),
        outsider_admin=factory.user(school=third, roles=(Role.school_admin,)))
    factory.commit()
    return result

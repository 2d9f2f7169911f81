"""Review levels and separation of duties: the district's policy (one level or two per kind),
school reviewers at the first level for their own school only, nobody deciding on their own
work, reasons and notes the owner sees on the resource and in notifications, resubmission, and
an appeal that goes before another reviewer."""
from __future__ import annotations

import pytest

from services.api.orgs.models import Role
from tests.helpers import assert_problem

RESOURCES = "/api/v1/resources"
QUEUE = "/api/v1/moderation/queue"
POLICY = "/api/v1/moderation/policy"


@pytest.fixture
def people(factory):
    school, other = factory.school(name="城关一中"), factory.school(name="河西中学")
    users = {
        "owner": factory.user(school=school),
        "other_teacher": factory.user(school=other),
        "school_reviewer": factory.user(school=school, roles=(Role.school_reviewer,)),
        "other_reviewer": factory.user(school=other, roles=(Role.school_reviewer,)),
        "moderator": factory.user(roles=(Role.moderator,)),
        "second_moderator": factory.user(roles=(Role.moderator,)),
        "district_admin": factory.user(roles=(Role.district_admin,)),
        # A teacher who also moderates: reviews others' work, never their own.
        "teacher_moderator": factory.user(school=school, roles=(Role.teacher, Role.moderator)),
    }
    factory.commit()
    return {name: (user, factory.headers(user)) for name, user in users.items()}


def h(people, name):
    return people[name][1]


def submitted(client, people, who="owner", **fields):
    body = {"title": "认识钟表", "kind": "courseware", "visibility": "district", **fields}
    created = client.post(RESOURCES, json=body, headers=h(people, who))
    assert created.status_code == 201, created.text
    resource_id = created.json()["id"]
    assert client.post(f"{RESOURCES}/{resource_id}/submit", headers=h(people, who)).json()["status"] == "pending_review"
    return resource_id


def decision(client, people, resource_id, who, action, **extra):
    return client.post(f"/api/v1/moderation/resources/{resource_id}/decision", json={"action": action, **extra},
                       headers=h(people, who))


def decided(client, people, resource_id, who, action, **extra):
    response = decision(client, people, resource_id, who, action, **extra)
    assert response.status_code == 200, response.text
    return response.json()


def queue_ids(client, people, who):
    response = client.get(QUEUE, headers=h(people, who))
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def two_levels(client, people, *kinds):
    response = client.put(POLICY, json={"levels": {kind: 2 for kind in kinds}}, headers=h(people, "district_admin"))
    assert response.status_code == 200, response.text
    return response.json()


def notifications(client, people, who):
    response = client.get("/api/v1/me/notifications", headers=h(people, who))
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_the_policy_is_read_by_reviewers_and_set_by_district_admins(client, people):
    assert client.get(POLICY, headers=h(people, "moderator")).json()["levels"]["courseware"] == 1
    policy = two_levels(client, people, "courseware", "excellent_lesson")
    assert policy["levels"]["courseware"] == 2 and policy["levels"]["micro_lesson"] == 1
    assert client.put(POLICY, json={"levels": {"excellent_lesson": 1}},
                      headers=h(people, "district_admin")).json()["levels"]["courseware"] == 2
    assert_problem(client.put(POLICY, json={"levels": {"courseware": 1}}, headers=h(people, "moderator")),
                   403, "auth.forbidden")
    assert_problem(client.get(POLICY, headers=h(people, "owner")), 403, "auth.forbidden")
    assert_problem(client.put(POLICY, json={"levels": {"courseware": 3}}, headers=h(people, "district_admin")),
                   422, "request.validation_failed")


def test_nobody_approves_their_own_resource_or_revision(client, people):
    own = submitted(client, people, who="teacher_moderator")
    assert own not in queue_ids(client, people, "teacher_moderator")
    assert own in queue_ids(client, people, "moderator")
    for action, extra in (("approve", {}), ("reject", {"reason_code": "other"})):
        assert_problem(decision(client, people, own, "teacher_moderator", action, **extra), 403, "moderation.own_item")
    decided(client, people, own, "moderator", "approve")
    # An administrator's revision of someone else's resource: they may not approve it either.
    resource_id = submitted(client, people)
    decided(client, people, resource_id, "moderator", "approve")
    client.patch(f"{RESOURCES}/{resource_id}", json={"title": "区里改的"}, headers=h(people, "district_admin"))
    assert resource_id not in queue_ids(client, people, "district_admin")
    assert_problem(decision(client, people, resource_id, "district_admin", "approve"), 403, "moderation.own_item")
    assert decided(client, people, resource_id, "moderator", "approve")["revision_id"]


def test_two_levels_end_to_end_school_reviewer_then_district(client, people):
    two_levels(client, people, "courseware")
    resource_id = submitted(client, people)
    other_kind = submitted(client, people, kind="micro_lesson")
    # At the first level: only the owner's school reviewer sees it; the district waits.
    assert queue_ids(client, people, "school_reviewer") == [resource_id]
    assert resource_id not in queue_ids(client, people, "moderator")
    assert other_kind in queue_ids(client, people, "moderator")  # one level for micro lessons
    assert queue_ids(client, people, "other_reviewer") == []
    assert_problem(decision(client, people, resource_id, "moderator", "approve"), 403, "moderation.not_your_level")
    assert_problem(decision(client, people, resource_id, "other_reviewer", "approve"), 404, "resource.not_found")
    assert_problem(client.get(f"{RESOURCES}/{resource_id}", headers=h(people, "other_reviewer")),
                   404, "resource.not_found")
    review = client.get(f"{RESOURCES}/{resource_id}", headers=h(people, "owner")).json()["review"]
    assert review["status"] == "pending" and review["level"] == "school"

    first = decided(client, people, resource_id, "school_reviewer", "approve", note="校内通过")
    assert first["status"] == "pending_review" and first["level"] == "school" and first["review_level"] == "district"
    assert queue_ids(client, people, "school_reviewer") == []
    [item] = [i for i in client.get(QUEUE, headers=h(people, "moderator")).json()["items"] if i["id"] == resource_id]
    assert item["level"] == "district"
    # The school reviewer does not decide the second level.
    assert_problem(decision(client, people, resource_id, "school_reviewer", "approve"),
                   403, "moderation.not_your_level")
    review = client.get(f"{RESOURCES}/{resource_id}", headers=h(people, "owner")).json()["review"]
    assert review["status"] == "pending" and review["level"] == "district"
    assert [n["kind"] for n in notifications(client, people, "owner")] == ["review.level_passed"]
    assert any(n["kind"] == "review.waiting" and n["resource_id"] == resource_id
               for n in notifications(client, people, "moderator"))

    final = decided(client, people, resource_id, "moderator", "approve", note="区级通过")
    assert final["status"] == "published" and final["level"] == "district"
    review = client.get(f"{RESOURCES}/{resource_id}", headers=h(people, "owner")).json()["review"]
    assert (review["status"], review["level"], review["note"]) == ("approved", "district", "区级通过")

    # A revision of it goes through both levels again, from the school.
    client.patch(f"{RESOURCES}/{resource_id}", json={"title": "认识钟表 第二版"}, headers=h(people, "owner"))
    assert queue_ids(client, people, "school_reviewer") == [resource_id]
    assert any(n["kind"] == "revision.waiting" for n in notifications(client, people, "school_reviewer"))
    decided(client, people, resource_id, "school_reviewer", "approve")
    assert client.get(f"{RESOURCES}/{resource_id}", headers=h(people, "other_teacher")).json()["title"] == "认识钟表"
    decided(client, people, resource_id, "moderator", "approve")
    assert client.get(f"{RESOURCES}/{resource_id}",
                      headers=h(people, "other_teacher")).json()["title"] == "认识钟表 第二版"


def test_a_school_reviewer_rejects_only_at_their_school_and_level(client, people):
    two_levels(client, people, "courseware")
    elsewhere = submitted(client, people, who="other_teacher")
    assert queue_ids(client, people, "school_reviewer") == []
    assert_problem(decision(client, people, elsewhere, "school_reviewer", "reject", reason_code="other"),
                   404, "resource.not_found")
    # A published resource of another school is visible to them, and still not theirs to decide.
    decided(client, people, elsewhere, "other_reviewer", "approve")
    decided(client, people, elsewhere, "moderator", "approve")
    client.patch(f"{RESOURCES}/{elsewhere}", json={"title": "改"}, headers=h(people, "other_teacher"))
    assert elsewhere not in queue_ids(client, people, "school_reviewer")
    assert_problem(decision(client, people, elsewhere, "school_reviewer", "approve"), 403, "moderation.not_your_level")
    assert_problem(decision(client, people, elsewhere, "school_reviewer", "take_down", reason_code="other"),
                   403, "moderation.not_your_level")


def test_the_owner_sees_the_reason_fixes_and_resubmits(client, people):
    resource_id = submitted(client, people)
    rejected = decided(client, people, resource_id, "moderator", "reject", reason_code="copyright",
                       note="教材扫描件，请换成自制课件")
    assert rejected["status"] == "rejected"
    review = client.get(f"{RESOURCES}/{resource_id}", headers=h(people, "owner")).json()["review"]
    assert review["status"] == "rejected" and review["reason_code"] == "copyright"
    assert review["note"] == "教材扫描件，请换成自制课件" and review["decided_at"] and review["level"] == "district"
    [told] = notifications(client, people, "owner")
    assert told["kind"] == "review.rejected" and told["resource_id"] == resource_id
    assert "教材扫描件" in told["body"] and told["details"]["reason_code"] == "copyright"

    client.patch(f"{RESOURCES}/{resource_id}", json={"title": "认识钟表（自制）"}, headers=h(people, "owner"))
    assert client.post(f"{RESOURCES}/{resource_id}/submit", headers=h(people, "owner")).json()["status"] == \
        "pending_review"
    assert client.get(f"{RESOURCES}/{resource_id}", headers=h(people, "owner")).json()["review"]["status"] == "pending"
    decided(client, people, resource_id, "moderator", "approve", note="可以")
    kinds = [n["kind"] for n in notifications(client, people, "owner")]
    assert kinds == ["review.approved", "review.rejected"]


def test_an_appeal_goes_to_another_moderator_once(client, people):
    resource_id = submitted(client, people)
    decided(client, people, resource_id, "moderator", "reject", reason_code="low_quality", note="画面模糊")
    assert_problem(client.post(f"{RESOURCES}/{resource_id}/appeal", json={"note": "已是高清"},
                               headers=h(people, "other_teacher")), 404, "resource.not_found")
    assert_problem(client.post(f"{RESOURCES}/{resource_id}/appeal", json={"note": "已是高清"},
                               headers=h(people, "moderator")), 403, "resource.not_owner")
    appealed = client.post(f"{RESOURCES}/{resource_id}/appeal", json={"note": "已是高清"}, headers=h(people, "owner"))
    assert appealed.status_code == 200, appealed.text
    assert appealed.json()["status"] == "pending_review"
    assert_problem(client.post(f"{RESOURCES}/{resource_id}/appeal", json={"note": "再申诉"},
                               headers=h(people, "owner")), 409, "moderation.already_appealed")

    assert resource_id not in queue_ids(client, people, "moderator")
    [item] = [i for i in client.get(QUEUE, headers=h(people, "second_moderator")).json()["items"]
              if i["id"] == resource_id]
    assert item["appeal"] is True
    assert_problem(decision(client, people, resource_id, "moderator", "approve"),
                   403, "moderation.appeal_needs_another_reviewer")
    assert any(n["kind"] == "appeal.waiting" for n in notifications(client, people, "second_moderator"))
    assert not any(n["kind"] == "appeal.waiting" for n in notifications(client, people, "moderator"))

    # A rejection on appeal is final.
    decided(client, people, resource_id, "second_moderator", "reject", reason_code="low_quality", note="维持")
    assert_problem(client.post(f"{RESOURCES}/{resource_id}/appeal", json={"note": "还要申诉"},
                               headers=h(people, "owner")), 409, "moderation.already_appealed")
    # The owner can still fix it and submit again; that review is an ordinary one.
    client.post(f"{RESOURCES}/{resource_id}/submit", headers=h(people, "owner"))
    assert resource_id in queue_ids(client, people, "moderator")


def test_an_appeal_of_a_rejected_revision_puts_it_back_before_another_moderator(client, people):
    resource_id = submitted(client, people)
    decided(client, people, resource_id, "moderator", "approve")
    assert_problem(client.post(f"{RESOURCES}/{resource_id}/appeal", json={"note": "?"}, headers=h(people, "owner")),
                   409, "moderation.nothing_to_appeal")
    client.patch(f"{RESOURCES}/{resource_id}", json={"title": "新名字"}, headers=h(people, "owner"))
    decided(client, people, resource_id, "moderator", "reject", reason_code="wrong_metadata")
    appealed = client.post(f"{RESOURCES}/{resource_id}/appeal", json={"note": "名字没错"}, headers=h(people, "owner"))
    assert appealed.status_code == 200 and appealed.json()["status"] == "published"
    assert resource_id not in queue_ids(client, people, "moderator")
    approved = decided(client, people, resource_id, "second_moderator", "approve")
    assert approved["revision_id"]
    assert client.get(f"{RESOURCES}/{resource_id}", headers=h(people, "other_teacher")).json()["title"] == "新名字"
    history = client.get(f"{RESOURCES}/{resource_id}/revisions", headers=h(people, "owner")).json()["items"]
    assert [i["status"] for i in history] == ["approved"]


def test_district_admins_grant_the_school_reviewer_role_to_someone_with_a_school(client, factory, people):
    from tests.factories import PASSWORD
    school_id = people["owner"][0].school_id
    body = {"username": "reviewer.new", "real_name": "审核员", "password": PASSWORD, "roles": ["school_reviewer"]}
    assert_problem(client.post("/api/v1/users", json=body, headers=h(people, "district_admin")),
                   422, "user.school_required")
    created = client.post("/api/v1/users", json={**body, "school_id": school_id}, headers=h(people, "district_admin"))
    assert created.status_code == 201, created.text
    token = client.post("/api/v1/auth/token", data={"username": "reviewer.new", "password": PASSWORD}).json()
    reviewer = {"Authorization": f"Bearer {token['access_token']}"}
    two_levels(client, people, "courseware")
    resource_id = submitted(client, people)
    assert [i["id"] for i in client.get(QUEUE, headers=reviewer).json()["items"]] == [resource_id]

"""Review before publication: the queue and moderators' decisions."""
from __future__ import annotations

from services.api.orgs.models import Role
from tests.helpers import assert_problem


def test_queue_and_decisions(client, factory):
    teacher = factory.user()
    moderator = factory.user(roles=(Role.moderator,))
    foreign_moderator = factory.user(roles=(Role.moderator,), district=factory.district())
    factory.commit()
    owner, mod = factory.headers(teacher), factory.headers(moderator)
    first = client.post("/api/v1/resources", json={"title": "甲", "kind": "courseware", "visibility": "public"},
                        headers=owner).json()["id"]
    second = client.post("/api/v1/resources", json={"title": "乙", "kind": "courseware"}, headers=owner).json()["id"]
    assert_problem(client.post(f"/api/v1/moderation/resources/{first}/decision", json={"action": "approve"},
                               headers=mod), 409, "resource.invalid_transition")
    for resource_id in (first, second):
        assert client.post(f"/api/v1/resources/{resource_id}/submit", headers=owner).json()["status"] == "pending_review"
    queue = client.get("/api/v1/moderation/queue", headers=mod).json()
    assert [item["id"] for item in queue["items"]] == [first, second]
    assert client.get("/api/v1/moderation/queue", headers=factory.headers(foreign_moderator)).json()["total"] == 0
    assert_problem(client.get("/api/v1/moderation/queue", headers=owner), 403, "auth.forbidden")

    assert_problem(client.post(f"/api/v1/moderation/resources/{second}/decision", json={"action": "reject"},
                               headers=mod), 422, "moderation.reason_required")
    rejected = client.post(f"/api/v1/moderation/resources/{second}/decision",
                           json={"action": "reject", "reason_code": "copyright", "note": "教材扫描件"}, headers=mod)
    assert rejected.json()["status"] == "rejected"
    approved = client.post(f"/api/v1/moderation/resources/{first}/decision", json={"action": "approve"}, headers=mod)
    assert approved.status_code == 200 and approved.json()["status"] == "published"
    assert client.get(f"/api/v1/resources/{first}", headers=owner).json()["published_at"]
    # Another district's moderator sees the public resource but does not rule on it.
    assert_problem(client.post(f"/api/v1/moderation/resources/{first}/decision",
                               json={"action": "take_down", "reason_code": "other"},
                               headers=factory.headers(foreign_moderator)), 403, "auth.forbidden")
    assert_problem(client.post(f"/api/v1/moderation/resources/{first}/decision", json={"action": "approve"},
                               headers=owner), 403, "auth.forbidden")
    taken_down = client.post(f"/api/v1/moderation/resources/{first}/decision",
                             json={"action": "take_down", "reason_code": "inaccurate"}, headers=mod)
    assert taken_down.json()["status"] == "taken_down"
    admin = factory.user(roles=(Role.district_admin,))
    factory.commit()
    audit = client.get("/api/v1/audit?action=moderation.reject", headers=factory.headers(admin)).json()
    assert audit["total"] == 1
    assert audit["items"][0]["details"] == {"reason_code": "copyright", "note": "教材扫描件"}
    assert audit["items"][0]["target_id"] == second

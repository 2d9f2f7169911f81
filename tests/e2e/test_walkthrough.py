"""The foundation's walk, through the public API only: a district administrator sets up a school
and a teacher; the teacher tags a resource with a seeded knowledge point; an unpaired school
never sees it; the paired school does once a moderator approves it."""
from __future__ import annotations

from services.api.orgs.models import Role
from tests.helpers import assert_problem

PASSWORD = "walkthrough-password"


def login(client, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_district_walkthrough(client, factory):
    admin = factory.user(roles=(Role.district_admin,))
    factory.commit()
    admin_headers = factory.headers(admin)

    def post(path, body, headers=admin_headers):
        response = client.post(f"/api/v1{path}", json=body, headers=headers)
        assert response.status_code in (200, 201), response.text
        return response.json()

    urban = post("/schools", {"name": "实验小学", "kind": "urban", "bandwidth_kbps": 1_000_000})
    rural = post("/schools", {"name": "石桥村小学", "kind": "rural", "bandwidth_kbps": 8_000})
    far = post("/schools", {"name": "远山教学点", "kind": "teaching_point", "bandwidth_kbps": 4_000})
    post("/pairings", {"helper_school_id": urban["id"], "assisted_school_id": rural["id"]})
    for username, school, roles in (("t.urban", urban, ["teacher"]), ("t.rural", rural, ["teacher"]),
                                    ("t.far", far, ["teacher"]), ("mod", None, ["moderator"])):
        post("/users", {"username": username, "real_name": "老师", "password": PASSWORD, "roles": roles,
                        "school_id": school["id"] if school else None})
    teacher, rural_teacher, far_teacher, moderator = (login(client, u) for u in ("t.urban", "t.rural", "t.far", "mod"))

    points = client.get("/api/v1/taxonomy/knowledge-points", params={"q": "凑十法"}, headers=teacher).json()
    point = points["items"][0]
    created = post("/resources", {"title": "凑十法 微课", "kind": "micro_lesson", "subject": "math",
                                  "stage": "primary", "grade": "g1", "knowledge_point_ids": [point["id"]],
                                  "visibility": "paired"}, headers=teacher)
    resource = f"/api/v1/resources/{created['id']}"
    assert created["status"] == "draft"

    assert_problem(client.get(resource, headers=far_teacher), 404, "resource.not_found")
    assert_problem(client.get(resource, headers=rural_teacher), 404, "resource.not_found")  # not yet reviewed

    assert post(f"/resources/{created['id']}/submit", {}, headers=teacher)["status"] == "pending_review"
    queue = client.get("/api/v1/moderation/queue", headers=moderator).json()
    assert created["id"] in [item["id"] for item in queue["items"]]
    decision = post(f"/moderation/resources/{created['id']}/decision", {"action": "approve"}, headers=moderator)
    assert decision["status"] == "published"

    seen = client.get(resource, headers=rural_teacher)
    assert seen.status_code == 200
    assert seen.json()["knowledge_points"][0]["name"] == "凑十法"
    assert_problem(client.get(resource, headers=far_teacher), 404, "resource.not_found")

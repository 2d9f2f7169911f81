"""The seed taxonomy, the vocabularies' endpoints, and import/export."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from services.api.orgs.models import Role
from services.api.taxonomy.models import Chapter, KnowledgePoint, Volume
from tests.helpers import assert_problem


def test_seed_taxonomy_covers_primary_maths_and_junior_physics(session):
    def count(subject: str, stage: str) -> int:
        return session.scalar(select(func.count()).where(KnowledgePoint.subject_code == subject,
                                                         KnowledgePoint.stage_code == stage))
    assert count("math", "primary") + count("physics", "junior") >= 300
    names = set(session.scalars(select(KnowledgePoint.name)))
    assert {"20以内的进位加法", "凸透镜成像规律", "欧姆定律", "圆的面积"} <= names
    grades = {v.grade_code for v in session.scalars(select(Volume).where(Volume.subject_code == "math"))}
    assert grades == {f"g{n}" for n in range(1, 7)}
    pep_math_chapters = session.scalar(select(func.count()).select_from(Chapter).join(
        Volume, Volume.code == Chapter.volume_code).where(Volume.edition_code == "pep", Volume.subject_code == "math"))
    assert pep_math_chapters >= 60


def test_knowledge_point_paths_follow_the_tree(session):
    for node in session.scalars(select(KnowledgePoint).where(KnowledgePoint.parent_id.is_not(None))).all()[:200]:
        parent = session.get(KnowledgePoint, node.parent_id)
        assert node.path == f"{parent.path}/{node.code}"
        assert node.depth == parent.depth + 1


def test_vocabularies_and_knowledge_point_search(client, factory):
    teacher = factory.user()
    factory.commit()
    headers = factory.headers(teacher)
    subjects = client.get("/api/v1/taxonomy/subjects", headers=headers).json()
    assert {"code": "math", "name": "数学"} in [{"code": s["code"], "name": s["name"]} for s in subjects["items"]]
    grades = client.get("/api/v1/taxonomy/grades?stage=primary", headers=headers).json()
    assert [g["name"] for g in grades["items"]] == ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"]
    found = client.get("/api/v1/taxonomy/knowledge-points", params={"subject": "physics", "q": "凸透镜"},
                       headers=headers).json()
    assert found["total"] >= 1
    assert all("凸透镜" in kp["name"] or "凸透镜" in kp["code"] for kp in found["items"])
    node = found["items"][0]
    assert node["path"].startswith("phys.j/") and node["parent_id"]
    children = client.get("/api/v1/taxonomy/knowledge-points", params={"parent_id": node["parent_id"]},
                          headers=headers).json()
    assert node["id"] in [c["id"] for c in children["items"]]
    volumes = client.get("/api/v1/taxonomy/volumes?edition=pep&subject=physics", headers=headers).json()
    assert {v["name"] for v in volumes["items"]} >= {"八年级上册", "八年级下册", "九年级全一册"}
    assert_problem(client.get("/api/v1/taxonomy/knowledge-points/nope", headers=headers), 404,
                   "taxonomy.knowledge_point_not_found")


def test_import_json_then_export_round_trips(client, factory):
    admin = factory.user(roles=(Role.platform_admin,))
    factory.commit()
    headers = factory.headers(admin)
    document = {
        "editions": [{"code": "local", "name": "校本教材"}],
        "knowledge_points": [
            {"code": "math.p.local", "name": "校本数学", "subject": "math", "stage": "primary", "parent": "math.p"},
            {"code": "math.p.local.abacus", "name": "珠算", "subject": "math", "stage": "primary",
             "parent": "math.p.local", "edition": "local", "same_as": "math.p.num.addsub.carry20"},
        ],
    }
    response = client.post("/api/v1/taxonomy/import", content=json.dumps(document, ensure_ascii=False),
                           headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json()["created"]["knowledge_points"] == 2
    again = client.post("/api/v1/taxonomy/import", json=document, headers=headers).json()
    assert again["created"]["knowledge_points"] == 0 and again["updated"]["knowledge_points"] == 0
    exported = client.get("/api/v1/taxonomy/export", headers=headers).json()
    abacus = next(kp for kp in exported["knowledge_points"] if kp["code"] == "math.p.local.abacus")
    assert abacus == {**document["knowledge_points"][1], "aliases": []}
    csv_text = client.get("/api/v1/taxonomy/export?format=csv", headers=headers).text
    assert csv_text.splitlines()[0] == "code,name,subject,stage,parent,edition,same_as,aliases"
    assert "math.p.local.abacus,珠算,math,primary,math.p.local,local,math.p.num.addsub.carry20," in csv_text


def test_csv_import_moves_a_subtree_and_repaths_descendants(client, factory, session):
    admin = factory.user(roles=(Role.platform_admin,))
    factory.commit()
    csv_text = ("\ufeffcode,name,subject,stage,parent\n"
                "math.p.extra,拓展,math,primary,math.p\n"
                "math.p.extra.a,拓展甲,math,primary,math.p.extra\n"
                "math.p.extra.a.b,拓展乙,math,primary,math.p.extra.a\n")
    headers = {**factory.headers(admin), "Content-Type": "text/csv"}
    assert client.post("/api/v1/taxonomy/import", content=csv_text.encode(), headers=headers).status_code == 200
    moved = "code,name,subject,stage,parent\nmath.p.extra.a,拓展甲,math,primary,math.p.num\n"
    assert client.post("/api/v1/taxonomy/import", content=moved.encode(), headers=headers).status_code == 200
    session.expire_all()
    leaf = session.scalars(select(KnowledgePoint).where(KnowledgePoint.code == "math.p.extra.a.b")).one()
    assert leaf.path == "math.p/math.p.num/math.p.extra.a/math.p.extra.a.b" and leaf.depth == 3


def test_bad_taxonomy_documents_change_nothing(client, factory, session):
    admin = factory.user(roles=(Role.platform_admin,))
    teacher = factory.user()
    factory.commit()
    headers = factory.headers(admin)
    before = session.scalar(select(func.count()).select_from(KnowledgePoint))
    dangling = {"knowledge_points": [
        {"code": "ok.node", "name": "好", "subject": "math", "stage": "primary"},
        {"code": "bad.node", "name": "坏", "subject": "alchemy", "stage": "primary", "parent": "missing"}]}
    body = assert_problem(client.post("/api/v1/taxonomy/import", json=dangling, headers=headers),
                          422, "taxonomy.invalid_document")
    assert {("knowledge_points", 1, "subject"), ("knowledge_points", 1, "parent")} <= {
        tuple(e["loc"]) for e in body["errors"]}
    cycle = {"knowledge_points": [
        {"code": "cyc.a", "name": "甲", "subject": "math", "stage": "primary", "parent": "cyc.b"},
        {"code": "cyc.b", "name": "乙", "subject": "math", "stage": "primary", "parent": "cyc.a"}]}
    assert_problem(client.post("/api/v1/taxonomy/import", json=cycle, headers=headers), 422,
                   "taxonomy.invalid_document")
    bad_code = {"knowledge_points": [{"code": "Has/Slash", "name": "x", "subject": "math", "stage": "primary"}]}
    assert_problem(client.post("/api/v1/taxonomy/import", json=bad_code, headers=headers), 422,
                   "taxonomy.invalid_document")
    assert_problem(client.post("/api/v1/taxonomy/import", content=b"<xml/>",
                               headers={**headers, "Content-Type": "application/xml"}), 415,
                   "taxonomy.unsupported_format")
    assert_problem(client.post("/api/v1/taxonomy/import", content=b"{not json",
                               headers={**headers, "Content-Type": "application/json"}), 422,
                   "taxonomy.invalid_document")
    huge = b"x" * (20 * 1024 * 1024 + 1)
    assert_problem(client.post("/api/v1/taxonomy/import", content=huge,
                               headers={**headers, "Content-Type": "text/csv"}), 413, "taxonomy.document_too_large")
    assert_problem(client.post("/api/v1/taxonomy/import", json={}, headers=factory.headers(teacher)), 403,
                   "auth.forbidden")
    # A NUL in a name (PostgreSQL cannot store one), in CSV and in JSON sent as text/json.
    nul_csv = "code,name,subject,stage,parent\nok.node,好,math,primary,\nnul.node,拓\x00展,math,primary,\n"
    body = assert_problem(client.post("/api/v1/taxonomy/import", content=nul_csv.encode(),
                                      headers={**headers, "Content-Type": "text/csv"}), 422, "taxonomy.invalid_document")
    assert body["errors"][0]["loc"] == ["line", 3]
    nul_json = b'{"knowledge_points": [{"code": "nul.node", "name": "\\u0000", "subject": "math", "stage": "primary"}]}'
    assert_problem(client.post("/api/v1/taxonomy/import", content=nul_json,
                               headers={**headers, "Content-Type": "text/json"}), 422, "taxonomy.invalid_document")
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(KnowledgePoint)) == before


def test_knowledge_point_aliases_ship_with_the_seed_and_travel_in_json_and_csv(client, factory, session):
    admin = factory.user(roles=(Role.platform_admin,))  # the shared taxonomy is the platform's
    factory.commit()
    headers = factory.headers(admin)
    pigeonhole = session.scalars(select(KnowledgePoint).where(
        KnowledgePoint.code == "math.p.prac.guangjiao.pigeonhole")).one()
    assert "抽屉原理" in pigeonhole.aliases  # the name in older textbooks
    shown = client.get(f"/api/v1/taxonomy/knowledge-points/{pigeonhole.id}", headers=headers)
    assert shown.status_code == 200 and "抽屉原理" in shown.json()["aliases"]

    csv_body = ("code,name,subject,stage,parent,aliases\n"
                "math.p.prac.guangjiao.pigeonhole,鸽巢问题,math,primary,math.p.prac.guangjiao,抽屉原理|抽屉问题|鸽笼原理\n"
                "math.p.num.factor.gcd,最大公因数,math,primary,math.p.num.factor,\n").encode()
    imported = client.post("/api/v1/taxonomy/import", content=csv_body,
                           headers={**headers, "Content-Type": "text/csv"})
    assert imported.status_code == 200, imported.text
    session.expire_all()
    points = {kp.code: kp for kp in session.scalars(select(KnowledgePoint).where(KnowledgePoint.code.in_(
        ["math.p.prac.guangjiao.pigeonhole", "math.p.num.factor.gcd"])))}
    assert points["math.p.prac.guangjiao.pigeonhole"].aliases == ["抽屉原理", "抽屉问题", "鸽笼原理"]
    assert points["math.p.num.factor.gcd"].aliases == []  # an empty cell clears them

    exported = client.get("/api/v1/taxonomy/export?format=csv", headers=headers)
    assert exported.status_code == 200
    assert "抽屉原理|抽屉问题|鸽笼原理" in exported.text
    document = client.get("/api/v1/taxonomy/export", headers=headers).json()
    entry = next(kp for kp in document["knowledge_points"] if kp["code"] == "math.p.prac.guangjiao.pigeonhole")
    assert entry["aliases"] == ["抽屉原理", "抽屉问题", "鸽笼原理"]

    # JSON without `aliases` leaves them; too long an alias is refused and nothing changes.
    keep = {"knowledge_points": [{"code": "math.p.prac.guangjiao.pigeonhole", "name": "鸽巢问题", "subject": "math",
                                  "stage": "primary", "parent": "math.p.prac.guangjiao"}]}
    assert client.post("/api/v1/taxonomy/import", json=keep, headers=headers).status_code == 200
    too_long = {"knowledge_points": [{**keep["knowledge_points"][0], "aliases": ["长" * 51]}]}
    assert_problem(client.post("/api/v1/taxonomy/import", json=too_long, headers=headers), 422,
                   "taxonomy.invalid_document")
    session.expire_all()
    assert session.get(KnowledgePoint, pigeonhole.id).aliases == ["抽屉原理", "抽屉问题", "鸽笼原理"]

"""`GET /resources/{id}/preview`: a document's PDF and page images as signed links."""
from __future__ import annotations

import hashlib
import io

from services.api.orgs.models import School
from services.api.resources.models import Asset, License, Resource, ResourceKind, ResourceStatus, Visibility
from services.api.uploads.models import Blob
from tests.helpers import assert_problem


def converted_document(factory, store, resource: Resource, *, pages: int, images: int) -> Asset:
    """A document asset as processing leaves it: preview.pdf and pages/NNNN.jpg in storage."""
    prefix = f"media/{resource.id}/document"
    files = {"preview.pdf": b"%PDF-1.7 test", **{f"pages/{n:04d}.jpg": b"\xff\xd8page%d" % n
                                                 for n in range(1, images + 1)}}
    for name, content in files.items():
        store.put(f"{prefix}/{name}", io.BytesIO(content), length=len(content), content_type="application/octet-stream")
    blob = Blob(sha256=hashlib.sha256(prefix.encode()).hexdigest(), size=9, media_type="application/pdf",
                backend="local", key=f"{prefix}/source")
    factory.session.add(blob)
    factory.session.flush()
    asset = Asset(resource_id=resource.id, blob_id=blob.id, role="main", filename="讲义.pdf",
                  media_type="application/pdf", category="document", size=9, sha256=blob.sha256,
                  renditions=[{"job": "document", "kind": "document", "prefix": prefix, "preview": "preview.pdf",
                               "pages": pages, "page_images": images, "page_image": "pages/{page:04d}.jpg",
                               "text": None, "thumbnail": None}])
    factory.session.add(asset)
    factory.session.flush()
    return asset


def resource_of(factory, owner, **values) -> Resource:
    resource = Resource(title="分数的意义 课件", kind=ResourceKind.courseware, owner_id=owner.id,
                        school_id=owner.school_id, district_id=owner.district_id,
                        status=ResourceStatus.published, license=License.cc_by,
                        **{"visibility": Visibility.school, **values})
    factory.session.add(resource)
    factory.session.flush()
    return resource


def test_preview_lists_the_pdf_and_each_page_image(client, app, factory):
    teacher = factory.user()
    colleague = factory.user(school=factory.session.get(School, teacher.school_id))
    resource = resource_of(factory, teacher)
    asset = converted_document(factory, app.state.blob_store, resource, pages=4, images=3)
    factory.commit()

    response = client.get(f"/api/v1/resources/{resource.id}/preview", headers=factory.headers(colleague))
    assert response.status_code == 200, response.text
    preview = response.json()
    assert (preview["asset_id"], preview["page_count"]) == (asset.id, 4)
    assert [p["number"] for p in preview["pages"]] == [1, 2, 3]  # page 4 has no image (past the cap)
    pdf = client.get(preview["pdf_url"])
    assert pdf.status_code == 200 and pdf.content == b"%PDF-1.7 test"
    third = client.get(preview["pages"][2]["image_url"])
    assert third.status_code == 200 and third.content == b"\xff\xd8page3"


def test_no_document_no_preview_and_hidden_resources_stay_hidden(client, app, factory):
    teacher, stranger = factory.user(), factory.user()
    plain = resource_of(factory, teacher)
    private = resource_of(factory, teacher, visibility=Visibility.private)
    converted_document(factory, app.state.blob_store, private, pages=1, images=1)
    factory.commit()
    assert_problem(client.get(f"/api/v1/resources/{plain.id}/preview", headers=factory.headers(teacher)),
                   404, "resource.no_preview")
    assert_problem(client.get(f"/api/v1/resources/{private.id}/preview?asset_id=nope",
                              headers=factory.headers(teacher)), 404, "resource.no_preview")
    assert_problem(client.get(f"/api/v1/resources/{private.id}/preview", headers=factory.headers(stranger)),
                   404, "resource.not_found")
    assert_problem(client.get(f"/api/v1/resources/{private.id}/preview"), 401, "auth.not_authenticated")

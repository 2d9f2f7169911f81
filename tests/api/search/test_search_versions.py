"""Every change search cares about goes through `changed_for_search`: a transaction that changes
a live resource's searched values (or its assets' renditions) without it is refused, and
processing that folds page text into a published resource tells search."""
from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from services.api.resources import processing
from services.api.resources.models import changed_for_search
from services.api.search.models import SearchOutbox
from services.api.search.outbox import VersionNotBumped
from services.common.db import utcnow
from services.common.jobs import JobKind, JobState, processing_jobs
from tests.api.resources.test_preview import converted_document, resource_of


def outbox_versions(session, resource_id):
    return list(session.scalars(select(SearchOutbox.version).where(SearchOutbox.resource_id == resource_id)
                                .order_by(SearchOutbox.id)))


def test_a_searched_change_without_a_new_version_is_refused(factory, sessions):
    teacher = factory.user()
    resource = resource_of(factory, teacher)
    factory.commit()
    with sessions() as session:
        live = session.get(type(resource), resource.id)
        live.title = "悄悄改掉的标题"
        with pytest.raises(VersionNotBumped, match="title"):
            session.commit()
    with sessions() as session:
        live = session.get(type(resource), resource.id)
        assert live.title == "分数的意义 课件"  # nothing was written
        live.title = "改了也告诉搜索"
        changed_for_search(live)
        session.commit()
        assert outbox_versions(session, resource.id)[-1] == live.version


def test_renditions_changed_on_a_live_resource_need_a_new_version(app, factory, sessions):
    teacher = factory.user()
    resource = resource_of(factory, teacher)
    asset = converted_document(factory, app.state.blob_store, resource, pages=1, images=1)
    factory.commit()
    with sessions() as session:
        live_asset = session.get(type(asset), asset.id)
        live_asset.renditions = [*live_asset.renditions, {"job": "extra"}]
        with pytest.raises(VersionNotBumped, match="renditions"):
            session.commit()


def test_page_text_folded_into_a_published_resource_reaches_search(app, factory, session):
    teacher = factory.user()
    resource = resource_of(factory, teacher)
    asset = converted_document(factory, app.state.blob_store, resource, pages=3, images=3)
    factory.commit()
    before = resource.version
    now = utcnow()
    session.execute(insert(processing_jobs).values(
        id="01JOBREDONE0000000000000000"[:26], resource_id=resource.id, asset_id=asset.id, kind=JobKind.document,
        state=JobState.done, source_key="x", source_media_type="application/pdf", progress=100, applied=False,
        result={"kind": "document", "prefix": f"media/{resource.id}/document-2", "preview": "preview.pdf",
                "pages": 3, "page_images": 3, "page_image": "pages/{page:04d}.jpg", "text": "text.json"},
        created_at=now, updated_at=now, finished_at=now))
    session.commit()
    assert processing.apply_finished_jobs(session)["applied"] == 1
    session.refresh(resource)
    assert resource.version == before + 1
    assert outbox_versions(session, resource.id)[-1] == resource.version

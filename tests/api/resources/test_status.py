"""The status machine: the one function that decides a resource's next status."""
from __future__ import annotations

import pytest

from services.api.resources.errors import InvalidTransition
from services.api.resources.models import ResourceStatus as S
from services.api.resources.status import ResourceEvent as E
from services.api.resources.status import next_status


@pytest.mark.parametrize(("current", "event", "expected"), [
    (S.draft, E.upload, S.uploading),
    (S.uploading, E.uploads_complete, S.processing),
    (S.processing, E.processed, S.pending_review),
    (S.processing, E.processing_failed, S.failed),
    (S.failed, E.retry, S.processing),
    (S.draft, E.submit, S.pending_review),
    (S.pending_review, E.approve, S.published),
    (S.pending_review, E.reject, S.rejected),
    (S.rejected, E.submit, S.pending_review),
    (S.published, E.take_down, S.taken_down),
    (S.taken_down, E.restore, S.published),
    (S.published, E.hide, S.hidden),          # enough reports
    (S.hidden, E.unhide, S.published),        # reports dismissed
    (S.hidden, E.take_down, S.taken_down),    # reports upheld
])
def test_allowed_transitions(current, event, expected):
    assert next_status(current, event) is expected


@pytest.mark.parametrize(("current", "event"), [
    (S.draft, E.approve),          # nothing is published without review
    (S.processing, E.submit),      # review waits for processing
    (S.published, E.approve),
    (S.rejected, E.take_down),
    (S.failed, E.approve),
    (S.uploading, E.processed),
    (S.pending_review, E.hide),    # only what is published is hidden by reports
    (S.hidden, E.approve),
])
def test_refused_transitions(current, event):
    with pytest.raises(InvalidTransition):
        next_status(current, event)

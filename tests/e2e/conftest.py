"""Fixtures the end-to-end tests share."""
from __future__ import annotations

import uuid

import pytest

from tests.conftest import server_url
from tests.live import s3_environment


@pytest.fixture(scope="module", params=["local", "s3"])
def storage_env(request):
    """The API process's storage: local disk (no variables), or a fresh bucket on the real S3 server."""
    if request.param == "local":
        return {}
    return s3_environment(server_url("LB_TEST_S3_URL", "S3 (MinIO)"), bucket=f"e2e-{uuid.uuid4().hex[:10]}")

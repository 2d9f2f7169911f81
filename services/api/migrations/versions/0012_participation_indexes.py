"""indexes for participation statistics and the moderation queue

Revision ID: 0012
Revises: 0005
Create Date: 2026-12-07 03:30:00

Each follows a query EXPLAIN showed scanning or sorting at district scale (bench/stats.py,
docs/benchmarks.md "Participation statistics"):
- resources (district_id, status, published_at): the district's resources published in a
  semester (the district totals);
- resources (school_id, status, published_at): the same for a page of schools;
- resources (owner_id, status, published_at): whether a teacher published in the semester;
- resources (district_id, status, updated_at, id): the moderation queue in its order (oldest
  first) without a sort, and the median wait read at its offset.
"""
from alembic import op


revision = '0012'
down_revision = '0005'
branch_labels = None
depends_on = None

_INDEXES = {
    'ix_resources_district_status_published': ['district_id', 'status', 'published_at'],
    'ix_resources_school_status_published': ['school_id', 'status', 'published_at'],
    'ix_resources_owner_status_published': ['owner_id', 'status', 'published_at'],
    'ix_resources_district_status_updated': ['district_id', 'status', 'updated_at', 'id'],
}


def upgrade() -> None:
    with op.batch_alter_table('resources', schema=None) as batch_op:
        for name, columns in _INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table('resources', schema=None) as batch_op:
        for name in _INDEXES:
            batch_op.drop_index(name)

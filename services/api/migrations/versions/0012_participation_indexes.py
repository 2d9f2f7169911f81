"""indexes for participation statistics and the moderation queue

Revision ID: 0012
Revises: 0007
Create Date: 2026-12-07 03:30:00

Each follows a query EXPLAIN showed scanning or sorting at district scale (bench/stats.py,
docs/benchmarks.md "Participation statistics"). The first two carry every column the figures
read after their range, so PostgreSQL answers from the index alone (an index-only scan) and
SQLite from a covering index: a semester is ~100,000 rows spread over the whole table, and
fetching them from the table was most of the time.
- resources (district_id, status, published_at, …): the district's resources published in a
  semester (district totals, every school at once for the CSV export);
- resources (school_id, status, published_at, …): the same for a page of schools;
- resources (district_id, status, updated_at, id, …): the moderation queue in its order (oldest
  first) without a sort, and the waiting times (count, oldest, median at its offset).
"""
from alembic import op


revision = '0012'
down_revision = '0007'
branch_labels = None
depends_on = None

_INDEXES = {
    'ix_resources_district_published': ['district_id', 'status', 'published_at', 'school_id', 'owner_id',
                                         'view_count', 'stage_code', 'subject_code'],
    'ix_resources_school_published': ['school_id', 'status', 'published_at', 'owner_id', 'view_count',
                                      'stage_code', 'subject_code'],
    'ix_resources_district_submitted': ['district_id', 'status', 'updated_at', 'id', 'school_id',
                                        'stage_code', 'subject_code'],
}


def upgrade() -> None:
    with op.batch_alter_table('resources', schema=None) as batch_op:
        for name, columns in _INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table('resources', schema=None) as batch_op:
        for name in _INDEXES:
            batch_op.drop_index(name)

"""ix_resources_review_queue: the moderation queue's resources in review, in its order (issue 16)

A partial index on the ~1 % of resources waiting for review, keyed as the queue reads them
(district, status, updated_at, id) and carrying what its filters read, so the first page reads about
its own rows and the total is counted from the index alone; and pending revisions by the time
they were made, the order in which they wait.

Revision ID: 0026
Revises: 0023
Create Date: 2026-12-07 08:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0026'
down_revision = '0023'
branch_labels = None
depends_on = None

_WHERE = sa.text("status = 'pending_review'")
_PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_index('ix_resources_review_queue', 'resources',
                    ['district_id', 'status', 'updated_at', 'id', 'owner_id', 'school_id', 'kind', 'review_level',
                     'review_excluded_id'], sqlite_where=_WHERE, postgresql_where=_WHERE)
    op.create_index('ix_resource_revisions_pending_since', 'resource_revisions',
                    ['created_at', 'resource_id', 'author_id'], sqlite_where=_PENDING, postgresql_where=_PENDING)


def downgrade() -> None:
    op.drop_index('ix_resource_revisions_pending_since', table_name='resource_revisions')
    op.drop_index('ix_resources_review_queue', table_name='resources')

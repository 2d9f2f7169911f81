"""knowledge points' aliases

Revision ID: 0015
Revises: 0008
Create Date: 2026-12-07 04:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('knowledge_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column('aliases', sa.JSON(), server_default='[]', nullable=False))


def downgrade() -> None:
    # Native DROP COLUMN (SQLite >= 3.35, PostgreSQL): a batch copy of knowledge_points would trip
    # the foreign keys that point at it.
    op.execute("ALTER TABLE knowledge_points DROP COLUMN aliases")

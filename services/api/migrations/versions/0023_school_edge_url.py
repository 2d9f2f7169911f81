"""schools.edge_url: a school's edge cache, through which /play hands out its classrooms' URLs

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 07:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('schools') as batch_op:
        batch_op.add_column(sa.Column('edge_url', sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('schools') as batch_op:
        batch_op.drop_column('edge_url')

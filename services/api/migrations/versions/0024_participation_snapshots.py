"""participation snapshots: per-school figures of closed semesters

Revision ID: 0024
Revises: 0019
Create Date: 2026-12-07 07:00:00

See services/api/stats/snapshots.py: written when a closed semester is first asked for (or by
`lb stats freeze`), removed per (semester, school) by every change that could move its figures.
"""
from alembic import op
import sqlalchemy as sa
import services.common.db


revision = '0024'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('participation_snapshots',
    sa.Column('district_id', sa.String(length=26), nullable=False),
    sa.Column('semester', sa.String(length=16), nullable=False),
    sa.Column('school_key', sa.String(length=26), nullable=False),
    sa.Column('stage', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('publishing_teachers', sa.Integer(), nullable=False),
    sa.Column('resources_published', sa.Integer(), nullable=False),
    sa.Column('resources_played', sa.Integer(), nullable=False),
    sa.Column('plays', sa.Integer(), nullable=False),
    sa.Column('computed_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_participation_snapshots_district_id_districts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('district_id', 'semester', 'school_key', 'stage', 'subject',
                            name=op.f('pk_participation_snapshots'))
    )


def downgrade() -> None:
    op.drop_table('participation_snapshots')

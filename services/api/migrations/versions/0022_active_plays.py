"""active plays: the plays sharing a school's link now, for the start rung (issue 18.4)

Revision ID: 0022
Revises: 0024
Create Date: 2026-12-07 07:00:00
"""
from alembic import op
import sqlalchemy as sa
import services.common.db


revision = '0022'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('active_plays',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('school_id', sa.String(length=26), nullable=False),
    sa.Column('user_id', sa.String(length=26), nullable=False),
    sa.Column('resource_id', sa.String(length=26), nullable=False),
    sa.Column('play_id', sa.String(length=26), nullable=True),
    sa.Column('seen_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['play_id'], ['play_records.id'], name=op.f('fk_active_plays_play_id_play_records'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_active_plays_resource_id_resources'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_active_plays_school_id_schools'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_active_plays_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_active_plays'))
    )
    with op.batch_alter_table('active_plays', schema=None) as batch_op:
        batch_op.create_index('ix_active_plays_school_seen', ['school_id', 'seen_at'], unique=False)
        batch_op.create_index('ix_active_plays_user_resource', ['user_id', 'resource_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_active_plays_play_id'), ['play_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('active_plays', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_active_plays_play_id'))
        batch_op.drop_index('ix_active_plays_user_resource')
        batch_op.drop_index('ix_active_plays_school_seen')
    op.drop_table('active_plays')

"""subtitle tracks

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 07:10:00
"""
from alembic import op
import sqlalchemy as sa
import services.common.db


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('subtitle_tracks',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('resource_id', sa.String(length=26), nullable=False),
    sa.Column('asset_id', sa.String(length=26), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('cue_count', sa.Integer(), nullable=False),
    sa.Column('end_s', sa.Float(), nullable=False),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_subtitle_tracks_asset_id_assets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_subtitle_tracks_resource_id_resources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subtitle_tracks')),
    sa.UniqueConstraint('asset_id', name=op.f('uq_subtitle_tracks_asset_id'))
    )
    with op.batch_alter_table('subtitle_tracks', schema=None) as batch_op:
        batch_op.create_index('uq_subtitle_tracks_resource_language', ['resource_id', 'language'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('subtitle_tracks', schema=None) as batch_op:
        batch_op.drop_index('uq_subtitle_tracks_resource_language')
    op.drop_table('subtitle_tracks')

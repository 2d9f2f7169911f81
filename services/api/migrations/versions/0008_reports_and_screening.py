"""reports (resource_reports) and screening (sensitive words, lexicon revisions, blocked hashes)

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-07 03:26:22.626987
"""
from alembic import op
import sqlalchemy as sa
import services.common.db


revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('blocked_hashes',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('resource_id', sa.String(length=26), nullable=False),
    sa.Column('district_id', sa.String(length=26), nullable=False),
    sa.Column('reason_code', sa.String(length=32), nullable=True),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_blocked_hashes'))
    )
    with op.batch_alter_table('blocked_hashes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_blocked_hashes_resource_id'), ['resource_id'], unique=False)

    op.create_table('sensitive_words',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('district_id', sa.String(length=26), nullable=False),
    sa.Column('word', sa.String(length=100), nullable=False),
    sa.Column('category', sa.String(length=50), nullable=False),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_sensitive_words_district_id_districts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sensitive_words')),
    sa.UniqueConstraint('district_id', 'word', name=op.f('uq_sensitive_words_district_id_word'))
    )
    with op.batch_alter_table('sensitive_words', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sensitive_words_district_id'), ['district_id'], unique=False)

    op.create_table('sensitive_lexicons',
    sa.Column('district_id', sa.String(length=26), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('updated_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=26), nullable=True),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_sensitive_lexicons_district_id_districts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_sensitive_lexicons_updated_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('district_id', name=op.f('pk_sensitive_lexicons'))
    )
    op.create_table('resource_reports',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('resource_id', sa.String(length=26), nullable=False),
    sa.Column('reporter_id', sa.String(length=26), nullable=False),
    sa.Column('district_id', sa.String(length=26), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=26), nullable=True),
    sa.Column('resolution_note', sa.Text(), nullable=False),
    sa.Column('decision_id', sa.String(length=26), nullable=True),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_resource_reports_district_id_districts')),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_resource_reports_reporter_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resolved_by'], ['users.id'], name=op.f('fk_resource_reports_resolved_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_resource_reports_resource_id_resources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_reports'))
    )
    with op.batch_alter_table('resource_reports', schema=None) as batch_op:
        batch_op.create_index('ix_resource_reports_district_state', ['district_id', 'state', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_resource_reports_resource_id'), ['resource_id'], unique=False)
        batch_op.create_index('uq_resource_reports_open_per_reporter', ['resource_id', 'reporter_id'], unique=True, sqlite_where=sa.text("state = 'open'"), postgresql_where=sa.text("state = 'open'"))



def downgrade() -> None:
    with op.batch_alter_table('resource_reports', schema=None) as batch_op:
        batch_op.drop_index('uq_resource_reports_open_per_reporter', sqlite_where=sa.text("state = 'open'"), postgresql_where=sa.text("state = 'open'"))
        batch_op.drop_index(batch_op.f('ix_resource_reports_resource_id'))
        batch_op.drop_index('ix_resource_reports_district_state')

    op.drop_table('resource_reports')
    op.drop_table('sensitive_lexicons')
    with op.batch_alter_table('sensitive_words', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sensitive_words_district_id'))

    op.drop_table('sensitive_words')
    with op.batch_alter_table('blocked_hashes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blocked_hashes_resource_id'))

    op.drop_table('blocked_hashes')

"""review: revisions of published resources, review levels and policies, appeals

Revision ID: 0007
Revises: 0009
Create Date: 2026-12-07 03:50:00
"""
from alembic import op
import sqlalchemy as sa
import services.common.db


revision = '0007'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('resource_revisions',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('resource_id', sa.String(length=26), nullable=False),
    sa.Column('author_id', sa.String(length=26), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('proposed', sa.JSON(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_resource_revisions_author_id_users')),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_resource_revisions_resource_id_resources'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_revisions'))
    )
    with op.batch_alter_table('resource_revisions', schema=None) as batch_op:
        batch_op.create_index('ix_resource_revisions_resource_status', ['resource_id', 'status'], unique=False)
        batch_op.create_index('uq_resource_revisions_one_pending', ['resource_id'], unique=True,
                              sqlite_where=sa.text("status = 'pending'"),
                              postgresql_where=sa.text("status = 'pending'"))
    op.create_table('review_policies',
    sa.Column('district_id', sa.String(length=26), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('levels', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.String(length=26), nullable=True),
    sa.Column('updated_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_review_policies_district_id_districts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('district_id', 'kind', name=op.f('pk_review_policies'))
    )
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_level', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('review_excluded_id', sa.String(length=26), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_resources_review_excluded_id_users'), 'users',
                                    ['review_excluded_id'], ['id'])
    with op.batch_alter_table('moderation_decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision_id', sa.String(length=26), nullable=True))
        batch_op.add_column(sa.Column('level', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('on_appeal', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('appealed_at', services.common.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('appeal_note', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_moderation_decisions_revision_id'), ['revision_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_moderation_decisions_revision_id_resource_revisions'),
                                    'resource_revisions', ['revision_id'], ['id'], ondelete='CASCADE')


def downgrade() -> None:
    with op.batch_alter_table('moderation_decisions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_moderation_decisions_revision_id_resource_revisions'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_moderation_decisions_revision_id'))
        batch_op.drop_column('appeal_note')
        batch_op.drop_column('appealed_at')
        batch_op.drop_column('on_appeal')
        batch_op.drop_column('level')
        batch_op.drop_column('revision_id')
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_resources_review_excluded_id_users'), type_='foreignkey')
        batch_op.drop_column('review_excluded_id')
        batch_op.drop_column('review_level')
    op.drop_table('review_policies')
    op.drop_table('resource_revisions')

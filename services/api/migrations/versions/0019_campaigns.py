"""campaigns

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-07 04:20:00
"""
from alembic import op
import sqlalchemy as sa
import services.common.db


revision = '0019'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('regions',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('parent_id', sa.String(length=26), nullable=True),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['regions.id'], name=op.f('fk_regions_parent_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_regions'))
    )
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_regions_parent_id'), ['parent_id'], unique=False)

    op.create_table('campaigns',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('district_id', sa.String(length=26), nullable=False),
    sa.Column('created_by', sa.String(length=26), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('rubric', sa.JSON(), nullable=False),
    sa.Column('aggregation', sa.String(length=16), nullable=False),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_campaigns_created_by_users')),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_campaigns_district_id_districts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaigns_district_id'), ['district_id'], unique=False)

    op.create_table('campaign_levels',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('campaign_id', sa.String(length=26), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('district_id', sa.String(length=26), nullable=True),
    sa.Column('region_id', sa.String(length=26), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('submission_opens_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submission_closes_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('judging_closes_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('publicity_days', sa.Integer(), nullable=False),
    sa.Column('publicity_ends_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('judges_per_package', sa.Integer(), nullable=False),
    sa.Column('quotas', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_levels_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_campaign_levels_district_id_districts')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_campaign_levels_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_levels')),
    sa.UniqueConstraint('campaign_id', 'position', name=op.f('uq_campaign_levels_campaign_id_position'))
    )
    with op.batch_alter_table('campaign_levels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_levels_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('campaign_packages',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('campaign_id', sa.String(length=26), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('teacher_id', sa.String(length=26), nullable=False),
    sa.Column('school_id', sa.String(length=26), nullable=False),
    sa.Column('district_id', sa.String(length=26), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('stage_code', sa.String(length=32), nullable=True),
    sa.Column('grade_code', sa.String(length=32), nullable=True),
    sa.Column('subject_code', sa.String(length=32), nullable=True),
    sa.Column('edition_code', sa.String(length=32), nullable=True),
    sa.Column('knowledge_point', sa.String(length=64), nullable=True),
    sa.Column('submitted_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_packages_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_campaign_packages_district_id_districts')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_campaign_packages_school_id_schools')),
    sa.ForeignKeyConstraint(['teacher_id'], ['users.id'], name=op.f('fk_campaign_packages_teacher_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_packages'))
    )
    with op.batch_alter_table('campaign_packages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_packages_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_packages_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_packages_teacher_id'), ['teacher_id'], unique=False)

    op.create_table('campaign_entries',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('level_id', sa.String(length=26), nullable=False),
    sa.Column('package_id', sa.String(length=26), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Double(), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['level_id'], ['campaign_levels.id'], name=op.f('fk_campaign_entries_level_id_campaign_levels'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['package_id'], ['campaign_packages.id'], name=op.f('fk_campaign_entries_package_id_campaign_packages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_entries')),
    sa.UniqueConstraint('level_id', 'package_id', name=op.f('uq_campaign_entries_level_id_package_id'))
    )
    with op.batch_alter_table('campaign_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_entries_level_id'), ['level_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_entries_package_id'), ['package_id'], unique=False)

    op.create_table('campaign_package_items',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('package_id', sa.String(length=26), nullable=False),
    sa.Column('part', sa.String(length=32), nullable=False),
    sa.Column('resource_id', sa.String(length=26), nullable=False),
    sa.Column('resource_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['package_id'], ['campaign_packages.id'], name=op.f('fk_campaign_package_items_package_id_campaign_packages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_campaign_package_items_resource_id_resources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_package_items')),
    sa.UniqueConstraint('package_id', 'part', name=op.f('uq_campaign_package_items_package_id_part'))
    )
    with op.batch_alter_table('campaign_package_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_package_items_package_id'), ['package_id'], unique=False)

    op.create_table('campaign_panels',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('level_id', sa.String(length=26), nullable=False),
    sa.Column('subject_code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('judge_ids', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['level_id'], ['campaign_levels.id'], name=op.f('fk_campaign_panels_level_id_campaign_levels'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_panels'))
    )
    with op.batch_alter_table('campaign_panels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_panels_level_id'), ['level_id'], unique=False)

    op.create_table('campaign_assignments',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('level_id', sa.String(length=26), nullable=False),
    sa.Column('entry_id', sa.String(length=26), nullable=False),
    sa.Column('panel_id', sa.String(length=26), nullable=False),
    sa.Column('judge_id', sa.String(length=26), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=True),
    sa.Column('total', sa.Double(), nullable=True),
    sa.Column('first_criterion', sa.Double(), nullable=True),
    sa.Column('scored_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['campaign_entries.id'], name=op.f('fk_campaign_assignments_entry_id_campaign_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['judge_id'], ['users.id'], name=op.f('fk_campaign_assignments_judge_id_users')),
    sa.ForeignKeyConstraint(['level_id'], ['campaign_levels.id'], name=op.f('fk_campaign_assignments_level_id_campaign_levels'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['panel_id'], ['campaign_panels.id'], name=op.f('fk_campaign_assignments_panel_id_campaign_panels'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_assignments')),
    sa.UniqueConstraint('entry_id', 'judge_id', name=op.f('uq_campaign_assignments_entry_id_judge_id'))
    )
    with op.batch_alter_table('campaign_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_assignments_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_assignments_judge_id'), ['judge_id'], unique=False)
        batch_op.create_index('ix_campaign_assignments_level', ['level_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_assignments_panel_id'), ['panel_id'], unique=False)

    op.create_table('campaign_certificates',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('entry_id', sa.String(length=26), nullable=False),
    sa.Column('package_id', sa.String(length=26), nullable=False),
    sa.Column('award', sa.String(length=100), nullable=False),
    sa.Column('issued_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['campaign_entries.id'], name=op.f('fk_campaign_certificates_entry_id_campaign_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['package_id'], ['campaign_packages.id'], name=op.f('fk_campaign_certificates_package_id_campaign_packages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_certificates')),
    sa.UniqueConstraint('code', name=op.f('uq_campaign_certificates_code')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_campaign_certificates_entry_id'))
    )
    with op.batch_alter_table('campaign_certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_certificates_package_id'), ['package_id'], unique=False)

    op.create_table('campaign_objections',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('entry_id', sa.String(length=26), nullable=False),
    sa.Column('filed_by', sa.String(length=26), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_by', sa.String(length=26), nullable=True),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_campaign_objections_decided_by_users')),
    sa.ForeignKeyConstraint(['entry_id'], ['campaign_entries.id'], name=op.f('fk_campaign_objections_entry_id_campaign_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['filed_by'], ['users.id'], name=op.f('fk_campaign_objections_filed_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_objections'))
    )
    with op.batch_alter_table('campaign_objections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_objections_entry_id'), ['entry_id'], unique=False)

    # A nullable column with its reference, added in place: a batch copy of districts or users
    # would trip the foreign keys that point at them.
    for table in ('districts', 'users'):
        if op.get_context().dialect.name == 'sqlite':
            op.execute(f"ALTER TABLE {table} ADD COLUMN region_id VARCHAR(26) REFERENCES regions (id)")
        else:
            op.add_column(table, sa.Column('region_id', sa.String(length=26), nullable=True))
            op.create_foreign_key(f'fk_{table}_region_id_regions', table, 'regions', ['region_id'], ['id'])
        op.create_index(f'ix_{table}_region_id', table, ['region_id'], unique=False)


def downgrade() -> None:
    for table in ('users', 'districts'):
        op.drop_index(f'ix_{table}_region_id', table_name=table)
        if op.get_context().dialect.name != 'sqlite':
            op.drop_constraint(f'fk_{table}_region_id_regions', table, type_='foreignkey')
        # Native DROP COLUMN (SQLite >= 3.35 too): no batch copy of districts or users.
        op.execute(f"ALTER TABLE {table} DROP COLUMN region_id")

    with op.batch_alter_table('campaign_objections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_objections_entry_id'))

    op.drop_table('campaign_objections')
    with op.batch_alter_table('campaign_certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_certificates_package_id'))

    op.drop_table('campaign_certificates')
    with op.batch_alter_table('campaign_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_assignments_panel_id'))
        batch_op.drop_index('ix_campaign_assignments_level')
        batch_op.drop_index(batch_op.f('ix_campaign_assignments_judge_id'))
        batch_op.drop_index(batch_op.f('ix_campaign_assignments_entry_id'))

    op.drop_table('campaign_assignments')
    with op.batch_alter_table('campaign_panels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_panels_level_id'))

    op.drop_table('campaign_panels')
    with op.batch_alter_table('campaign_package_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_package_items_package_id'))

    op.drop_table('campaign_package_items')
    with op.batch_alter_table('campaign_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_entries_package_id'))
        batch_op.drop_index(batch_op.f('ix_campaign_entries_level_id'))

    op.drop_table('campaign_entries')
    with op.batch_alter_table('campaign_packages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_packages_teacher_id'))
        batch_op.drop_index(batch_op.f('ix_campaign_packages_school_id'))
        batch_op.drop_index(batch_op.f('ix_campaign_packages_campaign_id'))

    op.drop_table('campaign_packages')
    with op.batch_alter_table('campaign_levels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_levels_campaign_id'))

    op.drop_table('campaign_levels')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaigns_district_id'))

    op.drop_table('campaigns')
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_regions_parent_id'))

    op.drop_table('regions')

"""pairing plans, activities and their packs, device slots booked by activities, play records

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-07 04:10:30.568335
"""
from alembic import op
import sqlalchemy as sa
import services.common.db


revision = '0016'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pairing_plans',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('pairing_id', sa.String(length=26), nullable=False),
    sa.Column('semester', sa.String(length=16), nullable=False),
    sa.Column('goal_exchanges', sa.Integer(), nullable=False),
    sa.Column('subjects', sa.JSON(), nullable=False),
    sa.Column('helper_teacher_ids', sa.JSON(), nullable=False),
    sa.Column('assisted_teacher_ids', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=26), nullable=False),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['pairing_id'], ['pairings.id'], name=op.f('fk_pairing_plans_pairing_id_pairings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pairing_plans')),
    sa.UniqueConstraint('pairing_id', 'semester', name=op.f('uq_pairing_plans_pairing_id_semester'))
    )
    with op.batch_alter_table('pairing_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pairing_plans_pairing_id'), ['pairing_id'], unique=False)

    op.create_table('pairing_activities',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('pairing_id', sa.String(length=26), nullable=False),
    sa.Column('semester', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('starts_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('subject_code', sa.String(length=64), nullable=True),
    sa.Column('device_id', sa.String(length=26), nullable=True),
    sa.Column('teacher_ids', sa.JSON(), nullable=False),
    sa.Column('classes', sa.JSON(), nullable=False),
    sa.Column('recording_resource_id', sa.String(length=26), nullable=True),
    sa.Column('created_by', sa.String(length=26), nullable=False),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('held_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_pairing_activities_device_id_devices')),
    sa.ForeignKeyConstraint(['pairing_id'], ['pairings.id'], name=op.f('fk_pairing_activities_pairing_id_pairings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recording_resource_id'], ['resources.id'], name=op.f('fk_pairing_activities_recording_resource_id_resources'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['subject_code'], ['subjects.code'], name=op.f('fk_pairing_activities_subject_code_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pairing_activities'))
    )
    with op.batch_alter_table('pairing_activities', schema=None) as batch_op:
        batch_op.create_index('ix_pairing_activities_pairing_starts', ['pairing_id', 'starts_at'], unique=False)

    op.create_table('play_records',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('resource_id', sa.String(length=26), nullable=False),
    sa.Column('user_id', sa.String(length=26), nullable=False),
    sa.Column('school_id', sa.String(length=26), nullable=True),
    sa.Column('classroom', sa.String(length=64), nullable=False),
    sa.Column('started_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seconds', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_play_records_resource_id_resources'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_play_records_school_id_schools')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_play_records_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_play_records'))
    )
    with op.batch_alter_table('play_records', schema=None) as batch_op:
        batch_op.create_index('ix_play_records_resource_school', ['resource_id', 'school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_play_records_school_id'), ['school_id'], unique=False)

    op.create_table('pairing_activity_resources',
    sa.Column('activity_id', sa.String(length=26), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['pairing_activities.id'], name=op.f('fk_pairing_activity_resources_activity_id_pairing_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_pairing_activity_resources_resource_id_resources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('activity_id', 'position', name=op.f('pk_pairing_activity_resources'))
    )
    with op.batch_alter_table('pairing_activity_resources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pairing_activity_resources_resource_id'), ['resource_id'], unique=False)

    with op.batch_alter_table('timetable_slots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('activity_id', sa.String(length=26), nullable=True))
        batch_op.create_index(batch_op.f('ix_timetable_slots_activity_id'), ['activity_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_timetable_slots_activity_id_pairing_activities'), 'pairing_activities', ['activity_id'], ['id'], ondelete='CASCADE')



def downgrade() -> None:
    with op.batch_alter_table('timetable_slots', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_timetable_slots_activity_id_pairing_activities'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_timetable_slots_activity_id'))
        batch_op.drop_column('activity_id')

    with op.batch_alter_table('pairing_activity_resources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pairing_activity_resources_resource_id'))

    op.drop_table('pairing_activity_resources')
    with op.batch_alter_table('play_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_play_records_school_id'))
        batch_op.drop_index('ix_play_records_resource_school')

    op.drop_table('play_records')
    with op.batch_alter_table('pairing_activities', schema=None) as batch_op:
        batch_op.drop_index('ix_pairing_activities_pairing_starts')

    op.drop_table('pairing_activities')
    with op.batch_alter_table('pairing_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pairing_plans_pairing_id'))

    op.drop_table('pairing_plans')

"""search outbox and view counts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 00:40:00
"""
from alembic import op
import sqlalchemy as sa
import services.common.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('search_outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('resource_id', sa.String(length=26), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_outbox'))
    )
    with op.batch_alter_table('search_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_outbox_resource_id'), ['resource_id'], unique=False)
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('view_count', sa.Integer(), server_default='0', nullable=False))
    # Resources that exist already reach the index through the relay like any change.
    op.execute("INSERT INTO search_outbox (resource_id, version, created_at) "
               "SELECT id, version, CURRENT_TIMESTAMP FROM resources")


def downgrade() -> None:
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.drop_column('view_count')
    with op.batch_alter_table('search_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_outbox_resource_id'))
    op.drop_table('search_outbox')

"""audit hash chain; login throttling notes

Revision ID: 0009
Revises: 0015
Create Date: 2026-12-07 03:40:00
"""
from alembic import op
import sqlalchemy as sa
import services.common.db
from services.api.audit.chain import GENESIS_HASH, row_hash


revision = '0009'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    seq, last = _chain_existing_rows(op.get_bind())
    op.execute(sa.text("INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, :seq, :hash)")
               .bindparams(seq=seq, hash=last))
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_events_seq'), ['seq'])
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('throttle_noted', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f('ix_login_failures_at'), ['at'], unique=False)


def _chain_existing_rows(connection: sa.Connection) -> tuple[int, str]:
    """Links the rows written before the chain, in the order they were written."""
    events = sa.table('audit_events', sa.column('id', sa.String()), sa.column('at', services.common.db.UTCDateTime()),
                      sa.column('actor_id', sa.String()), sa.column('district_id', sa.String()),
                      sa.column('action', sa.String()), sa.column('target_type', sa.String()),
                      sa.column('target_id', sa.String()), sa.column('details', sa.JSON()),
                      sa.column('seq', sa.BigInteger()), sa.column('prev_hash', sa.String()),
                      sa.column('hash', sa.String()))
    seq, last = 0, GENESIS_HASH
    rows = connection.execute(sa.select(events).order_by(events.c.at, events.c.id)).all()
    for row in rows:
        seq += 1
        digest = row_hash(seq=seq, prev_hash=last, id=row.id, at=row.at, actor_id=row.actor_id,
                          district_id=row.district_id, action=row.action, target_type=row.target_type,
                          target_id=row.target_id, details=row.details or {})
        connection.execute(events.update().where(events.c.id == row.id)
                           .values(seq=seq, prev_hash=last, hash=digest, details=row.details or {}))
        last = digest
    return seq, last


def downgrade() -> None:
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failures_at'))
        batch_op.drop_column('throttle_noted')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_events_seq'), type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')
    op.drop_table('audit_chain_head')

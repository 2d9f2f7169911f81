"""resources.link_epoch: revocable playback and download links; SPDX license ids in canonical case

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-07 04:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0012'
branch_labels = None
depends_on = None


# SPDX ids were stored lower-cased; License now stores (and reads any case of) the canonical spelling.
_SPDX = ('CC-BY-4.0', 'CC-BY-SA-4.0', 'CC-BY-NC-4.0', 'CC-BY-NC-SA-4.0', 'CC-BY-ND-4.0', 'CC-BY-NC-ND-4.0',
         'CC0-1.0')


def upgrade() -> None:
    with op.batch_alter_table('resources') as batch_op:
        batch_op.add_column(sa.Column('link_epoch', sa.Integer(), server_default='0', nullable=False))
    resources = sa.table('resources', sa.column('license', sa.String))
    for canonical in _SPDX:
        op.execute(resources.update().where(resources.c.license == canonical.lower()).values(license=canonical))


def downgrade() -> None:
    resources = sa.table('resources', sa.column('license', sa.String))
    for canonical in _SPDX:
        op.execute(resources.update().where(resources.c.license == canonical).values(license=canonical.lower()))
    with op.batch_alter_table('resources') as batch_op:
        batch_op.drop_column('link_epoch')

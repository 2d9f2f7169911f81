"""campaign rounds per organisation: several districts under a city and a province

Revision ID: 0025
Revises: 0020
Create Date: 2026-12-07 07:00:00

A campaign_levels row becomes one organisation's round at a level (several district rounds feed
one city round, several city rounds one province round). Its old `position` column, unique per
campaign, is kept as the round's ordinal; the level's position moves to `level_position`; a round
names the round its promotions go to in `parent_id`. The campaign records the region that runs it.
Regions of a kind have distinct names.

Every change is made in place: a batch copy of campaigns or campaign_levels on SQLite would drop
the table under its ON DELETE CASCADE children (foreign keys are on while migrating).
"""
from alembic import op
import sqlalchemy as sa


revision = '0025'
down_revision = '0020'
branch_labels = None
depends_on = None


def _add_reference(table: str, column: str, target: str) -> None:
    if op.get_context().dialect.name == 'sqlite':
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} VARCHAR(26) REFERENCES {target} (id)")
    else:
        op.add_column(table, sa.Column(column, sa.String(length=26), nullable=True))
        op.create_foreign_key(f'fk_{table}_{column}_{target}', table, target, [column], ['id'])
    op.create_index(f'ix_{table}_{column}', table, [column], unique=False)


def upgrade() -> None:
    op.add_column('campaign_levels', sa.Column('level_position', sa.Integer(), nullable=False,
                                               server_default=sa.text('0')))
    op.execute("UPDATE campaign_levels SET level_position = position")
    _add_reference('campaign_levels', 'parent_id', 'campaign_levels')
    op.execute("UPDATE campaign_levels SET parent_id = (SELECT above.id FROM campaign_levels AS above "
               "WHERE above.campaign_id = campaign_levels.campaign_id "
               "AND above.position = campaign_levels.position + 1)")
    _add_reference('campaigns', 'region_id', 'regions')
    op.create_index('uq_regions_kind_name', 'regions', ['kind', 'name'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_regions_kind_name', table_name='regions')
    for table, column, target in (('campaigns', 'region_id', 'regions'),
                                  ('campaign_levels', 'parent_id', 'campaign_levels')):
        op.drop_index(f'ix_{table}_{column}', table_name=table)
        if op.get_context().dialect.name != 'sqlite':
            op.drop_constraint(f'fk_{table}_{column}_{target}', table, type_='foreignkey')
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.execute("ALTER TABLE campaign_levels DROP COLUMN level_position")

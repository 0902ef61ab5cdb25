"""report identity: agency keys, the current report of an agency-year, the posting time

Revision ID: 0002_identity
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0002_identity'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agencies') as batch:
        batch.add_column(sa.Column('key', sa.String(length=200), nullable=True))
        batch.create_index('ix_agencies_key', ['key'])
    with op.batch_alter_table('reports') as batch:
        batch.add_column(sa.Column('current', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column('posted', sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('reports') as batch:
        batch.drop_column('posted')
        batch.drop_column('current')
    with op.batch_alter_table('agencies') as batch:
        batch.drop_index('ix_agencies_key')
        batch.drop_column('key')

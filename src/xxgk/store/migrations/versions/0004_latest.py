"""the newest parse of each file marked (`latest`) and indexed with the list's order

Revision ID: 0004_latest
Revises: 0003_review
"""

import sqlalchemy as sa
from alembic import op

revision = '0004_latest'
down_revision = '0003_review'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reports') as batch:
        batch.add_column(sa.Column('latest', sa.Boolean(), nullable=False, server_default=sa.true()))
    op.execute("UPDATE reports SET latest = (id IN (SELECT max(id) FROM reports GROUP BY digest))")
    op.create_index('ix_reports_listed', 'reports', ['latest', 'agency_name', 'year', 'id'])


def downgrade() -> None:
    op.drop_index('ix_reports_listed', 'reports')
    with op.batch_alter_table('reports') as batch:
        batch.drop_column('latest')

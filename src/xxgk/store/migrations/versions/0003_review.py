"""reviewers' work: corrected cells and a status per report, both by source file

Revision ID: 0003_review
Revises: 0002_identity
"""

import sqlalchemy as sa
from alembic import op

revision = '0003_review'
down_revision = '0002_identity'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('corrections',
                    sa.Column('digest', sa.String(length=64), nullable=False),
                    sa.Column('key', sa.String(length=80), nullable=False),
                    sa.Column('value', sa.Float(), nullable=True),
                    sa.Column('read', sa.Float(), nullable=True),
                    sa.Column('who', sa.String(length=100), nullable=False),
                    sa.Column('note', sa.Text(), nullable=False),
                    sa.Column('at', sa.DateTime(), nullable=False),
                    sa.PrimaryKeyConstraint('digest', 'key'))
    op.create_table('report_reviews',
                    sa.Column('digest', sa.String(length=64), nullable=False),
                    sa.Column('status', sa.String(length=12), nullable=False),
                    sa.Column('note', sa.Text(), nullable=False),
                    sa.Column('who', sa.String(length=100), nullable=False),
                    sa.Column('at', sa.DateTime(), nullable=False),
                    sa.PrimaryKeyConstraint('digest'))
    op.create_index('ix_report_reviews_status', 'report_reviews', ['status'])


def downgrade() -> None:
    op.drop_index('ix_report_reviews_status', table_name='report_reviews')
    op.drop_table('report_reviews')
    op.drop_table('corrections')

"""scheduler steps: how each scheduler step fares, for /readyz and /metrics

A step that kept failing (the intake of a submission restored without its files, every 2 s) was visible only
in the scheduler's log: /readyz said ready. The scheduler now records each step's runs, failed runs, failed
items, failures in a row and last success here (app.ops.steps).

Revision ID: 2026_12_04_scheduler_steps
Revises: 2026_12_04_platform_instance
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "2026_12_04_scheduler_steps"
down_revision = "2026_12_04_platform_instance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduler_step",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("runs_total", sa.Integer(), nullable=False),
        sa.Column("failures_total", sa.Integer(), nullable=False),
        sa.Column("item_failures_total", sa.Integer(), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_run_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_success_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_failure_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("scheduler_step")

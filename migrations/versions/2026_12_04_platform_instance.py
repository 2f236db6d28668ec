"""platform instance: a short identifier of this instance, made once, for its cluster jobs' names

Two platform instances sharing one Slurm account (staging and production, two test runs) named their jobs
alike (lagc-eval-<id>-a<attempt>, and evaluation ids start at 1 in every database), so a scheduler's
reconcile-by-name could take another instance's job for its own. The identifier made here goes into every
job name (`evaluation.planning.job_name`); LAGC_INSTANCE_ID overrides it.

Revision ID: 2026_12_04_platform_instance
Revises: 2026_12_04_reproductions
"""

import secrets
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "2026_12_04_platform_instance"
down_revision = "2026_12_04_reproductions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "platform_instance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identifier", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(table, [{"id": 1, "identifier": secrets.token_hex(4), "created_at": datetime.now(timezone.utc)}])


def downgrade() -> None:
    op.drop_table("platform_instance")

"""leaderboard: snapshots and freeze

Revision ID: 0007
Revises: 0006
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leaderboardfreeze",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("frozen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("unfrozen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("frozen_by_id", sa.Integer(), nullable=False),
        sa.Column("unfrozen_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenge.id"],
        ),
        sa.ForeignKeyConstraint(
            ["frozen_by_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unfrozen_by_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("leaderboardfreeze", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_leaderboardfreeze_challenge_id"), ["challenge_id"], unique=False)

    op.create_table(
        "leaderboardsnapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("audience", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("computed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("etag", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("watermark", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("valid_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("compute_ms", sa.Float(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenge.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("challenge_id", "audience"),
    )
    with op.batch_alter_table("leaderboardsnapshot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_leaderboardsnapshot_challenge_id"), ["challenge_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("leaderboardsnapshot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leaderboardsnapshot_challenge_id"))
    op.drop_table("leaderboardsnapshot")
    with op.batch_alter_table("leaderboardfreeze", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leaderboardfreeze_challenge_id"))
    op.drop_table("leaderboardfreeze")

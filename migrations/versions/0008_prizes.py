"""prizes: award records in a hash chain

Revision ID: 0008
Revises: 0007
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "award_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenge.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("challenge_id", "sequence"),
    )
    with op.batch_alter_table("award_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_award_record_challenge_id"), ["challenge_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_award_record_hash"), ["hash"], unique=False)

    op.create_table(
        "prize_tie_break",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("order", sa.JSON(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=False),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenge.id"],
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("prize_tie_break", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prize_tie_break_challenge_id"), ["challenge_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("prize_tie_break", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prize_tie_break_challenge_id"))
    op.drop_table("prize_tie_break")
    with op.batch_alter_table("award_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_award_record_hash"))
        batch_op.drop_index(batch_op.f("ix_award_record_challenge_id"))
    op.drop_table("award_record")

"""counted submissions: a team's choice of which evaluated submission counts, and each evaluation's purpose

Revision ID: 2026_12_04_counted_choice
Revises: 0010

``countedchoice`` keeps every choice a team made (append-only, dated), so the counted rule reads the one in
force at any cut-off (`evaluation.counting`). ``evaluation.purpose`` says why an evaluation ran: only
``primary`` runs count for a team; re-runs of a submission elsewhere (reproducibility checks) will get their
own purpose. Existing evaluations are primary runs. (The leaderboard freeze's model moved to
`evaluation.models`; its table is unchanged.)
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = "2026_12_04_counted_choice"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "countedchoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("chosen_by_id", sa.Integer(), nullable=False),
        sa.Column("chosen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["challenge_id"], ["challenge.id"]),
        sa.ForeignKeyConstraint(["chosen_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["submission_id"], ["submission.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("countedchoice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_countedchoice_challenge_id"), ["challenge_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_countedchoice_team_id"), ["team_id"], unique=False)
    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=20), server_default="primary", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.drop_column("purpose")
    with op.batch_alter_table("countedchoice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_countedchoice_team_id"))
        batch_op.drop_index(batch_op.f("ix_countedchoice_challenge_id"))
    op.drop_table("countedchoice")

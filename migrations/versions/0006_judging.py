"""judging: assignments, conflicts, rubric scores and the lock

Revision ID: 0006
Revises: 0005
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "judging_lock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("locked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("locked_by", sa.Integer(), nullable=True),
        sa.Column("published_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenge.id"],
        ),
        sa.ForeignKeyConstraint(
            ["locked_by"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["published_by"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("challenge_id"),
    )
    op.create_table(
        "conflict_declaration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("judge_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("declared_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenge.id"],
        ),
        sa.ForeignKeyConstraint(
            ["judge_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("conflict_declaration", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conflict_declaration_challenge_id"), ["challenge_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_conflict_declaration_judge_id"), ["judge_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_conflict_declaration_team_id"), ["team_id"], unique=False)

    op.create_table(
        "judge_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("judge_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("assigned_by", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_by"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenge.id"],
        ),
        sa.ForeignKeyConstraint(
            ["judge_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("challenge_id", "judge_id", "team_id"),
    )
    with op.batch_alter_table("judge_assignment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_judge_assignment_challenge_id"), ["challenge_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_judge_assignment_judge_id"), ["judge_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_judge_assignment_team_id"), ["team_id"], unique=False)

    op.create_table(
        "rubric_score_sheet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("judge_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("submitted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenge.id"],
        ),
        sa.ForeignKeyConstraint(
            ["judge_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("challenge_id", "judge_id", "team_id"),
    )
    with op.batch_alter_table("rubric_score_sheet", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rubric_score_sheet_challenge_id"), ["challenge_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rubric_score_sheet_judge_id"), ["judge_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rubric_score_sheet_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rubric_score_sheet", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rubric_score_sheet_team_id"))
        batch_op.drop_index(batch_op.f("ix_rubric_score_sheet_judge_id"))
        batch_op.drop_index(batch_op.f("ix_rubric_score_sheet_challenge_id"))

    op.drop_table("rubric_score_sheet")
    with op.batch_alter_table("judge_assignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_judge_assignment_team_id"))
        batch_op.drop_index(batch_op.f("ix_judge_assignment_judge_id"))
        batch_op.drop_index(batch_op.f("ix_judge_assignment_challenge_id"))

    op.drop_table("judge_assignment")
    with op.batch_alter_table("conflict_declaration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conflict_declaration_team_id"))
        batch_op.drop_index(batch_op.f("ix_conflict_declaration_judge_id"))
        batch_op.drop_index(batch_op.f("ix_conflict_declaration_challenge_id"))

    op.drop_table("conflict_declaration")
    op.drop_table("judging_lock")

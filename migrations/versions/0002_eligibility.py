"""eligibility: applications (every version kept) and organiser reviews

Revision ID: 0002
Revises: 0001
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eligibility_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("verdict", sa.JSON(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("submitted_by", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenge.id"],
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "version"),
    )
    with op.batch_alter_table("eligibility_application", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eligibility_application_challenge_id"), ["challenge_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_eligibility_application_team_id"), ["team_id"], unique=False)

    op.create_table(
        "eligibility_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("organiser_id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["eligibility_application.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organiser_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("eligibility_decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eligibility_decision_application_id"), ["application_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_eligibility_decision_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("eligibility_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_eligibility_decision_team_id"))
        batch_op.drop_index(batch_op.f("ix_eligibility_decision_application_id"))

    op.drop_table("eligibility_decision")
    with op.batch_alter_table("eligibility_application", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_eligibility_application_team_id"))
        batch_op.drop_index(batch_op.f("ix_eligibility_application_challenge_id"))

    op.drop_table("eligibility_application")

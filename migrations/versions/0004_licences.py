"""licences: organiser resolutions and release obligations

Revision ID: 0004
Revises: 0003
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "licenceresolution",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("organiser_id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organiser_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("licenceresolution", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_licenceresolution_submission_id"), ["submission_id"], unique=False)
    op.create_table(
        "releaseobligation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("award_ref", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("deadline", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("status", sa.Enum("pending", "met", "overdue", name="obligationstatus"), nullable=False),
        sa.Column("kind", sa.Enum("weights", "publication", name="obligationkind"), nullable=True),
        sa.Column("hub_repo", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("hub_revision", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("hub_commit", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("release_verdict", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("release_licence", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("release_reasons", sa.JSON(), nullable=False),
        sa.Column("publication_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("declared_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("accepted_by_id", sa.Integer(), nullable=True),
        sa.Column("accepted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["accepted_by_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenge.id"],
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("releaseobligation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_releaseobligation_challenge_id"), ["challenge_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_releaseobligation_deadline"), ["deadline"], unique=False)
        batch_op.create_index(batch_op.f("ix_releaseobligation_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_releaseobligation_submission_id"), ["submission_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_releaseobligation_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("releaseobligation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_releaseobligation_team_id"))
        batch_op.drop_index(batch_op.f("ix_releaseobligation_submission_id"))
        batch_op.drop_index(batch_op.f("ix_releaseobligation_status"))
        batch_op.drop_index(batch_op.f("ix_releaseobligation_deadline"))
        batch_op.drop_index(batch_op.f("ix_releaseobligation_challenge_id"))
    op.drop_table("releaseobligation")
    with op.batch_alter_table("licenceresolution", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_licenceresolution_submission_id"))
    op.drop_table("licenceresolution")
    # PostgreSQL keeps enum types after their table is gone; drop them so an upgrade can create them again.
    sa.Enum(name="obligationkind").drop(op.get_bind(), checkfirst=True)
    sa.Enum(name="obligationstatus").drop(op.get_bind(), checkfirst=True)

"""sites: supercomputer sites whose agents lease evaluations, their uploads, and the lease on an evaluation

Revision ID: 2026_12_04_sites
Revises: 2026_12_04_counted_choice
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = "2026_12_04_sites"
down_revision = "2026_12_04_counted_choice"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("cluster", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("max_jobs", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("agent", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("token_sha256"),
    )
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_cluster"), ["cluster"], unique=False)
        batch_op.create_index(batch_op.f("ix_site_last_seen_at"), ["last_seen_at"], unique=False)

    op.create_table(
        "siteupload",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("uploaded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluation.id"],
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("evaluation_id", "attempt", "path"),
    )
    with op.batch_alter_table("siteupload", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_siteupload_evaluation_id"), ["evaluation_id"], unique=False)

    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("lease_expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_evaluation_site_id"), ["site_id"], unique=False)
        batch_op.create_foreign_key("fk_evaluation_site_id_site", "site", ["site_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.drop_constraint("fk_evaluation_site_id_site", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_evaluation_site_id"))
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("site_id")

    with op.batch_alter_table("siteupload", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_siteupload_evaluation_id"))
    op.drop_table("siteupload")
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_last_seen_at"))
        batch_op.drop_index(batch_op.f("ix_site_cluster"))
    op.drop_table("site")

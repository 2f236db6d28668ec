"""Sign-up requests, and e-mails to an address without an account.

`/signup` no longer creates the account at once (that told anyone which addresses have accounts): it stores a
`sign_up_request`, and the scheduler e-mails the address a link that creates the account, or tells the owner
of a taken address. The link's e-mail goes to an address with no account yet, so a notification may have an
`address` instead of a `recipient_id`.

Revision ID: 2026_12_04_sign_up_requests
Revises: 2026_12_04_sites
Create Date: 2026-12-04 13:32:39.959835
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "2026_12_04_sign_up_requests"
down_revision = "2026_12_04_sites"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_up_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("mailed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("completed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sign_up_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_up_request_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_sign_up_request_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sign_up_request_mailed_at"), ["mailed_at"], unique=False)

    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True))
        batch_op.alter_column("recipient_id", existing_type=sa.INTEGER(), nullable=True)


def downgrade() -> None:
    # E-mails to addresses without an account cannot be kept once every notification needs a recipient.
    op.execute("DELETE FROM notification WHERE recipient_id IS NULL")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.alter_column("recipient_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("address")

    with op.batch_alter_table("sign_up_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_up_request_mailed_at"))
        batch_op.drop_index(batch_op.f("ix_sign_up_request_expires_at"))
        batch_op.drop_index(batch_op.f("ix_sign_up_request_email"))

    op.drop_table("sign_up_request")

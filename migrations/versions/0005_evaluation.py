"""evaluation: evaluations as a state machine, results and GPU-hour charges

Revision ID: 0005
Revises: 0004
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evaluation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "dispatching",
                "dispatched",
                "running",
                "finished",
                "failed",
                "cancelled",
                name="evaluationstate",
            ),
            nullable=False,
        ),
        sa.Column("runner", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("cluster", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("job_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("job_token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("node", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("queued_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("dispatched_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("log_tail", sa.Text(), nullable=True),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("work_dir", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("results_path", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("provenance", sa.JSON(), nullable=False),
        sa.Column("elapsed_seconds", sa.Float(), nullable=True),
        sa.Column("gpu_hours", sa.Float(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("retry_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
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
    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_challenge_id"), ["challenge_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evaluation_queued_at"), ["queued_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_evaluation_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_evaluation_submission_id"), ["submission_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evaluation_team_id"), ["team_id"], unique=False)

    op.create_table(
        "gpucharge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("cluster", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("gpu_hours", sa.Float(), nullable=False),
        sa.Column("charged_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenge.id"],
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluation.id"],
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("evaluation_id", "attempt"),
    )
    with op.batch_alter_table("gpucharge", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gpucharge_challenge_id"), ["challenge_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_gpucharge_team_id"), ["team_id"], unique=False)

    op.create_table(
        "taskresult",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("task", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("metric", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("stderr", sa.Float(), nullable=True),
        sa.Column("n_samples", sa.Integer(), nullable=True),
        sa.Column("task_version", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("task_hash", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("num_fewshot", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("evaluation_id", "task"),
    )
    with op.batch_alter_table("taskresult", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_taskresult_evaluation_id"), ["evaluation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_taskresult_task"), ["task"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("taskresult", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_taskresult_task"))
        batch_op.drop_index(batch_op.f("ix_taskresult_evaluation_id"))

    op.drop_table("taskresult")
    with op.batch_alter_table("gpucharge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gpucharge_team_id"))
        batch_op.drop_index(batch_op.f("ix_gpucharge_challenge_id"))

    op.drop_table("gpucharge")
    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_team_id"))
        batch_op.drop_index(batch_op.f("ix_evaluation_submission_id"))
        batch_op.drop_index(batch_op.f("ix_evaluation_state"))
        batch_op.drop_index(batch_op.f("ix_evaluation_queued_at"))
        batch_op.drop_index(batch_op.f("ix_evaluation_challenge_id"))

    op.drop_table("evaluation")

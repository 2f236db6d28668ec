"""Every table model, imported in one place so Alembic sees the whole schema."""
from app.accounts.models import ApiToken, Invitation, Role, User  # noqa: F401
from app.audit.models import AuditEvent  # noqa: F401
from app.challenges.models import Challenge, Phase  # noqa: F401
from app.ops.models import SchedulerLease  # noqa: F401
from app.teams.models import Team, TeamMembership  # noqa: F401

"""Every table model, imported in one place so Alembic and the application see the whole schema."""

from app.features import models

MODELS = models()

"""Every table model, imported in one place so Alembic and the application see the whole schema."""
from app.features import feature_modules

MODELS = feature_modules("models")

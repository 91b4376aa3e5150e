"""Database schema migrations (alembic): env, revisions, and a programmatic runner."""

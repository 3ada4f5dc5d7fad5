"""Alembic's environment for the decision log: runs on the connection dealcoach.store hands it."""

from alembic import context

from dealcoach.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()

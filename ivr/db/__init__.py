"""The database: `engine` (connections, no Flask), `sessions` (the app's sessions and who owns
the transaction), `statements` (inserts that Twilio's retries cannot repeat), `migrations` (the
schema, through Alembic).

Domain modules may import `engine` and `statements`; only the app's edges import `sessions`.
"""

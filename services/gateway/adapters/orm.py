"""The gateway's tables (its own database)."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table, Text

from shared.db.types import UtcDateTime

metadata = MetaData()

clients = Table(
    "oauth_clients",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("secret_hash", String(128), nullable=False),
    Column("name", String(120), nullable=False),
    Column("organisation", String(120), nullable=True),
    Column("profession", String(60), nullable=True),
    Column("scopes", Text, nullable=False),
    Column("grant_types", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
)

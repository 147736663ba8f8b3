"""The gateway's tables (its own database)."""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Integer, MetaData, String, Table, Text

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
    Column("redirect_uris", Text, nullable=False, server_default=""),
    Column("auth_method", String(40), nullable=False, server_default="client_secret_basic"),
)

organisations = Table(
    "organisations",
    metadata,
    Column("code", String(60), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("username", String(120), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("organisation", String(60), ForeignKey("organisations.code"), nullable=True),
    Column("profession", String(60), nullable=True),
    Column("beneficiary", String(36), nullable=True),
    Column("totp_secret", String(255), nullable=True),  # sealed (secret_box), never plain
    Column("totp_last_step", Integer, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("disabled_at", UtcDateTime(), nullable=True),
)

# Failed sign-ins per key ("account:<name>" or "address:<ip>"), whether or not the account exists.
login_failures = Table(
    "login_failures",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("locked_until", Float, nullable=False),
    Column("last_failure_at", Float, nullable=False),
)

authorization_codes = Table(
    "authorization_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("client_id", String(64), nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("code_challenge", String(128), nullable=False),
    Column("code_challenge_method", String(10), nullable=False),
    Column("expires_at", Float, nullable=False),
)

# One row per refresh token; rotation marks the old one used, and every token of one sign-in
# shares a family, revoked together when a used token comes back.
refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("family_id", String(36), nullable=False, index=True),
    Column("client_id", String(64), nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("scope", Text, nullable=False),
    Column("issued_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float, nullable=True),
    Column("revoked_at", Float, nullable=True),
    Column("access_jti", String(64), nullable=True),
    Column("access_expires_at", Float, nullable=True),
)

revoked_access_tokens = Table(
    "revoked_access_tokens",
    metadata,
    Column("jti", String(64), primary_key=True),
    Column("expires_at", Float, nullable=False, index=True),
)

# The web pages' sessions: the cookie holds a random id, this table its hash and the sealed data.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("data", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
)

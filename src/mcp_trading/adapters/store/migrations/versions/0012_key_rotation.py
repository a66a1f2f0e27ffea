"""API keys: rotation (`mcp-trading keys rotate ID`) keeps the previous secret's hash and
when it stops being accepted, so clients switch to the new secret within a grace period.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("previous_secret_hash", sa.String(), nullable=True))
    op.add_column("api_keys", sa.Column("previous_valid_until", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("previous_valid_until")
        batch.drop_column("previous_secret_hash")

"""Duplicate-check segments: sealed generations of the kernel's duplicate-check entries stored
once each (dedupe_segments) and the snapshots that reference them (snapshot_segments), so a
snapshot no longer re-writes every entry of the day. Snapshots saved before keep their entries
inline and still load.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "dedupe_segments",
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name="pk_dedupe_segments"),
    )
    op.create_table(
        "snapshot_segments",
        sa.Column("seq", _SEQ, autoincrement=False, nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("seq", "digest", name="pk_snapshot_segments"),
    )


def downgrade() -> None:
    op.drop_table("snapshot_segments")
    op.drop_table("dedupe_segments")

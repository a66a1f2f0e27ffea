"""Orders: what a read of a closed order shows, now that closed orders leave the kernel.

`extended_hours` and a trailing stop's watermark (`hwm`; its moving `stop_price` is now
projected too) were only in the kernel's memory. Rows projected before this revision get
`extended_hours = false` and no watermark.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("extended_hours", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.add_column("orders", sa.Column("hwm", sa.String()))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("hwm")
        batch.drop_column("extended_hours")

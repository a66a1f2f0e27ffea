"""The trading kernel: the single writer of orders, fills, positions, cash and trading state."""

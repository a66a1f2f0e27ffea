"""The pure domain: standard library only, Decimal for money and quantities, time passed in."""

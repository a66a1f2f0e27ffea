"""portfolio :8013."""

"""orders :8011."""

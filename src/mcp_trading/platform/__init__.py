"""The shared runtime of every service: the platform object, its composition root (`bootstrap`),
health, metrics, the alert center, logs and file modes."""

__all__: list[str] = []  # a namespace: its modules are the surface

"""Model data (profiles) for ChatMiMo."""

__all__: list[str] = []

"""Model data (profiles) for ChatMiMo."""

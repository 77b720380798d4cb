"""Tests of sandboxes.images: content-hash tags and no-op logic (fake runner), one real build."""

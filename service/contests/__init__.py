"""Contests: definitions, the audience window, and the credentials an admin issues."""

"""Jury panels: juror sessions, ballots that lock at the deadline, and their audit trail."""

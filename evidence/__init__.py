"""The ground floor: what is recorded (tables, sessions, settings, audit chain).

Imports nothing of ours; `sources`, `verdicts` and `flows` build on it.
"""

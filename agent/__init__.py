"""Not a runtime package: makes agent/tests importable as `agent.tests`, distinct from the
project-level `tests` package (the agent itself is `grassroots_agent`)."""

"""Console pages of scheduling (views call the actions; see docs/scheduling.md)."""

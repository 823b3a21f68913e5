"""The Faust app, its agents, topics, settings and the ``kawal`` CLI."""

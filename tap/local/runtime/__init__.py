"""Local mode's Lambda: function instances, their pool, the Runtime API and the built-in
worker."""

"""SCOPE: space-group generator string | Wyckoff symbols | composition."""

"""Benchmarks of the storefront: seed a large catalog, serve it with gunicorn, load it with wrk."""

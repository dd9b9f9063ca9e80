"""The HTTP API: ``heldout.api.app.create_app(settings)`` builds the FastAPI application."""

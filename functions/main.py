"""Deployed entry points: the Firebase app and the decorated functions, nothing heavy.

Deploy-time discovery (10 s limit) and every cold start import this module, so it only
initialises the Admin SDK and imports the decorated functions; clients are made lazily.
"""

from firebase_admin import initialize_app

# Callables verify the ID token before any @init hook runs, so the app must exist at import.
initialize_app()

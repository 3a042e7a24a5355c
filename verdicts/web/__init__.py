"""The reviewer and auditor web app: server-rendered pages and a JSON API beside them.

``create_app()`` (in ``app.py``) builds the FastAPI application; ``factcheck serve`` runs it.
"""

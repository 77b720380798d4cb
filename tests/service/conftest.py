from tests.service.fixtures import database_url, db, engine, service, settings

__all__ = ["database_url", "db", "engine", "service", "settings"]

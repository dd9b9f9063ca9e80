from tests.dbfixtures import database_url

__all__ = ["database_url"]

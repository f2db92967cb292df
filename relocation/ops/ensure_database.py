"""``python -m relocation.ops.ensure_database``: create the PostgreSQL database of DATABASE_URL if missing.

``make serve`` runs it before ``migrate``.  It connects to the server's
``postgres`` maintenance database as the same user and creates the database
(owned by that user) when there is none of that name; an existing database is
left as it is.  It prints what it did, or why it could not, in Chinese.
"""

import sys

import environ
import psycopg
from psycopg import sql


def ensure_database(url):
    config = environ.Env.db_url_config(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        return f"数据库不是 PostgreSQL（{config['ENGINE']}），不需要创建。"
    name = config["NAME"]
    params = {
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            return f"数据库 {name} 已存在。"
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return f"已创建数据库 {name}。"


def main():
    url = environ.Env().str("DATABASE_URL")
    try:
        print(ensure_database(url))
    except psycopg.OperationalError as error:
        print(
            f"无法连接 PostgreSQL（{error}）。请检查 DATABASE_URL 和数据库服务。", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

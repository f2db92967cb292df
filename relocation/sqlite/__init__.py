"""The embedded SQLite database, shared by the web server and the job worker.

``ENGINE = "relocation.sqlite"`` (set by the settings for every ``sqlite://``
``DATABASE_URL``) is Django's SQLite backend with one change: which lock a
transaction takes when it begins.

* A transaction that may write begins ``IMMEDIATE`` (the ``transaction_mode``
  option): it takes the write lock up front and waits for it (``SQLITE_TIMEOUT``)
  instead of failing with "database is locked" when two processes both try to
  turn a read lock into a write lock.
* A request that only reads (GET, HEAD, OPTIONS; ``DeferredReadsMiddleware``)
  begins its transaction ``DEFERRED``: in WAL mode a reader never waits for
  the writer, so pages keep answering while the job worker commits a large
  import.  A write inside such a request (rare: e.g. a dashboard refreshing
  its figures) still works when the database is free; it is the one thing
  that can meet "database is locked" while another process writes, and the
  code doing it catches that.
"""

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
  import.  Such a transaction cannot turn its read lock into the write lock
  once another connection has written since it began: SQLite answers
  "database is locked" at once, without waiting.  A write such a request must
  make goes through ``write_after_reads``, which runs it when the read
  transaction commits, in a transaction of its own that waits for the lock
  (the read audit of every page that shows personal data); a write it may
  skip catches the error instead (a dashboard refreshing its figures).
"""

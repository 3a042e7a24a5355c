"""One exception tree for the whole application.

::

    FactcheckError                 exit_code 1, http_status 500
    ├── BadInput                   exit_code 2, http_status 400  (nothing written)
    │   └── ImportRowError         a bad row in a claim import file (carries the line)
    ├── NotMigrated                exit_code 1  (run `factcheck db upgrade`)
    ├── NotFound                   exit_code 2, http_status 404 (carries the kind and id)
    ├── Conflict                   http_status 409 (stale version, lease held by another)
    ├── Forbidden                  http_status 403 (role does not allow the action)
    ├── AuditError                 unknown audit event kind
    ├── FetchError                 carries url and error_kind from sources.errors' vocabulary
    └── AdapterError               a discovery adapter failed (carries the adapter name)

Third-party errors are translated into these at the boundary that meets them
(`sources` for httpx and parsers), chained with ``from``. The CLI prints ``str(error)``
as one sentence and exits with ``exit_code``; the web app answers with ``http_status``.
"""

from __future__ import annotations


class FactcheckError(Exception):
    exit_code: int = 1
    http_status: int = 500


class BadInput(FactcheckError):
    exit_code = 2
    http_status = 400


class ImportRowError(BadInput):
    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}")


class NotMigrated(FactcheckError):
    def __init__(self, detail: str = "") -> None:
        message = "The database is not migrated; run `factcheck db upgrade`."
        if detail:
            message = f"{message[:-1]} ({detail})."
        super().__init__(message)


class NotFound(FactcheckError):
    exit_code = 2
    http_status = 404

    def __init__(self, kind: str, ident: object) -> None:
        self.kind = kind
        self.ident = ident
        super().__init__(f"No {kind} with id {ident}.")


class Conflict(FactcheckError):
    http_status = 409


class Forbidden(FactcheckError):
    http_status = 403


class AuditError(FactcheckError):
    pass


class FetchError(FactcheckError):
    def __init__(self, url: str, error_kind: str, message: str) -> None:
        self.url = url
        self.error_kind = error_kind
        super().__init__(message)


class AdapterError(FactcheckError):
    def __init__(self, adapter: str, message: str) -> None:
        self.adapter = adapter
        super().__init__(f"{adapter}: {message}")

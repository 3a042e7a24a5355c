"""One exception tree for the whole application.

::

    FactcheckError                 exit_code 1, http_status 500
    ├── BadInput                   exit_code 2, http_status 400  (nothing written)
    │   ├── ImportRowError         a bad row in a claim import file (carries the line)
    │   ├── BundleError            an audit bundle that cannot be read (flows.bundle)
    │   └── MalformedRequest       http_status 422: a request off the route's shape (web)
    ├── NotMigrated                exit_code 1  (run `factcheck db upgrade`)
    ├── NotFound                   exit_code 2, http_status 404 (carries the kind and id)
    │   └── NoPublishedVerdict     ClaimReview asked for an unpublished claim
    ├── Conflict                   http_status 409 (stale version, lease held by another)
    ├── Forbidden                  http_status 403 (role does not allow the action)
    │   └── CsrfRejected           a form without its CSRF token (web)
    ├── Unauthenticated            http_status 401: no session or token (web)
    ├── HTTPError                  a routing-level HTTP error in our vocabulary (web)
    ├── AuditError                 unknown audit event kind
    ├── ArchiveError               http_status 410: a WARC record missing or unreadable
    ├── ArchiveUnreadable          http_status 410: a fetch's archived copy (web)
    ├── SemanticUnavailable        the optional embedding model is not installed
    ├── LlmFailed                  the optional model server failed or answered off-shape
    ├── FetchError                 carries url and error_kind from sources.errors' vocabulary
    │   ├── BlockedAddress         a private/loopback address the settings do not allow
    │   ├── UnresolvableHost       DNS gave no address
    │   └── RobotsDisallowed       robots.txt forbids the URL
    └── AdapterError               a discovery adapter failed (carries the adapter name)
        ├── SourceUnreachable      the source's server did not answer
        ├── BadAnswer              it answered in a shape we cannot read
        └── AdapterMisconfigured   its settings are wrong

Subclasses live next to the code that raises them (``sources.address``, ``verdicts.web.
errors``, ...); ``tests/evidence/test_errors.py`` fails when one is missing from this tree.

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

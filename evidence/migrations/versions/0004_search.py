"""full-text search over claims and their evidence passages

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

PostgreSQL: GIN expression indexes on ``to_tsvector('english', ...)`` of a claim (text and
claimant) and of a passage; ``verdicts.search`` queries with the very same expressions, so
the planner uses them. SQLite: an FTS5 table ``claim_search`` (one row per claim, one per
evidence row with its passage's text) kept in sync by triggers, so no write path has to
remember it. Neither is a SQLModel table: the models-vs-migrations test skips them.
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CLAIM_TSV = "to_tsvector('english', coalesce(text, '') || ' ' || coalesce(claimant, ''))"
PASSAGE_TSV = "to_tsvector('english', text)"

_SQLITE_UP = (
    "CREATE VIRTUAL TABLE claim_search USING fts5("
    "body, claim_id UNINDEXED, evidence_id UNINDEXED, tokenize = 'porter unicode61')",
    "INSERT INTO claim_search (body, claim_id, evidence_id) "
    "SELECT text || ' ' || coalesce(claimant, ''), id, NULL FROM claim",
    "INSERT INTO claim_search (body, claim_id, evidence_id) "
    "SELECT p.text, e.claim_id, e.id FROM evidence e JOIN passage p ON p.id = e.passage_id",
    "CREATE TRIGGER claim_search_claim_ai AFTER INSERT ON claim BEGIN "
    "INSERT INTO claim_search (body, claim_id, evidence_id) "
    "VALUES (new.text || ' ' || coalesce(new.claimant, ''), new.id, NULL); END",
    "CREATE TRIGGER claim_search_claim_au AFTER UPDATE OF text, claimant ON claim BEGIN "
    "DELETE FROM claim_search WHERE claim_id = old.id AND evidence_id IS NULL; "
    "INSERT INTO claim_search (body, claim_id, evidence_id) "
    "VALUES (new.text || ' ' || coalesce(new.claimant, ''), new.id, NULL); END",
    "CREATE TRIGGER claim_search_claim_ad AFTER DELETE ON claim BEGIN "
    "DELETE FROM claim_search WHERE claim_id = old.id; END",
    "CREATE TRIGGER claim_search_evidence_ai AFTER INSERT ON evidence BEGIN "
    "INSERT INTO claim_search (body, claim_id, evidence_id) "
    "SELECT text, new.claim_id, new.id FROM passage WHERE id = new.passage_id; END",
    "CREATE TRIGGER claim_search_evidence_ad AFTER DELETE ON evidence BEGIN "
    "DELETE FROM claim_search WHERE evidence_id = old.id; END",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS claim_search_evidence_ad",
    "DROP TRIGGER IF EXISTS claim_search_evidence_ai",
    "DROP TRIGGER IF EXISTS claim_search_claim_ad",
    "DROP TRIGGER IF EXISTS claim_search_claim_au",
    "DROP TRIGGER IF EXISTS claim_search_claim_ai",
    "DROP TABLE IF EXISTS claim_search",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_search_claim ON claim USING gin ({CLAIM_TSV})")
        op.execute(f"CREATE INDEX ix_search_passage ON passage USING gin ({PASSAGE_TSV})")
        return
    for statement in _SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_search_passage")
        op.execute("DROP INDEX IF EXISTS ix_search_claim")
        return
    for statement in _SQLITE_DOWN:
        op.execute(statement)

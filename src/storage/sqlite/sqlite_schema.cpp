#include "storage/sqlite/sqlite_schema.hpp"

#include <array>
#include <string>

#include "storage/sqlite/sqlite_database.hpp"
#include "storage/sqlite/sqlite_transaction.hpp"

namespace postamt::storage::sqlite {
namespace {

// Version 1: the initial schema.
//
// Blob reference counts are kept by triggers on messages and queue_messages, so that rows
// removed by ON DELETE CASCADE (a deleted mailbox or account) drop their references exactly
// like rows removed one by one. Mailbox message counts and sizes are kept the same way, so
// STATUS and LIST do not scan the messages.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT;
INSERT INTO meta(key, value) VALUES ('last_uidvalidity', 0);

CREATE TABLE domains (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,              -- lower case, no trailing dot
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE accounts (
  id            INTEGER PRIMARY KEY,
  domain_id     INTEGER NOT NULL REFERENCES domains(id),
  address       TEXT NOT NULL COLLATE NOCASE UNIQUE,  -- NOCASE folds ASCII only
  password_hash TEXT NOT NULL,
  quota_bytes   INTEGER NOT NULL DEFAULT 0,
  disabled      INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX accounts_domain ON accounts(domain_id);

CREATE TABLE aliases (
  id          INTEGER PRIMARY KEY,
  domain_id   INTEGER NOT NULL REFERENCES domains(id),
  source      TEXT NOT NULL COLLATE NOCASE,  -- "local@domain" or "@domain"
  destination TEXT NOT NULL COLLATE NOCASE,
  UNIQUE (source, destination)
) STRICT;
CREATE INDEX aliases_domain ON aliases(domain_id);

CREATE TABLE mailboxes (
  id            INTEGER PRIMARY KEY,
  account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name          TEXT NOT NULL,
  uidvalidity   INTEGER NOT NULL,
  uidnext       INTEGER NOT NULL DEFAULT 1,
  highestmodseq INTEGER NOT NULL DEFAULT 1,
  special_use   TEXT NOT NULL DEFAULT '',
  message_count INTEGER NOT NULL DEFAULT 0,
  total_size    INTEGER NOT NULL DEFAULT 0,
  UNIQUE (account_id, name)
) STRICT;

CREATE TABLE blobs (
  id       TEXT PRIMARY KEY,                     -- lower-case hex SHA-256
  size     INTEGER NOT NULL,
  refcount INTEGER NOT NULL CHECK (refcount >= 0)
) STRICT, WITHOUT ROWID;
CREATE INDEX blobs_unreferenced ON blobs(refcount) WHERE refcount = 0;

CREATE TABLE messages (
  id            INTEGER PRIMARY KEY,
  mailbox_id    INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  uid           INTEGER NOT NULL,
  modseq        INTEGER NOT NULL,
  flags         TEXT NOT NULL DEFAULT '',       -- sorted, unique, separated by one space
  internal_date INTEGER NOT NULL,
  size          INTEGER NOT NULL,
  blob_id       TEXT NOT NULL REFERENCES blobs(id),
  mime_metadata BLOB NOT NULL,
  UNIQUE (mailbox_id, uid)
) STRICT;
CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);

CREATE TRIGGER messages_after_insert AFTER INSERT ON messages BEGIN
  INSERT INTO blobs(id, size, refcount) VALUES (NEW.blob_id, NEW.size, 1)
    ON CONFLICT(id) DO UPDATE SET refcount = refcount + 1;
  UPDATE mailboxes SET message_count = message_count + 1, total_size = total_size + NEW.size
    WHERE id = NEW.mailbox_id;
END;
CREATE TRIGGER messages_after_delete AFTER DELETE ON messages BEGIN
  UPDATE blobs SET refcount = refcount - 1 WHERE id = OLD.blob_id;
  UPDATE mailboxes SET message_count = message_count - 1, total_size = total_size - OLD.size
    WHERE id = OLD.mailbox_id;
END;

CREATE TABLE subscriptions (
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name       TEXT NOT NULL,
  PRIMARY KEY (account_id, name)
) STRICT, WITHOUT ROWID;

CREATE TABLE queue_messages (
  id         INTEGER PRIMARY KEY,
  sender     TEXT NOT NULL,                      -- "" for the null reverse-path
  blob_id    TEXT NOT NULL REFERENCES blobs(id),
  size       INTEGER NOT NULL,
  envid      TEXT NOT NULL DEFAULT '',
  ret        TEXT NOT NULL DEFAULT '' CHECK (ret IN ('', 'FULL', 'HDRS')),
  created_at INTEGER NOT NULL
) STRICT;

CREATE TRIGGER queue_messages_after_insert AFTER INSERT ON queue_messages BEGIN
  INSERT INTO blobs(id, size, refcount) VALUES (NEW.blob_id, NEW.size, 1)
    ON CONFLICT(id) DO UPDATE SET refcount = refcount + 1;
END;
CREATE TRIGGER queue_messages_after_delete AFTER DELETE ON queue_messages BEGIN
  UPDATE blobs SET refcount = refcount - 1 WHERE id = OLD.blob_id;
END;

CREATE TABLE queue_recipients (
  id              INTEGER PRIMARY KEY,
  message_id      INTEGER NOT NULL REFERENCES queue_messages(id) ON DELETE CASCADE,
  address         TEXT NOT NULL,
  orcpt           TEXT NOT NULL DEFAULT '',
  notify          TEXT NOT NULL DEFAULT '',
  state           TEXT NOT NULL
                  CHECK (state IN ('queued', 'deferred', 'delivered', 'bounced', 'held')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_reply      TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX queue_recipients_due ON queue_recipients(state, next_attempt_at);
CREATE INDEX queue_recipients_message ON queue_recipients(message_id);
)sql";

// Version 2: what the IMAP server needs beyond version 1.
// - expunged: every expunged UID with the MODSEQ of its removal, for QRESYNC VANISHED
//   (EARLIER) (RFC 7162 §3.2.5.2) and for other sessions' resync. Rows go with their mailbox.
// - mailboxes.first_recent_uid: the rev1 \Recent mark (RFC 3501 §2.3.2); UIDs at or above it
//   are recent. Existing mail is not new: the mark starts at UIDNEXT.
// - mailboxes.unseen_count / deleted_count: STATUS UNSEEN and the \Deleted count without
//   a scan, kept by the message triggers (recreated here to keep them in one UPDATE each).
//   Flags are stored canonical and space-separated, so instr() on ' flags ' finds one.
constexpr std::string_view kSchemaV2 = R"sql(
CREATE TABLE expunged (
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  uid        INTEGER NOT NULL,
  modseq     INTEGER NOT NULL,
  PRIMARY KEY (mailbox_id, uid)
) STRICT, WITHOUT ROWID;
CREATE INDEX expunged_modseq ON expunged(mailbox_id, modseq);

ALTER TABLE mailboxes ADD COLUMN first_recent_uid INTEGER NOT NULL DEFAULT 1;
ALTER TABLE mailboxes ADD COLUMN unseen_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN deleted_count INTEGER NOT NULL DEFAULT 0;
UPDATE mailboxes SET
  first_recent_uid = uidnext,
  unseen_count = (SELECT count(*) FROM messages
                  WHERE mailbox_id = mailboxes.id AND instr(' ' || flags || ' ', ' \Seen ') = 0),
  deleted_count = (SELECT count(*) FROM messages
                   WHERE mailbox_id = mailboxes.id AND instr(' ' || flags || ' ', ' \Deleted ') > 0);

DROP TRIGGER messages_after_insert;
DROP TRIGGER messages_after_delete;
CREATE TRIGGER messages_after_insert AFTER INSERT ON messages BEGIN
  INSERT INTO blobs(id, size, refcount) VALUES (NEW.blob_id, NEW.size, 1)
    ON CONFLICT(id) DO UPDATE SET refcount = refcount + 1;
  UPDATE mailboxes SET
    message_count = message_count + 1,
    total_size = total_size + NEW.size,
    unseen_count = unseen_count + (instr(' ' || NEW.flags || ' ', ' \Seen ') = 0),
    deleted_count = deleted_count + (instr(' ' || NEW.flags || ' ', ' \Deleted ') > 0)
    WHERE id = NEW.mailbox_id;
END;
CREATE TRIGGER messages_after_delete AFTER DELETE ON messages BEGIN
  UPDATE blobs SET refcount = refcount - 1 WHERE id = OLD.blob_id;
  UPDATE mailboxes SET
    message_count = message_count - 1,
    total_size = total_size - OLD.size,
    unseen_count = unseen_count - (instr(' ' || OLD.flags || ' ', ' \Seen ') = 0),
    deleted_count = deleted_count - (instr(' ' || OLD.flags || ' ', ' \Deleted ') > 0)
    WHERE id = OLD.mailbox_id;
END;
CREATE TRIGGER messages_after_flags AFTER UPDATE OF flags ON messages
  WHEN OLD.flags IS NOT NEW.flags BEGIN
  UPDATE mailboxes SET
    unseen_count = unseen_count + (instr(' ' || NEW.flags || ' ', ' \Seen ') = 0)
                                - (instr(' ' || OLD.flags || ' ', ' \Seen ') = 0),
    deleted_count = deleted_count + (instr(' ' || NEW.flags || ' ', ' \Deleted ') > 0)
                                  - (instr(' ' || OLD.flags || ' ', ' \Deleted ') > 0)
    WHERE id = NEW.mailbox_id;
END;
)sql";

// Version 3: a full-text index of the messages' searchable text, for SEARCH BODY / TEXT
// (RFC 9051 §6.4.4). It only narrows the messages a search looks at: the session still
// checks each candidate, so results keep the RFC's substring semantics.
// - blob_text_fts: one row per blob (copies and multi-recipient deliveries share one), the
//   text the IMAP layer extracted and case-folded. The trigram tokenizer makes every
//   substring of three or more characters a phrase query; case_sensitive 1 because the text
//   comes folded already (the SEARCH folding, not SQLite's). detail=full keeps positions so
//   a phrase matches exactly; the stored content lets a row be deleted (SQLite 3.40 cannot
//   delete from a contentless table).
// - blob_texts: which blob a row belongs to (id = the FTS rowid; AUTOINCREMENT, so an id is
//   never reused while an old row may still wait in blob_text_garbage). A row here is the
//   blob's "indexed" mark; it lives exactly while some message references the blob.
// - blob_text_garbage: FTS rows whose blob lost its last message. Triggers cannot delete
//   from the FTS table themselves (trusted_schema=OFF keeps virtual tables out of
//   triggers), so they list the rows here and purge_text_index() removes them. Until then
//   nothing finds them: every lookup goes through blob_texts.
// - blob_text_pending: blobs referenced by messages and not indexed yet, in order of
//   arrival (AUTOINCREMENT: the order never goes back, so an indexer's cursor stays valid).
//   Invariant: every message's blob is in blob_texts or in blob_text_pending, never both.
// - messages_blob: finds the messages of a blob (the triggers, candidates to UIDs).
constexpr std::string_view kSchemaV3 = R"sql(
CREATE VIRTUAL TABLE blob_text_fts USING fts5(
  text, tokenize = 'trigram case_sensitive 1', detail = full
);

CREATE TABLE blob_texts (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,     -- rowid in blob_text_fts
  blob_id TEXT NOT NULL UNIQUE
) STRICT;

CREATE TABLE blob_text_garbage (
  id INTEGER PRIMARY KEY                         -- rowid in blob_text_fts
) STRICT;

CREATE TABLE blob_text_pending (
  seq     INTEGER PRIMARY KEY AUTOINCREMENT,
  blob_id TEXT NOT NULL UNIQUE
) STRICT;

CREATE INDEX messages_blob ON messages(blob_id);

INSERT INTO blob_text_pending(blob_id)
  SELECT blob_id FROM messages GROUP BY blob_id ORDER BY min(id);

CREATE TRIGGER messages_after_insert_text AFTER INSERT ON messages
  WHEN NOT EXISTS (SELECT 1 FROM blob_texts WHERE blob_id = NEW.blob_id) BEGIN
  INSERT OR IGNORE INTO blob_text_pending(blob_id) VALUES (NEW.blob_id);
END;
CREATE TRIGGER messages_after_delete_text AFTER DELETE ON messages
  WHEN NOT EXISTS (SELECT 1 FROM messages WHERE blob_id = OLD.blob_id) BEGIN
  INSERT OR IGNORE INTO blob_text_garbage(id)
    SELECT id FROM blob_texts WHERE blob_id = OLD.blob_id;
  DELETE FROM blob_texts WHERE blob_id = OLD.blob_id;
  DELETE FROM blob_text_pending WHERE blob_id = OLD.blob_id;
END;
)sql";

// Version 4: the full-text index keeps no positions (detail=none). It only names
// candidates, which the session's matcher checks anyway, so "every trigram of the needle is
// in the text" is enough; a phrase (consecutive trigrams) needed positions, which made
// indexing about 1.7 times as costly and the index 4 times as large (measured on 400 texts
// of 4.5 KB). Every indexed blob goes back to the queue and is indexed again in the
// background; meanwhile its messages are candidates for every text search.
constexpr std::string_view kSchemaV4 = R"sql(
DROP TABLE blob_text_fts;
CREATE VIRTUAL TABLE blob_text_fts USING fts5(
  text, tokenize = 'trigram case_sensitive 1', detail = none
);
DELETE FROM blob_text_garbage;
INSERT OR IGNORE INTO blob_text_pending(blob_id) SELECT blob_id FROM blob_texts ORDER BY id;
DELETE FROM blob_texts;
)sql";

// Version 5: DMARC aggregate reports (RFC 7489 §7.2, RFC 9990; storage/api/dmarc_types.hpp).
// - dmarc_evaluations: our own evaluations at SMTP time, identical ones of one UTC day in
//   one row (`count`), so a busy day costs a row per distinct (source, result) and not per
//   message. `reported` counts those already sent in a report; the rest waits for the next.
//   The auth results are stored as text lists (fields separated by \x1f, entries by \x1e,
//   both removed from the values first).
// - dmarc_report_domains: per policy domain, the end of the period its last report covered.
// - dmarc_received_reports / _rows: reports other receivers sent about our domains; one
//   report per (reporter, report id), so a report read twice is stored once.
// - dmarc_ingest_cursors: per reports mailbox, the last UID read into the tables above.
constexpr std::string_view kSchemaV5 = R"sql(
CREATE TABLE dmarc_evaluations (
  id                INTEGER PRIMARY KEY,
  day               INTEGER NOT NULL,
  policy_domain     TEXT NOT NULL,
  policy_org_domain TEXT NOT NULL,
  source_ip         TEXT NOT NULL,
  header_from       TEXT NOT NULL,
  envelope_from     TEXT NOT NULL,
  policy            TEXT NOT NULL,
  disposition       TEXT NOT NULL,
  dkim_aligned      TEXT NOT NULL,
  spf_aligned       TEXT NOT NULL,
  spf_auth          TEXT NOT NULL,
  dkim_auth         TEXT NOT NULL,
  first_time        INTEGER NOT NULL,
  count             INTEGER NOT NULL,
  reported          INTEGER NOT NULL DEFAULT 0,
  UNIQUE (day, policy_domain, source_ip, header_from, envelope_from, disposition, dkim_aligned,
          spf_aligned, spf_auth, dkim_auth, policy, policy_org_domain)
) STRICT;
CREATE INDEX dmarc_evaluations_unreported ON dmarc_evaluations(policy_domain, day)
  WHERE count > reported;

CREATE TABLE dmarc_report_domains (
  policy_domain  TEXT PRIMARY KEY,
  reported_until INTEGER NOT NULL
) STRICT;

CREATE TABLE dmarc_received_reports (
  id            INTEGER PRIMARY KEY,
  org_name      TEXT NOT NULL,
  email         TEXT NOT NULL,
  report_id     TEXT NOT NULL,
  policy_domain TEXT NOT NULL,
  begin_time    INTEGER NOT NULL,
  end_time      INTEGER NOT NULL,
  received_at   INTEGER NOT NULL,
  UNIQUE (org_name, report_id)
) STRICT;
CREATE INDEX dmarc_received_domain ON dmarc_received_reports(policy_domain, end_time);

CREATE TABLE dmarc_received_rows (
  report        INTEGER NOT NULL REFERENCES dmarc_received_reports(id) ON DELETE CASCADE,
  source_ip     TEXT NOT NULL,
  count         INTEGER NOT NULL,
  disposition   TEXT NOT NULL,
  dkim_aligned  TEXT NOT NULL,
  spf_aligned   TEXT NOT NULL,
  header_from   TEXT NOT NULL,
  envelope_from TEXT NOT NULL,
  dkim_auth     TEXT NOT NULL,
  spf_auth      TEXT NOT NULL
) STRICT;
CREATE INDEX dmarc_received_rows_report ON dmarc_received_rows(report);

CREATE TABLE dmarc_ingest_cursors (
  mailbox_id INTEGER PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE,
  last_uid   INTEGER NOT NULL
) STRICT;
)sql";

// Version 6: per-account outbound limits and holds (issue 15 §6; storage/api/outbound_types.hpp).
// - queue_messages.account: the local account that submitted the message ('' otherwise),
//   so an account's hold keeps its queued mail back (due_queue skips it).
// - account_holds: one row per held account.
// - outbound_hours: per account and clock hour, what it sent and how its mail fared
//   (delivered/bounced counted by update_recipient); a week is kept for the baselines.
// - account_correspondents: addresses each account has written to (first-time recipients
//   are those missing here), the least recently used dropped beyond a bound.
constexpr std::string_view kSchemaV6 = R"sql(
ALTER TABLE queue_messages ADD COLUMN account TEXT NOT NULL DEFAULT '' COLLATE NOCASE;
CREATE INDEX queue_messages_account ON queue_messages(account) WHERE account <> '';

CREATE TABLE account_holds (
  account TEXT PRIMARY KEY COLLATE NOCASE,
  reason  TEXT NOT NULL,
  detail  TEXT NOT NULL,
  held_at INTEGER NOT NULL
) STRICT;

CREATE TABLE outbound_hours (
  account        TEXT NOT NULL COLLATE NOCASE,
  hour           INTEGER NOT NULL,
  messages       INTEGER NOT NULL DEFAULT 0,
  recipients     INTEGER NOT NULL DEFAULT 0,
  new_recipients INTEGER NOT NULL DEFAULT 0,
  delivered      INTEGER NOT NULL DEFAULT 0,
  bounced        INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (account, hour)
) STRICT, WITHOUT ROWID;
CREATE INDEX outbound_hours_hour ON outbound_hours(hour);

CREATE TABLE account_correspondents (
  account   TEXT NOT NULL COLLATE NOCASE,
  address   TEXT NOT NULL COLLATE NOCASE,
  last_used INTEGER NOT NULL,
  PRIMARY KEY (account, address)
) STRICT, WITHOUT ROWID;
CREATE INDEX account_correspondents_age ON account_correspondents(account, last_used);
)sql";

// Version 7: security events and bans (issue 15 §7, §8; storage/api/security_types.hpp).
// - security_events: the event stream `postamt security events` reads; bounded by age and
//   a row cap (prune_security_events).
// - security_bans: one row per banned address or network, kept after the ban ends so a
//   repeat offender's next ban lasts longer; the server polls the active ones, so the
//   CLI's unban (until = now) reaches it within seconds.
constexpr std::string_view kSchemaV7 = R"sql(
CREATE TABLE security_events (
  id       INTEGER PRIMARY KEY,
  at       INTEGER NOT NULL,
  kind     TEXT NOT NULL,
  ip       TEXT NOT NULL DEFAULT '',
  account  TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
  protocol TEXT NOT NULL DEFAULT '',
  fields   TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX security_events_at ON security_events(at);
CREATE INDEX security_events_account ON security_events(account, at) WHERE account <> '';

CREATE TABLE security_bans (
  target    TEXT PRIMARY KEY,
  reason    TEXT NOT NULL,
  detail    TEXT NOT NULL DEFAULT '',
  banned_at INTEGER NOT NULL,
  until     INTEGER NOT NULL,
  offences  INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX security_bans_until ON security_bans(until);
)sql";

// Version 8: the built-in spam classifier (issue 15 §5; storage/api/classifier_types.hpp).
// - classifier_tokens: per account ('' = the shared base of all accounts' lessons) and
//   token hash (64 bits, stored as a signed INTEGER), the spam and ham lessons it was in;
//   last_seen lets tokens seen once long ago be pruned.
// - classifier_totals: per account, the spam and ham lessons taught.
constexpr std::string_view kSchemaClassifier = R"sql(
CREATE TABLE classifier_tokens (
  account   TEXT NOT NULL COLLATE NOCASE,
  hash      INTEGER NOT NULL,
  spam      INTEGER NOT NULL DEFAULT 0,
  ham       INTEGER NOT NULL DEFAULT 0,
  last_seen INTEGER NOT NULL,
  PRIMARY KEY (account, hash)
) STRICT, WITHOUT ROWID;
CREATE INDEX classifier_tokens_age ON classifier_tokens(last_seen) WHERE spam + ham <= 1;

CREATE TABLE classifier_totals (
  account    TEXT PRIMARY KEY COLLATE NOCASE,
  spam       INTEGER NOT NULL DEFAULT 0,
  ham        INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
) STRICT;
)sql";

constexpr std::array<std::string_view, 8> kMigrations = {kSchemaV1, kSchemaV2, kSchemaV3, kSchemaV4,
                                                          kSchemaV5, kSchemaV6, kSchemaV7, kSchemaClassifier};

StoreResult<int> user_version(Database& db) {
  auto stmt = db.prepare("PRAGMA user_version");
  if (!stmt) return std::unexpected(std::move(stmt.error()));
  auto row = stmt->step();
  if (!row) return std::unexpected(std::move(row.error()));
  if (!*row) return storage_error(StorageError::Code::io, "PRAGMA user_version returned no row");
  return static_cast<int>(stmt->column_int64(0));
}

}  // namespace

std::span<const std::string_view> schema_migrations() { return kMigrations; }

StoreResult<int> migrate(Database& db) {
  const int known = static_cast<int>(kMigrations.size());
  while (true) {
    // The version is read inside each write transaction, so two processes opening the
    // same fresh database do not both apply a step.
    auto txn = Transaction::begin(db, Transaction::Mode::write);
    if (!txn) return std::unexpected(std::move(txn.error()));
    auto version = user_version(db);
    if (!version) return std::unexpected(std::move(version.error()));
    if (*version > known)
      return storage_error(StorageError::Code::invalid,
                           "the index database has schema version " + std::to_string(*version) +
                               ", newer than this Postamt knows (" + std::to_string(known) + ")");
    if (*version == known) return known;  // the read-only transaction rolls back harmlessly
    const std::size_t step = static_cast<std::size_t>(*version);
    auto applied = db.exec(std::string(kMigrations[step]) +
                           "\nPRAGMA user_version = " + std::to_string(*version + 1) + ";");
    if (!applied) {
      applied.error().message = "schema migration to version " + std::to_string(*version + 1) +
                                " failed: " + applied.error().message;
      return std::unexpected(std::move(applied.error()));
    }
    auto committed = txn->commit();
    if (!committed) return std::unexpected(std::move(committed.error()));
  }
}

}  // namespace postamt::storage::sqlite

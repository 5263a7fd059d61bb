-- The support-access log is evidence: who wrote a record and when are the database's to say, not the login's.
-- The console's role may insert only the columns it has something to say about; db_user comes from
-- session_user (the login, even under SET ROLE) and created_at from the server's clock, as defaults it cannot
-- override. It may not update, delete or truncate (never granted): the log is append-only for it.
ALTER TABLE support_access_log ALTER COLUMN db_user SET DEFAULT session_user;
REVOKE INSERT ON support_access_log FROM console_reader;
GRANT INSERT (tenant_id, os_user, client_host, category, detail, action, details) ON support_access_log TO console_reader;

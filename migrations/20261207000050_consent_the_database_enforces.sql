-- Consent the database enforces: a tenant may require its own live approval before the vendor's support login
-- reads any of its data. The console asks (support_access_requests, which the support login may only insert
-- into, like the access log); the SaaS application, under its own role, writes the tenant admin's answer
-- (support_access_approvals, never writable by the support login); and a RESTRICTIVE policy on every tenant
-- table lets rows through to the support login only while the tenant does not require consent, or an approval
-- for session_user (the login itself, whatever role it SETs) is live: not expired, not revoked.
--
-- Existing data keeps working: every tenant starts as 'not_required'.

-- The SaaS application's own role: it writes approvals when a tenant's admin answers a request. NOLOGIN here;
-- the application's login is a member of it.
DO $$
BEGIN
    CREATE ROLE tenant_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;

ALTER TABLE tenants
    ADD COLUMN support_consent text NOT NULL DEFAULT 'not_required'
        CHECK (support_consent IN ('not_required', 'required'));

CREATE TABLE support_access_requests (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    db_user     text NOT NULL DEFAULT session_user,
    os_user     text NOT NULL,
    category    text NOT NULL CHECK (category IN ('support-ticket', 'incident', 'audit-request', 'other')),
    detail      text NOT NULL,
    minutes     integer NOT NULL CHECK (minutes BETWEEN 1 AND 10080),
    scope       text NOT NULL DEFAULT 'read' CHECK (scope IN ('read', 'export')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX support_access_requests_tenant_created ON support_access_requests (tenant_id, created_at DESC, id DESC);

CREATE TABLE support_access_approvals (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    request_id   bigint,
    grantee      text NOT NULL,
    approved_by  text NOT NULL,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    scope        text NOT NULL DEFAULT 'read' CHECK (scope IN ('read', 'export')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, request_id) REFERENCES support_access_requests (tenant_id, id) ON DELETE SET NULL (request_id)
);
-- The restrictive policy's lookup: the live approvals of one tenant for one login.
CREATE INDEX support_access_approvals_live ON support_access_approvals (tenant_id, grantee, expires_at DESC);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['support_access_requests', 'support_access_approvals'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = NULLIF(current_setting(''app.current_tenant_id'', true), '''')::uuid) '
            'WITH CHECK (tenant_id = NULLIF(current_setting(''app.current_tenant_id'', true), '''')::uuid)', t);
    END LOOP;
END
$$;

-- The support login reads a tenant's data only with the tenant's consent. RESTRICTIVE: it narrows what the
-- permissive tenant_isolation policies allow, for console_reader only (the application is not affected), row by
-- row on the row's own tenant: a row passes when its tenant is not among those that refuse the login right now
-- (consent required, no live approval for session_user). The first branch is the same answer for the tenant
-- the transaction is set to, computed once per statement (uncorrelated sub-selects run as InitPlans), so the
-- rows a console scope reads cost one comparison each: an export of a million rows pays nothing measurable.
-- The second branch, a hashed sub-select, answers for any other row a permissive policy might let through.
CREATE INDEX tenants_support_consent_required ON tenants (id) WHERE support_consent = 'required';
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['roles', 'memberships', 'audit_logs'] LOOP
        EXECUTE format($p$
            CREATE POLICY support_consent ON %I AS RESTRICTIVE FOR SELECT TO console_reader USING (
                ((SELECT EXISTS (SELECT 1 FROM tenants c
                                  WHERE c.id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid
                                    AND c.support_consent = 'not_required')
                      OR EXISTS (SELECT 1 FROM support_access_approvals a
                                  WHERE a.tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid
                                    AND a.grantee = session_user AND a.revoked_at IS NULL AND a.expires_at > now()))
                 AND tenant_id = (SELECT NULLIF(current_setting('app.current_tenant_id', true), '')::uuid))
                OR tenant_id NOT IN (SELECT c.id FROM tenants c
                                      WHERE c.support_consent = 'required'
                                        AND NOT EXISTS (SELECT 1 FROM support_access_approvals a
                                                         WHERE a.tenant_id = c.id AND a.grantee = session_user
                                                           AND a.revoked_at IS NULL AND a.expires_at > now())))
        $p$, t);
    END LOOP;
END
$$;
-- users is reached through memberships (its policy reads memberships as the login), so it follows.

-- An approval written or revoked wakes a console that is waiting: the payload names the tenant only.
CREATE FUNCTION support_access_notify() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, public
AS $$
BEGIN
    PERFORM pg_notify('support_access', json_build_object('tenant_id', NEW.tenant_id, 'approval_id', NEW.id)::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER support_access_notify AFTER INSERT OR UPDATE ON support_access_approvals
    FOR EACH ROW EXECUTE FUNCTION support_access_notify();

-- The support login asks and reads the answers; it never writes one.
GRANT SELECT ON support_access_requests, support_access_approvals TO console_reader;
GRANT INSERT (tenant_id, os_user, category, detail, minutes, scope) ON support_access_requests TO console_reader;
-- The application answers.
GRANT USAGE ON SCHEMA public TO tenant_app;
GRANT SELECT ON tenants, support_access_requests TO tenant_app;
GRANT SELECT, INSERT, UPDATE (revoked_at) ON support_access_approvals TO tenant_app;
CREATE POLICY tenant_app_answers ON support_access_approvals TO tenant_app USING (true) WITH CHECK (true);
CREATE POLICY tenant_app_reads ON support_access_requests FOR SELECT TO tenant_app USING (true);

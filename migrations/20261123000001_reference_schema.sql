-- The reference multi-tenant schema Tenant Console reads by default.
--
-- Every tenant-owned table: tenant column NOT NULL with a cascading foreign key, RLS ENABLED and FORCED,
-- one policy that reads the transaction-local setting app.current_tenant_id through NULLIF(.., '') so that an
-- unset (NULL) or reset ('') setting matches no row instead of raising, an index leading with the tenant column,
-- and unique constraints that include the tenant column (a global unique constraint would reveal other tenants'
-- values through "duplicate key" errors).

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The console's login. Cluster-wide, so it may already exist (another database of the same cluster, or a
-- parallel test creating it at the same moment): both cases are fine.
DO $$
BEGIN
    CREATE ROLE console_reader LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;

CREATE TABLE tenants (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name        text NOT NULL,
    plan        text NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'pro', 'enterprise')),
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- Substring search on slug and name stays fast on 10,000+ tenants.
CREATE INDEX tenants_name_trgm ON tenants USING gin (name gin_trgm_ops);
CREATE INDEX tenants_slug_trgm ON tenants USING gin (slug gin_trgm_ops);
CREATE INDEX tenants_created_at ON tenants (created_at, id);

-- Users are global: one person may belong to several tenants.
CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL UNIQUE,
    display_name  text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE roles (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (name ~ '^[A-Za-z0-9_.-]{1,64}$'),
    description  text NOT NULL DEFAULT '',
    permissions  text[] NOT NULL DEFAULT '{}',
    is_builtin   boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE memberships (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (tenant_id, role) REFERENCES roles (tenant_id, name) ON UPDATE CASCADE
);
CREATE INDEX memberships_tenant_role ON memberships (tenant_id, role);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE audit_logs (
    id             bigint GENERATED ALWAYS AS IDENTITY,
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    actor_id       uuid REFERENCES users (id) ON DELETE SET NULL,
    action         text NOT NULL,
    resource_type  text,
    resource_id    text,
    ip             inet,
    user_agent     text,
    metadata       jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
-- Newest-first keyset pagination within a tenant: (created_at, id) < (cursor) walks this index.
CREATE INDEX audit_logs_tenant_created ON audit_logs (tenant_id, created_at DESC, id DESC);
CREATE INDEX audit_logs_tenant_action ON audit_logs (tenant_id, action text_pattern_ops, created_at DESC);

-- Support access transparency: who at the vendor looked at this tenant, and why. Tenant-scoped, so the
-- tenant's own admins can read it; the console may INSERT here and nowhere else.
CREATE TABLE support_access_log (
    id           bigint GENERATED ALWAYS AS IDENTITY,
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    db_user      text NOT NULL DEFAULT current_user,
    os_user      text NOT NULL,
    client_host  text NOT NULL,
    category     text NOT NULL CHECK (category IN ('support-ticket', 'incident', 'audit-request', 'other', 'none')),
    detail       text NOT NULL DEFAULT '',
    action       text NOT NULL,
    details      jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX support_access_log_tenant_created ON support_access_log (tenant_id, created_at DESC, id DESC);

-- Row-level security: enabled and forced (the owner is subject to it too) on every tenant-owned table.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['roles', 'memberships', 'audit_logs', 'support_access_log'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = NULLIF(current_setting(''app.current_tenant_id'', true), '''')::uuid) '
            'WITH CHECK (tenant_id = NULLIF(current_setting(''app.current_tenant_id'', true), '''')::uuid)', t);
    END LOOP;
END
$$;

-- The console's privileges: read the tenant tables, write only its own access log.
GRANT USAGE ON SCHEMA public TO console_reader;
GRANT SELECT ON tenants, users, roles, memberships, audit_logs, support_access_log TO console_reader;
GRANT INSERT ON support_access_log TO console_reader;

-- Demo data: a handful of named tenants with members, custom roles and a few thousand audit events.
-- Deterministic ids (md5 of a name) so the README and tests can name them. Some audit text is hostile on
-- purpose: spreadsheet formulas, commas, quotes, newlines, non-ASCII.
SET session_replication_role = replica;  -- seeding runs as the owner/superuser; skip FK triggers for speed

INSERT INTO tenants (id, slug, name, plan, status, created_at)
SELECT md5('tenant:' || slug)::uuid, slug, name, plan, status, now() - (ord * interval '37 days')
  FROM (VALUES
    (1, 'acme',      'Acme Corporation',          'enterprise', 'active'),
    (2, 'globex',    'Globex, Inc.',              'pro',        'active'),
    (3, 'initech',   'Initech "Software"',        'pro',        'active'),
    (4, 'umbrella',  'Umbrella Health',           'enterprise', 'suspended'),
    (5, 'soylent',   'Société Soylent Ünited',    'free',       'active'),
    (6, 'hooli',     'Hooli =HYPERLINK("x")',     'free',       'active')
  ) AS t(ord, slug, name, plan, status);

INSERT INTO users (id, email, display_name, created_at)
SELECT md5('user:' || n)::uuid,
       CASE WHEN n = 7 THEN '=cmd|'' /C calc''!A0@evil.example' ELSE 'user' || n || '@example.com' END,
       (ARRAY['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Edsger Dijkstra', 'Barbara Liskov',
              'Zoë Ünïcode', 'O''Brien, Pat', 'Line
Break'])[1 + n % 8] || ' ' || n,
       now() - (n * interval '3 days')
  FROM generate_series(1, 60) n;

-- Built-in roles for every tenant, plus custom roles for some.
INSERT INTO roles (tenant_id, name, description, permissions, is_builtin)
SELECT t.id, r.name, r.description, r.permissions, true
  FROM tenants t
 CROSS JOIN (VALUES
    ('OWNER',  'Full control, billing and deletion', ARRAY['tenant:manage','billing:manage','members:manage','roles:manage','audit:read','data:read','data:write']),
    ('ADMIN',  'Manage members and settings',        ARRAY['members:manage','roles:manage','audit:read','data:read','data:write']),
    ('MEMBER', 'Use the product',                    ARRAY['data:read','data:write']),
    ('VIEWER', 'Read only',                          ARRAY['data:read'])
 ) AS r(name, description, permissions);
INSERT INTO roles (tenant_id, name, description, permissions, is_builtin)
VALUES
  (md5('tenant:acme')::uuid,     'BILLING', 'Finance team',          ARRAY['billing:manage','data:read'], false),
  (md5('tenant:acme')::uuid,     'AUDITOR', 'External auditors',     ARRAY['audit:read'], false),
  (md5('tenant:globex')::uuid,   'SUPPORT', 'Tier 1 support',        ARRAY['data:read','members:read'], false),
  (md5('tenant:umbrella')::uuid, 'DPO',     'Data protection officer', ARRAY['audit:read','data:read'], false);

-- Memberships: each tenant has its own slice of users (some users belong to two tenants).
INSERT INTO memberships (tenant_id, user_id, role, created_at)
SELECT t.id, md5('user:' || u.n)::uuid,
       CASE WHEN u.k = 0 THEN 'OWNER'
            WHEN u.k < 3 THEN 'ADMIN'
            WHEN t.slug = 'acme' AND u.k = 3 THEN 'BILLING'
            WHEN t.slug = 'acme' AND u.k = 4 THEN 'AUDITOR'
            WHEN t.slug = 'globex' AND u.k = 3 THEN 'SUPPORT'
            WHEN t.slug = 'umbrella' AND u.k = 3 THEN 'DPO'
            WHEN u.k % 3 = 0 THEN 'VIEWER'
            ELSE 'MEMBER' END,
       now() - (u.k * interval '5 days')
  FROM (SELECT id, slug, row_number() OVER (ORDER BY slug) - 1 AS i FROM tenants) t
 CROSS JOIN LATERAL (SELECT k, 1 + ((t.i * 9 + k) % 60) AS n FROM generate_series(0, 11) k) u;

-- Audit events: ~600 per tenant (acme: 3000), varied actions, some hostile text.
INSERT INTO audit_logs (tenant_id, actor_id, action, resource_type, resource_id, ip, user_agent, metadata, created_at)
SELECT t.id,
       md5('user:' || (1 + ((t.i * 9 + g % 12) % 60)))::uuid,
       (ARRAY['member.invited','member.removed','member.role_changed','auth.login','auth.logout',
              'auth.login_failed','project.created','project.deleted','invoice.paid','settings.updated',
              'api_key.created','export.requested'])[1 + g % 12],
       (ARRAY['member','session','project','invoice','settings','api_key'])[1 + g % 6],
       CASE g % 97
         WHEN 0 THEN '=HYPERLINK("http://evil.example","click")'
         WHEN 1 THEN '+SUM(A1:A9)'
         WHEN 2 THEN '-2+3'
         WHEN 3 THEN '@SUM(1)'
         WHEN 4 THEN E'\tTabbed'
         WHEN 5 THEN E'\rCarriage'
         WHEN 6 THEN 'comma, "quoted" value'
         WHEN 7 THEN E'multi\nline\nvalue'
         WHEN 8 THEN 'naïve café ✓ 日本語'
         ELSE 'res-' || (g % 500) END,
       ('10.' || (t.i % 250) || '.' || (g % 250) || '.' || (1 + g % 200))::inet,
       CASE WHEN g % 50 = 0 THEN '=1+1' ELSE 'Mozilla/5.0 (X11; Linux x86_64) Demo/' || (g % 7) END,
       jsonb_build_object('seq', g, 'tenant', t.slug,
                          'note', CASE WHEN g % 89 = 0 THEN '=HYPERLINK("x")' ELSE 'ok' END,
                          'text', CASE WHEN g % 61 = 0 THEN E'line1\nline2, "q"' ELSE 'plain' END),
       now() - (g * interval '17 minutes') - (t.i * interval '1 second')
  FROM (SELECT id, slug, row_number() OVER (ORDER BY slug) - 1 AS i FROM tenants) t
 CROSS JOIN LATERAL generate_series(1, CASE WHEN t.slug = 'acme' THEN 3000 ELSE 600 END) g;

INSERT INTO support_access_log (tenant_id, db_user, os_user, client_host, category, detail, action, details, created_at)
SELECT id, 'console_reader', 'demo', 'demo-host', 'support-ticket', 'ZD-1001', 'view', '{}', now() - interval '2 days'
  FROM tenants WHERE slug IN ('acme', 'globex');

SET session_replication_role = DEFAULT;
ANALYZE;

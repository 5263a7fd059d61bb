-- Benchmark data: 10,000 tenants, 200,000 users, 300,000 memberships, 10,000,000 audit rows, three tenants
-- (big-1, big-2, big-3) with 1,000,000 rows each. Set-based: ids are md5 of an index, so every table is
-- generated without joins. Run on an empty, freshly migrated database, as its owner or a superuser.
SET session_replication_role = replica;
SET synchronous_commit = off;
SET maintenance_work_mem = '512MB';

INSERT INTO tenants (id, slug, name, plan, status, created_at)
SELECT md5('tenant:' || i)::uuid,
       CASE WHEN i < 3 THEN 'big-' || (i + 1) ELSE 'tenant-' || lpad(i::text, 5, '0') END,
       CASE WHEN i < 3 THEN 'Big Customer ' || (i + 1)
            ELSE (ARRAY['Acme','Globex','Initech','Umbrella','Hooli','Stark','Wayne','Tyrell','Cyberdyne','Wonka'])[1 + i % 10]
                 || ' ' || (ARRAY['Labs','Systems','Health','Bank','Retail','Logistics','Media','Energy'])[1 + (i / 10) % 8]
                 || ' ' || i END,
       (ARRAY['free','pro','enterprise'])[1 + i % 3], 'active',
       now() - (i * interval '47 minutes')
  FROM generate_series(0, 9999) i;

INSERT INTO users (id, email, display_name, created_at)
SELECT md5('user:' || n)::uuid, 'user' || n || '@bench.example', 'User ' || n, now() - (n * interval '2 minutes')
  FROM generate_series(0, 199999) n;

INSERT INTO roles (tenant_id, name, description, permissions, is_builtin)
SELECT md5('tenant:' || i)::uuid, r.name, r.name, r.permissions, true
  FROM generate_series(0, 9999) i
 CROSS JOIN (VALUES ('OWNER', ARRAY['tenant:manage','members:manage','audit:read']),
                    ('ADMIN', ARRAY['members:manage','audit:read']),
                    ('MEMBER', ARRAY['data:read','data:write']),
                    ('VIEWER', ARRAY['data:read'])) AS r(name, permissions);

-- 30 members a tenant: users (i*20 + k) mod 200000, k < 30, so neighbours share some users.
INSERT INTO memberships (tenant_id, user_id, role, created_at)
SELECT md5('tenant:' || i)::uuid, md5('user:' || ((i * 20 + k) % 200000))::uuid,
       CASE WHEN k = 0 THEN 'OWNER' WHEN k < 3 THEN 'ADMIN' WHEN k % 4 = 0 THEN 'VIEWER' ELSE 'MEMBER' END,
       now() - (k * interval '3 days')
  FROM generate_series(0, 9999) i CROSS JOIN generate_series(0, 29) k;

-- Audit rows are loaded without their secondary indexes, which are rebuilt once at the end.
DROP INDEX audit_logs_tenant_created;
DROP INDEX audit_logs_tenant_action;

-- 3 x 1,000,000 rows for the big tenants; 700 rows each for the other 9,997, and one more for 2,100 of them
-- (6,997,900 + 2,100 = 7,000,000): 10,000,000 in all.
INSERT INTO audit_logs (tenant_id, actor_id, action, resource_type, resource_id, ip, user_agent, metadata, created_at)
SELECT md5('tenant:' || t)::uuid,
       md5('user:' || ((t * 20 + g % 30) % 200000))::uuid,
       (ARRAY['member.invited','member.removed','member.role_changed','auth.login','auth.logout',
              'project.created','project.deleted','invoice.paid','settings.updated','api_key.created'])[1 + g % 10],
       (ARRAY['member','session','project','invoice','settings'])[1 + g % 5],
       CASE WHEN g % 1000 = 0 THEN '=HYPERLINK("http://evil.example")' ELSE 'res-' || (g % 5000) END,
       '10.1.2.3'::inet,
       'Mozilla/5.0 Bench',
       jsonb_build_object('seq', g),
       now() - (g * interval '30 seconds')
  FROM generate_series(0, 2) t CROSS JOIN generate_series(1, 1000000) g;

INSERT INTO audit_logs (tenant_id, actor_id, action, resource_type, resource_id, ip, user_agent, metadata, created_at)
SELECT md5('tenant:' || t)::uuid,
       md5('user:' || ((t * 20 + g % 30) % 200000))::uuid,
       (ARRAY['member.invited','auth.login','auth.logout','project.created','settings.updated'])[1 + g % 5],
       'project', 'res-' || g, '10.1.2.3'::inet, 'Mozilla/5.0 Bench', jsonb_build_object('seq', g),
       now() - (g * interval '1 hour') - (t * interval '1 second')
  FROM generate_series(3, 9999) t
 CROSS JOIN LATERAL generate_series(1, CASE WHEN t < 2103 THEN 701 ELSE 700 END) g;

CREATE INDEX audit_logs_tenant_created ON audit_logs (tenant_id, created_at DESC, id DESC) INCLUDE (actor_id);
CREATE INDEX audit_logs_tenant_action ON audit_logs (tenant_id, action text_pattern_ops, created_at DESC);

SET session_replication_role = DEFAULT;
-- VACUUM ANALYZE runs after this script, outside its transaction.

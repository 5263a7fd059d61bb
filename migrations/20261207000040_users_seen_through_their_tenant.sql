-- users has no tenant column, and memberships.user_id and audit_logs.actor_id point at it: RLS on the tenant
-- tables did not cover it, and console_reader could read every tenant's members with one SELECT. The console's
-- login now sees a user only while the tenant it is set to has that user as a member (the console reads members
-- through this policy). Other roles of the application need policies of their own on users once RLS is on
-- (the owner, who migrates, is not subject to it).
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY members_of_current_tenant ON users FOR SELECT TO console_reader
    USING (EXISTS (SELECT 1 FROM memberships m
                    WHERE m.user_id = users.id
                      AND m.tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid));

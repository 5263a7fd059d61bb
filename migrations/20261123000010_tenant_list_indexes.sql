-- Indexes for the tenant list (measured on the 10,000-tenant bench seed, PG 15, 2 cores).
--
-- Search matches a substring of the id as well as of the slug and name. All three arms of that OR need a
-- trigram index, or PostgreSQL cannot combine them (BitmapOr) and scans the whole table for every search:
-- ~25-30 ms per search without this index, 0.5-4 ms with it.
CREATE INDEX IF NOT EXISTS tenants_id_trgm ON tenants USING gin ((id::text) gin_trgm_ops);
-- The list is sorted by name (then id) by default: the first page without a search walks this index
-- (~1 ms) instead of sorting all 10,000 tenants (~8 ms), and a search that matches many tenants stops
-- after one page's worth of matches.
CREATE INDEX IF NOT EXISTS tenants_name_id ON tenants (name, id);
-- IF NOT EXISTS: benches/browse.sh gives a bench database seeded before this migration the same indexes.

-- A 1-2 letter tenant search ("ac", "zq") has no trigram to use, so it read every tenant's searchable name: a
-- few milliseconds on 10,000 tenants, most of it for a text found nowhere (benches/browse.sh: p95 1.8-3.6 ms).
-- search_grams holds the distinct single letters and letter pairs of the searchable name and slug (the value of
-- search_name, 20261207000060) in a GIN index: a short search asks the index for the tenants holding its pair
-- first, and a rare pair is answered from a handful of rows; a common one ("e") still walks the name index and
-- stops at the page's end (the planner weighs the two with the array's element statistics).
--
-- tc_searchable is the searchable expression of crates/core/src/sql/mod.rs `searchable`, character for
-- character (a test compares them, and another compares search_grams with tc_search_grams(search_name) on every
-- seeded tenant). A generated column cannot read another generated column, hence the expression once more here.
-- The console uses the column when the tenants table has one named search_grams (text[]) beside search_name.
CREATE OR REPLACE FUNCTION tc_searchable(t text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN translate((CASE WHEN octet_length(t) <> char_length(t) THEN translate(lower(t), 'ÀÁÂÃÄÅàáâãäåĀāĂăĄąÇçĆćĈĉĊċČčĎďĐđÈÉÊËèéêëĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĦħÌÍÎÏìíîïĨĩĪīĬĭĮįİıĴĵĶķĹĺĻļĽľĿŀŁłÑñŃńŅņŇňÒÓÔÕÖØòóôõöøŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšȘșŢţȚțŤťŦŧÙÚÛÜùúûüŨũŪūŬŭŮůŰűŲųŴŵÝýÿŶŷŸŹźŻżŽž', 'aaaaaaaaaaaaaaaaaaccccccccccddddeeeeeeeeeeeeeeeeeegggggggghhhhiiiiiiiiiiiiiiiiiijjkkllllllllllnnnnnnnnoooooooooooooooooorrrrrrssssssssssttttttttuuuuuuuuuuuuuuuuuuuuwwyyyyyyzzzzzz') ELSE lower(t) END), ' 	!"#$%&''()*+,-./:;<=>?@[]^_`{|}~ ‘’“”–—·«»', '');

CREATE OR REPLACE FUNCTION tc_search_grams(searchable text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ARRAY(
        SELECT DISTINCT substr(searchable, i, n)
        FROM generate_series(1, char_length(searchable)) AS i, (VALUES (1), (2)) AS len(n)
        WHERE i + n - 1 <= char_length(searchable) AND strpos(substr(searchable, i, n), ' ') = 0
        ORDER BY 1
    );

ALTER TABLE tenants ADD COLUMN IF NOT EXISTS search_grams text[]
    GENERATED ALWAYS AS (tc_search_grams(tc_searchable(name) || ' ' || tc_searchable(slug))) STORED;
CREATE INDEX IF NOT EXISTS tenants_search_grams ON tenants USING gin (search_grams);

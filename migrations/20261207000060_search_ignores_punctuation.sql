-- Tenant search ignores white space and punctuation as well as case and accents: "Globex Inc" finds
-- "Globex, Inc.". The name is compared folded (the expression of 20261126000020) with white space and
-- punctuation removed: the expression of crates/core/src/sql/mod.rs `searchable`, character for character (the
-- character list holds a tab). It is kept in a stored generated column, because computing it costs 4 µs a row
-- (translate over a set of 40 characters): a 1-2 letter search, which no trigram index can serve, reads every
-- tenant, and must stay a few milliseconds on 10,000. The slug, made searchable the same way, follows after a
-- space (a search text never holds one, so no match spans the two): one LIKE a row instead of a LIKE and an
-- ILIKE. The console uses the column when the tenants table has one named search_name, and the expressions
-- otherwise (a mapped schema: correct, slower on short searches).
ALTER TABLE tenants ADD COLUMN IF NOT EXISTS search_name text GENERATED ALWAYS AS (translate((CASE WHEN octet_length(name) <> char_length(name) THEN translate(lower(name), 'ÀÁÂÃÄÅàáâãäåĀāĂăĄąÇçĆćĈĉĊċČčĎďĐđÈÉÊËèéêëĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĦħÌÍÎÏìíîïĨĩĪīĬĭĮįİıĴĵĶķĹĺĻļĽľĿŀŁłÑñŃńŅņŇňÒÓÔÕÖØòóôõöøŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšȘșŢţȚțŤťŦŧÙÚÛÜùúûüŨũŪūŬŭŮůŰűŲųŴŵÝýÿŶŷŸŹźŻżŽž', 'aaaaaaaaaaaaaaaaaaccccccccccddddeeeeeeeeeeeeeeeeeegggggggghhhhiiiiiiiiiiiiiiiiiijjkkllllllllllnnnnnnnnoooooooooooooooooorrrrrrssssssssssttttttttuuuuuuuuuuuuuuuuuuuuwwyyyyyyzzzzzz') ELSE lower(name) END), ' 	!"#$%&''()*+,-./:;<=>?@[]^_`{|}~ ‘’“”–—·«»', '') || ' ' || translate((CASE WHEN octet_length(slug) <> char_length(slug) THEN translate(lower(slug), 'ÀÁÂÃÄÅàáâãäåĀāĂăĄąÇçĆćĈĉĊċČčĎďĐđÈÉÊËèéêëĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĦħÌÍÎÏìíîïĨĩĪīĬĭĮįİıĴĵĶķĹĺĻļĽľĿŀŁłÑñŃńŅņŇňÒÓÔÕÖØòóôõöøŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšȘșŢţȚțŤťŦŧÙÚÛÜùúûüŨũŪūŬŭŮůŰűŲųŴŵÝýÿŶŷŸŹźŻżŽž', 'aaaaaaaaaaaaaaaaaaccccccccccddddeeeeeeeeeeeeeeeeeegggggggghhhhiiiiiiiiiiiiiiiiiijjkkllllllllllnnnnnnnnoooooooooooooooooorrrrrrssssssssssttttttttuuuuuuuuuuuuuuuuuuuuwwyyyyyyzzzzzz') ELSE lower(slug) END), ' 	!"#$%&''()*+,-./:;<=>?@[]^_`{|}~ ‘’“”–—·«»', '')) STORED;
CREATE INDEX IF NOT EXISTS tenants_search_name_trgm ON tenants USING gin (search_name gin_trgm_ops);

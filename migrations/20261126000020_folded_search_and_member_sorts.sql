-- Tenant search is accent- and case-insensitive ("societe" finds "Société Générale", "zurich" finds "Zürich"):
-- the name is compared folded (lowercased; accented Latin letters translated to their base letter, only in names
-- that have a non-ASCII letter), the expression of crates/core/src/sql/mod.rs `folded`, character for
-- character; this trigram index on it keeps a search an index read on 10,000 tenants. Members sorted by joined
-- date: an index per tenant on it.
CREATE INDEX IF NOT EXISTS tenants_name_folded_trgm ON tenants
  USING gin ((CASE WHEN octet_length(name) <> char_length(name) THEN translate(lower(name), 'ÀÁÂÃÄÅàáâãäåĀāĂăĄąÇçĆćĈĉĊċČčĎďĐđÈÉÊËèéêëĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĦħÌÍÎÏìíîïĨĩĪīĬĭĮįİıĴĵĶķĹĺĻļĽľĿŀŁłÑñŃńŅņŇňÒÓÔÕÖØòóôõöøŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšȘșŢţȚțŤťŦŧÙÚÛÜùúûüŨũŪūŬŭŮůŰűŲųŴŵÝýÿŶŷŸŹźŻżŽž', 'aaaaaaaaaaaaaaaaaaccccccccccddddeeeeeeeeeeeeeeeeeegggggggghhhhiiiiiiiiiiiiiiiiiijjkkllllllllllnnnnnnnnoooooooooooooooooorrrrrrssssssssssttttttttuuuuuuuuuuuuuuuuuuuuwwyyyyyyzzzzzz') ELSE lower(name) END) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS memberships_tenant_created ON memberships (tenant_id, created_at, user_id);

-- Tenant search is accent- and case-insensitive ("societe" finds "Société Générale", "zurich" finds "Zürich"):
-- the name is compared folded (lower() and translate() of accented Latin letters, the expression of
-- crates/core/src/sql/mod.rs `folded`, character for character), and this trigram index on the folded name
-- keeps a search an index read on 10,000 tenants. members joined-date sort: an index per tenant on it.
CREATE INDEX IF NOT EXISTS tenants_name_folded_trgm ON tenants
  USING gin ((translate(lower(name), 'ÀÁÂÃÄÅàáâãäåĀāĂăĄąÇçĆćĈĉĊċČčĎďĐđÈÉÊËèéêëĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĦħÌÍÎÏìíîïĨĩĪīĬĭĮįİıĴĵĶķĹĺĻļĽľĿŀŁłÑñŃńŅņŇňÒÓÔÕÖØòóôõöøŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšȘșŢţȚțŤťŦŧÙÚÛÜùúûüŨũŪūŬŭŮůŰűŲųŴŵÝýÿŶŷŸŹźŻżŽž', 'aaaaaaaaaaaaaaaaaaccccccccccddddeeeeeeeeeeeeeeeeeegggggggghhhhiiiiiiiiiiiiiiiiiijjkkllllllllllnnnnnnnnoooooooooooooooooorrrrrrssssssssssttttttttuuuuuuuuuuuuuuuuuuuuwwyyyyyyzzzzzz')) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS memberships_tenant_created ON memberships (tenant_id, created_at, user_id);

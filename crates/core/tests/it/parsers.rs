//! Every parser of user input, fed generated input: never a panic, and every failure a clear error of the
//! user's kind (times, filters' columns, cursors, reasons, sort keys, mapping and profile files).

use proptest::prelude::*;
use tenant_console_core::access::AccessReason;
use tenant_console_core::audit::parse_time;
use tenant_console_core::export::Column;
use tenant_console_core::tenants::TenantSort;
use tenant_console_core::{cursor, Mapping};

/// Text that looks like what the parsers expect, broken in the ways people and attackers break it.
fn near_times() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        (
            any::<i64>(),
            prop::sample::select(vec!["d", "h", "m", "s", ""])
        )
            .prop_map(|(n, u)| format!("{n}{u}")),
        (-1i64..100_000, 0u32..14, 0u32..33).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
        (0i64..300_000, 0u32..25, 0u32..61)
            .prop_map(|(y, h, s)| format!("{y}-01-01T{h:02}:00:{s:02}Z")),
        "[0-9]{1,30}[dhm]",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn times_parse_or_are_an_input_error(text in near_times()) {
        match parse_time(&text) {
            Ok(t) => {
                let year = chrono::Datelike::year(&t);
                prop_assert!((1..=9999).contains(&year), "{text} -> {t}");
            }
            Err(e) => {
                prop_assert_eq!(e.kind(), "invalid_input");
                prop_assert!(e.to_string().contains("cannot read"));
            }
        }
    }

    #[test]
    fn cursors_decode_or_are_an_input_error(text in prop_oneof![any::<String>(), "[A-Za-z0-9_-]{0,400}"], n in 0usize..4) {
        if let Err(e) = cursor::decode(&text, "audit", n) {
            prop_assert_eq!(e.kind(), "invalid_input");
        }
    }

    #[test]
    fn reasons_parse_or_say_how_to_write_one(text in prop_oneof![any::<String>(), "(support-ticket|incident|audit-request|other|x):.{0,600}"]) {
        if let Err(e) = text.parse::<AccessReason>() {
            prop_assert_eq!(e.kind(), "reason_required");
        }
    }

    #[test]
    fn column_lists_and_sort_keys_parse_or_are_input_errors(text in any::<String>()) {
        if let Err(e) = Column::parse_list(&text) {
            prop_assert_eq!(e.kind(), "invalid_input");
        }
        if let Err(e) = text.parse::<TenantSort>() {
            prop_assert_eq!(e.kind(), "invalid_input");
        }
    }

    #[test]
    fn mapping_files_parse_or_are_mapping_errors_that_never_quote_a_value(
        key in "[a-z_]{1,12}",
        secret in "[A-Za-z0-9]{16,24}",
        noise in any::<String>(),
    ) {
        for text in [
            format!("[{key}]\n{key} = \"{secret}\"\n{noise}"),
            format!("{key} = {secret}\n"),
            format!("[tenants]\ntable = \"{secret}\"\n"),
            noise.clone(),
        ] {
            if let Err(e) = Mapping::from_toml(&text) {
                prop_assert_eq!(e.kind(), "mapping");
                prop_assert!(!e.to_string().contains(&secret), "{}", e);
            }
        }
    }
}

#[test]
fn times_outside_the_range_are_input_errors_not_panics() {
    for text in [
        "100000000d",
        "9223372036854775807m",
        "0000-01-01",
        "10000-01-01",
        "-0001-01-01",
    ] {
        let e = parse_time(text).unwrap_err();
        assert_eq!(e.kind(), "invalid_input", "{text}");
        assert!(
            e.to_string().contains("0001-01-01 to 9999-12-31"),
            "{text}: {e}"
        );
    }
    assert!(parse_time("30d").is_ok());
    assert!(parse_time("0001-01-01").is_ok());
}

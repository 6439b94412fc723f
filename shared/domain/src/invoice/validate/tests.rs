use std::collections::BTreeMap;

use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};
use time::{Date, Month};

use super::*;
use crate::invoice::{Buyer, Profile, Seller, Source};

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn date(year: i32, month: Month, day: u8) -> Date {
    Date::from_calendar_date(year, month, day).unwrap()
}

/// The tests' own rounding, written out rather than borrowed from the code under test.
fn to_cents(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

fn line(description: &str, quantity: &str, price: &str, amount: &str, category: &str, rate: &str) -> Line {
    Line {
        description: description.into(),
        quantity: d(quantity),
        unit_price: d(price),
        amount: d(amount),
        base_quantity: None,
        vat_category: Some(category.into()),
        vat_rate: Some(d(rate)),
    }
}

/// An EN 16931 invoice whose breakdown and totals are computed from `lines`, so it holds by construction.
fn built(lines: Vec<Line>) -> Invoice {
    let mut bases: BTreeMap<(String, Decimal), Decimal> = BTreeMap::new();
    for line in &lines {
        let key = (line.vat_category.clone().unwrap_or_default(), line.vat_rate.unwrap_or_default());
        *bases.entry(key).or_default() += line.amount;
    }
    let vat: Vec<VatBreakdown> = bases
        .into_iter()
        .map(|((category, rate), basis)| VatBreakdown {
            category,
            rate: Some(rate),
            basis,
            tax: to_cents(basis * rate / Decimal::ONE_HUNDRED),
        })
        .collect();
    let net: Decimal = lines.iter().map(|line| line.amount).sum();
    let tax: Decimal = vat.iter().map(|breakdown| breakdown.tax).sum();
    Invoice {
        number: "R-2024-0042".into(),
        issue_date: date(2024, Month::March, 1),
        due_date: Some(date(2024, Month::March, 31)),
        currency: "EUR".into(),
        seller: Seller { name: "ACME GmbH".into(), vat_id: Some("DE123456789".into()) },
        buyer: Buyer { name: Some("Example SARL".into()), email: Some("ap@example.fr".into()) },
        lines,
        net,
        tax,
        total: net + tax,
        line_total: Some(net),
        allowances: None,
        charges: None,
        prepaid: None,
        amount_due: Some(net + tax),
        vat,
        source: Source::Facturx,
        profile: Some(Profile::En16931),
    }
}

/// Two VAT rates, and a category's VAT that is exactly half a cent (1285.50 × 19% = 244.245).
fn invoice() -> Invoice {
    built(vec![
        line("Consulting", "10", "120.00", "1200.00", "S", "19"),
        line("Travel", "1", "85.50", "85.50", "S", "19"),
        line("Books", "2", "24.95", "49.90", "S", "7"),
    ])
}

fn rejections(invoice: &Invoice) -> Rejections {
    validate_all(invoice).expect_err("the invoice should be rejected")
}

/// The one rule `invoice` breaks; fails the test if it breaks none or several.
fn only(invoice: &Invoice) -> Rejection {
    let all = rejections(invoice);
    assert_eq!(all.as_slice().len(), 1, "{:#?}", all.as_slice());
    all.headline().clone()
}

fn assert_mentions(rejection: &Rejection, numbers: &[&str]) {
    for number in numbers {
        assert!(rejection.message.contains(number), "{number} not in {:?}", rejection.message);
    }
}

#[test]
fn an_invoice_whose_lines_breakdown_and_totals_add_up_is_valid() {
    let invoice = invoice();
    // Hand-checked, so the builder the other tests use is known to compute what EN 16931 does.
    assert_eq!(invoice.net, d("1335.40"));
    assert_eq!(invoice.vat[1].tax, d("244.25"));
    assert_eq!(invoice.vat[0].tax, d("3.49"));
    assert_eq!(invoice.total, d("1583.14"));
    assert_eq!(validate_all(&invoice), Ok(()));
}

#[test]
fn a_minimum_or_basic_wl_invoice_without_lines_is_valid() {
    let minimum = Invoice {
        lines: vec![],
        line_total: None,
        vat: vec![],
        net: d("1000.00"),
        tax: d("190.00"),
        total: d("1190.00"),
        amount_due: Some(d("1190.00")),
        profile: Some(Profile::Minimum),
        ..invoice()
    };
    assert_eq!(validate_all(&minimum), Ok(()));

    // BASIC WL states BT-106 and a breakdown but no lines: the sums that need lines are not checked.
    let basic_wl = Invoice { lines: vec![], profile: Some(Profile::BasicWl), ..invoice() };
    assert_eq!(validate_all(&basic_wl), Ok(()));
}

#[test]
fn an_invoice_read_from_the_text_layer_with_lines_is_valid() {
    let mut text = invoice();
    text.source = Source::Text;
    text.profile = None;
    // A text layer gives neither BT-106 nor BT-115 nor the lines' categories.
    text.line_total = None;
    text.amount_due = None;
    for line in &mut text.lines {
        line.vat_category = None;
        line.vat_rate = None;
    }
    assert_eq!(validate_all(&text), Ok(()));
}

#[test]
fn an_invoice_without_a_number_is_rejected_with_br_02() {
    for number in ["", "  "] {
        let rejection = only(&Invoice { number: number.into(), ..invoice() });
        assert_eq!((rejection.rule.as_str(), rejection.field.as_deref()), ("BR-02", Some("BT-1")));
    }
}

#[test]
fn an_invoice_without_a_currency_is_rejected_with_br_05_only() {
    let rejection = only(&Invoice { currency: "".into(), ..invoice() });
    assert_eq!((rejection.rule.as_str(), rejection.field.as_deref()), ("BR-05", Some("BT-5")));
}

#[test]
fn an_invoice_without_a_seller_name_is_rejected_with_br_06() {
    let mut invoice = invoice();
    invoice.seller.name = " ".into();
    assert_eq!(only(&invoice).rule, "BR-06");
}

#[test]
fn an_invoice_without_a_buyer_name_is_rejected_with_br_07_even_in_the_minimum_profile() {
    for profile in [Some(Profile::En16931), Some(Profile::Minimum), None] {
        for name in [None, Some(String::new())] {
            let mut invoice = invoice();
            invoice.profile = profile;
            invoice.buyer.name = name;
            let rejection = only(&invoice);
            assert_eq!((rejection.rule.as_str(), rejection.field.as_deref()), ("BR-07", Some("BT-44")));
        }
    }
}

#[test]
fn an_invoice_without_lines_is_rejected_with_br_16_unless_its_profile_has_none() {
    let without_lines = |profile| Invoice { lines: vec![], profile, ..invoice() };
    for profile in
        [None, Some(Profile::Basic), Some(Profile::En16931), Some(Profile::Extended), Some(Profile::Xrechnung)]
    {
        let rejection = only(&without_lines(profile));
        assert_eq!((rejection.rule.as_str(), rejection.field.as_deref()), ("BR-16", Some("BG-25")), "{profile:?}");
    }
    assert!(only(&without_lines(None)).message.contains("text layer"));
    for profile in [Profile::Minimum, Profile::BasicWl] {
        assert_eq!(validate_all(&without_lines(Some(profile))), Ok(()), "{profile:?}");
    }
}

#[test]
fn currencies_must_be_active_iso_4217_codes() {
    for code in ["EUR", "USD", "CHF", "JPY"] {
        assert_eq!(validate_all(&Invoice { currency: code.into(), ..invoice() }), Ok(()), "{code}");
    }
    for code in ["EURO", "eur", "XYZ", "EU", "€", "DEM"] {
        let rejection = only(&Invoice { currency: code.into(), ..invoice() });
        assert_eq!((rejection.rule.as_str(), rejection.field.as_deref()), ("BR-CL-04", Some("BT-5")), "{code}");
        assert!(rejection.message.contains(code), "{}", rejection.message);
    }
    let lower_case = only(&Invoice { currency: "eur".into(), ..invoice() });
    assert!(lower_case.message.contains("upper case") && lower_case.message.contains("EUR"), "{}", lower_case.message);
}

#[test]
fn a_seller_vat_id_must_have_its_countrys_form() {
    for id in ["DE123456789", "FRXX999999999", "ATU12345678", "NL123456789B01", "BE0123456789", "ESX1234567X"] {
        let mut invoice = invoice();
        invoice.seller.vat_id = Some(id.into());
        assert_eq!(validate_all(&invoice), Ok(()), "{id}");
    }
    for id in ["IT12345678901", "EL123456789", "XI123456789", "CHE123456789MWST", "NO123456789MVA", "DE 123 456 789"] {
        let mut invoice = invoice();
        invoice.seller.vat_id = Some(id.into());
        assert_eq!(validate_all(&invoice), Ok(()), "{id}");
    }
    let mut no_id = invoice();
    no_id.seller.vat_id = None;
    assert_eq!(validate_all(&no_id), Ok(()));

    for (id, expected) in [
        ("DE12345678", "DE and 9 digits"),
        ("GR123456789", "EL"),
        ("123456789", "country prefix"),
        ("ATU1234567", "ATU and 8 digits"),
        ("", "country prefix"),
    ] {
        let mut invoice = invoice();
        invoice.seller.vat_id = Some(id.into());
        let rejection = only(&invoice);
        assert_eq!((rejection.rule.as_str(), rejection.field.as_deref()), ("vat-id", Some("BT-31")), "{id}");
        assert!(rejection.message.contains(expected), "{id}: {}", rejection.message);
    }
}

#[test]
fn the_due_date_may_not_be_before_the_issue_date() {
    let on_the_day = Invoice { due_date: Some(date(2024, Month::March, 1)), ..invoice() };
    assert_eq!(validate_all(&on_the_day), Ok(()));
    assert_eq!(validate_all(&Invoice { due_date: None, ..invoice() }), Ok(()));

    let rejection = only(&Invoice { due_date: Some(date(2024, Month::February, 29)), ..invoice() });
    assert_eq!((rejection.rule.as_str(), rejection.field.as_deref()), ("due-date", Some("BT-9")));
    assert_mentions(&rejection, &["2024-02-29", "2024-03-01"]);
}

#[test]
fn a_line_net_other_than_quantity_times_price_is_rejected_naming_the_line() {
    let mut invoice = invoice();
    invoice.lines[1].quantity = d("2");
    let rejection = only(&invoice);
    assert_eq!((rejection.rule.as_str(), rejection.field.as_deref()), ("line-net", Some("BT-131")));
    assert_mentions(&rejection, &["line 2", "2 × 85.5", "171.00", "85.50"]);
}

#[test]
fn a_price_per_base_quantity_is_divided_by_it() {
    let mut screws = line("Screws", "250", "12.00", "30.00", "S", "19");
    screws.base_quantity = Some(d("100"));
    assert_eq!(validate_all(&built(vec![screws.clone()])), Ok(()));

    screws.amount = d("3000.00");
    let rejection = only(&built(vec![screws]));
    assert_eq!(rejection.rule, "line-net");
    assert_mentions(&rejection, &["250 × 12 ÷ 100 = 30", "30.00", "3000.00"]);
}

#[test]
fn a_base_quantity_of_zero_is_rejected_rather_than_divided_by() {
    let mut invoice = invoice();
    invoice.lines[0].base_quantity = Some(Decimal::ZERO);
    let rejection = only(&invoice);
    assert_eq!((rejection.rule.as_str(), rejection.field.as_deref()), ("line-net", Some("BT-149")));
    assert_mentions(&rejection, &["line 1", "per 0 units"]);
}

#[test]
fn half_cents_round_away_from_zero() {
    // 3 × 0.335 = 1.005: 1.01 half away from zero, where banker's rounding and truncation give 1.00.
    assert_eq!(validate_all(&built(vec![line("Nails", "3", "0.335", "1.01", "S", "19")])), Ok(()));
    let rejection = only(&built(vec![line("Nails", "3", "0.335", "1.00", "S", "19")]));
    assert_eq!(rejection.rule, "line-net");
    assert_mentions(&rejection, &["3 × 0.335 = 1.005", "1.01", "1.00"]);

    // A credit line rounds the same way on the other side of zero.
    assert_eq!(validate_all(&built(vec![line("Returned nails", "-3", "0.335", "-1.01", "S", "19")])), Ok(()));
    let credit = only(&built(vec![line("Returned nails", "-3", "0.335", "-1.00", "S", "19")]));
    assert_mentions(&credit, &["-1.01", "-1.00"]);

    // An amount stated with a third decimal is compared to the cent too.
    assert_eq!(validate_all(&built(vec![line("Nails", "3", "0.335", "1.005", "S", "19")])), Ok(()));
}

#[test]
fn lines_that_do_not_add_up_to_bt_106_are_rejected_with_br_co_10() {
    let mut invoice = invoice();
    invoice.lines[1].quantity = d("2");
    invoice.lines[1].amount = d("171.00");
    // Without categories the breakdown's bases are not compared to the lines, so BR-CO-10 fails alone.
    invoice.lines.iter_mut().for_each(|line| line.vat_category = None);
    let rejection = only(&invoice);
    assert_eq!((rejection.rule.as_str(), rejection.field.as_deref()), ("BR-CO-10", Some("BT-106")));
    assert_mentions(&rejection, &["1420.90", "1335.40"]);
}

#[test]
fn bt_109_is_bt_106_minus_allowances_plus_charges_under_br_co_13() {
    let mut invoice = invoice();
    invoice.allowances = Some(d("35.40"));
    invoice.charges = Some(d("10.00"));
    invoice.net = d("1310.00");
    invoice.total = d("1557.74");
    invoice.amount_due = Some(d("1557.74"));
    assert_eq!(validate_all(&invoice), Ok(()));

    invoice.net = d("1309.99");
    invoice.total = d("1557.73");
    invoice.amount_due = Some(d("1557.73"));
    let rejection = only(&invoice);
    assert_eq!((rejection.rule.as_str(), rejection.field.as_deref()), ("BR-CO-13", Some("BT-109")));
    assert_mentions(&rejection, &["1310.00", "1335.40", "35.40", "10.00", "1309.99"]);
}

#[test]
fn without_bt_106_bt_109_is_compared_to_the_lines_sum() {
    let mut invoice = invoice();
    invoice.line_total = None;
    assert_eq!(validate_all(&invoice), Ok(()));

    invoice.net = d("1335.00");
    invoice.total = d("1582.74");
    invoice.amount_due = Some(d("1582.74"));
    let rejection = only(&invoice);
    assert_eq!(rejection.rule, "BR-CO-13");
    assert_mentions(&rejection, &["the lines' sum 1335.40", "1335.00"]);
}

#[test]
fn a_vat_total_other_than_the_breakdowns_sum_is_rejected_with_br_co_14() {
    let mut invoice = invoice();
    invoice.tax = d("248.74");
    invoice.total = d("1584.14");
    invoice.amount_due = Some(d("1584.14"));
    let rejection = only(&invoice);
    assert_eq!((rejection.rule.as_str(), rejection.field.as_deref()), ("BR-CO-14", Some("BT-110")));
    assert_mentions(&rejection, &["247.74", "248.74"]);
}

#[test]
fn a_total_other_than_net_plus_vat_is_rejected_with_br_co_15() {
    let mut invoice = invoice();
    invoice.total = d("1583.15");
    invoice.amount_due = Some(d("1583.15"));
    let rejection = only(&invoice);
    assert_eq!((rejection.rule.as_str(), rejection.field.as_deref()), ("BR-CO-15", Some("BT-112")));
    assert_mentions(&rejection, &["1583.14", "1335.40", "247.74", "1583.15"]);
}

#[test]
fn an_amount_due_other_than_total_minus_prepaid_is_rejected_with_br_co_16() {
    let mut invoice = invoice();
    invoice.prepaid = Some(d("500.00"));
    invoice.amount_due = Some(d("1083.14"));
    assert_eq!(validate_all(&invoice), Ok(()));

    invoice.amount_due = Some(d("1083.15"));
    let rejection = only(&invoice);
    assert_eq!((rejection.rule.as_str(), rejection.field.as_deref()), ("BR-CO-16", Some("BT-115")));
    assert_mentions(&rejection, &["1083.14", "1583.14", "500.00", "1083.15"]);

    invoice.amount_due = None;
    assert_eq!(validate_all(&invoice), Ok(()), "BT-115 is compared only when stated");
}

#[test]
fn a_breakdowns_vat_other_than_basis_times_rate_is_rejected_with_br_co_17() {
    let mut invoice = invoice();
    // 1285.50 × 19% = 244.245, which is 244.25 to the cent; 244.24 is what banker's rounding would give.
    assert_eq!(invoice.vat[1].tax, d("244.25"));
    invoice.vat[1].tax = d("244.24");
    invoice.tax = d("247.73");
    invoice.total = d("1583.13");
    invoice.amount_due = Some(d("1583.13"));
    let rejection = only(&invoice);
    assert_eq!((rejection.rule.as_str(), rejection.field.as_deref()), ("BR-CO-17", Some("BT-117")));
    assert_mentions(&rejection, &["S at 19%", "1285.50 × 19% = 244.245", "244.25", "244.24"]);
}

#[test]
fn a_breakdowns_basis_other_than_its_lines_sum_is_rejected_under_its_categorys_rule() {
    let mut invoice = invoice();
    invoice.vat[1].basis = d("1285.00");
    invoice.vat[1].tax = d("244.15");
    invoice.tax = d("247.64");
    invoice.total = d("1583.04");
    invoice.amount_due = Some(d("1583.04"));
    let rejection = only(&invoice);
    assert_eq!((rejection.rule.as_str(), rejection.field.as_deref()), ("BR-S-08", Some("BT-116")));
    assert_mentions(&rejection, &["S at 19%", "1285.50", "1285.00"]);

    let mut zero_rated = built(vec![line("Export", "1", "100.00", "100.00", "Z", "0")]);
    zero_rated.vat[0].basis = d("90.00");
    assert_eq!(only(&zero_rated).rule, "BR-Z-08");
}

#[test]
fn each_category_has_its_en_16931_basis_rule() {
    for (category, rule) in [
        ("S", "BR-S-08"),
        ("Z", "BR-Z-08"),
        ("E", "BR-E-08"),
        ("AE", "BR-AE-08"),
        ("K", "BR-IC-08"),
        ("G", "BR-G-08"),
        ("O", "BR-O-08"),
        ("L", "BR-AF-08"),
        ("M", "BR-AG-08"),
        ("B", "vat-basis"),
    ] {
        assert_eq!(basis_rule(category), rule, "{category}");
    }
}

#[test]
fn the_bases_are_not_compared_to_the_lines_under_allowances_charges_or_unknown_categories() {
    let mismatched = || {
        let mut invoice = invoice();
        invoice.vat[1].basis = d("1285.00");
        invoice.vat[1].tax = d("244.15");
        invoice.tax = d("247.64");
        invoice.total = d("1583.04");
        invoice.amount_due = Some(d("1583.04"));
        invoice
    };
    let mut allowance = mismatched();
    allowance.allowances = Some(d("0.50"));
    allowance.net = d("1334.90");
    allowance.total = d("1582.54");
    allowance.amount_due = Some(d("1582.54"));
    assert_eq!(validate_all(&allowance), Ok(()));

    let mut uncategorised = mismatched();
    uncategorised.lines[2].vat_category = None;
    assert_eq!(validate_all(&uncategorised), Ok(()));

    // Stated as zero, allowances and charges change nothing, so the bases are compared.
    let mut zero = mismatched();
    zero.allowances = Some(Decimal::ZERO);
    zero.charges = Some(Decimal::ZERO);
    assert_eq!(only(&zero).rule, "BR-S-08");
}

#[test]
fn every_broken_rule_is_reported_in_order_with_the_first_as_headline() {
    let mut invoice = invoice();
    invoice.number = String::new();
    invoice.currency = "EURO".into();
    invoice.lines[0].amount = d("1100.00");
    invoice.total = d("1.00");
    let all = rejections(&invoice);
    assert_eq!(
        all.rules().collect::<Vec<_>>(),
        ["BR-02", "BR-CL-04", "line-net", "BR-CO-10", "BR-CO-15", "BR-CO-16", "BR-S-08"]
    );
    assert_eq!(all.headline().rule, "BR-02");
    assert_eq!(all.to_string(), "BR-02: the invoice number (BT-1) is missing (and 6 more)");
    assert_eq!(validate(&invoice), Err(all.headline().clone()), "validate gives the headline");
    assert_eq!(all.into_iter().count(), 7);
}

#[test]
fn rejections_serialise_as_rule_message_and_field_headline_first() {
    let rejection = only(&Invoice { number: String::new(), ..invoice() });
    assert_eq!(
        serde_json::to_value(&rejection).unwrap(),
        serde_json::json!({"rule": "BR-02", "message": "the invoice number (BT-1) is missing", "field": "BT-1"})
    );

    let all = rejections(&Invoice { number: String::new(), currency: "XYZ".into(), ..invoice() });
    let json = serde_json::to_value(&all).unwrap();
    assert_eq!(json[0]["rule"], "BR-02");
    assert_eq!(json[1]["rule"], "BR-CL-04");
    assert_eq!(serde_json::from_value::<Rejections>(json).unwrap(), all);
    assert!(serde_json::from_str::<Rejections>("[]").is_err(), "a list of rejections is never empty");
}

#[test]
fn a_duplicate_names_the_invoice_the_seller_and_the_original() {
    let rejection = duplicate(&invoice(), "01JDQ3V5R5T4Y2E7Q9M8N6B4C2");
    assert_eq!((rejection.rule.as_str(), rejection.field.as_deref()), ("duplicate", Some("BT-1")));
    assert_eq!(
        rejection.message,
        "invoice R-2024-0042 from ACME GmbH was already received as 01JDQ3V5R5T4Y2E7Q9M8N6B4C2"
    );
}

#[test]
fn the_seller_key_is_the_compacted_vat_id_or_the_folded_name_and_the_number() {
    let with_id = invoice();
    assert_eq!(seller_key(&with_id), "15:vat:DE123456789:R-2024-0042");

    let mut spaced = invoice();
    spaced.seller.vat_id = Some("de 123 456 789".into());
    spaced.seller.name = "ACME Gesellschaft mbH".into();
    spaced.number = " R-2024-0042 ".into();
    assert_eq!(seller_key(&spaced), seller_key(&with_id), "the VAT id decides, as printed or not");

    let by_name = |name: &str, number: &str| {
        let mut invoice = invoice();
        invoice.seller = Seller { name: name.into(), vat_id: None };
        invoice.number = number.into();
        seller_key(&invoice)
    };
    assert_eq!(by_name("ACME  GmbH ", "7"), by_name("acme gmbh", "7"));
    assert_eq!(by_name("Ångström\tAB", "7"), by_name("ångström ab", "7"));
    assert_ne!(by_name("ACME GmbH", "7"), by_name("ACME GmbH", "8"));
    assert_ne!(by_name("ACME GmbH", "7"), by_name("ACME AG", "7"));
    // Separators inside a name or a number cannot move the boundary between them.
    assert_ne!(by_name("A:1", "2"), by_name("A", "1:2"));
    assert_ne!(by_name("DK A/S", "1"), by_name("DK A", "S/1"));
}

fn consistent_line() -> impl Strategy<Value = Line> {
    let rates = prop::sample::select(vec!["0", "5", "7", "7.7", "19", "20", "21"]);
    let bases = prop::sample::select(vec![None, Some("1"), Some("10"), Some("100"), Some("12")]);
    (1i64..=100_000, 0u32..=3, 0i64..=10_000_000, 0u32..=4, bases, rates, any::<bool>()).prop_map(
        |(quantity, quantity_scale, price, price_scale, base, rate, credit)| {
            let quantity = Decimal::new(if credit { -quantity } else { quantity }, quantity_scale);
            let unit_price = Decimal::new(price, price_scale);
            let base_quantity = base.map(d);
            let rate = d(rate);
            Line {
                description: "item".into(),
                quantity,
                unit_price,
                amount: to_cents(quantity * unit_price / base_quantity.unwrap_or(Decimal::ONE)),
                base_quantity,
                vat_category: Some(if rate.is_zero() { "Z" } else { "S" }.into()),
                vat_rate: Some(rate),
            }
        },
    )
}

fn cents_up_to(max: i64) -> impl Strategy<Value = Option<Decimal>> {
    proptest::option::of((0..=max).prop_map(|cents| Decimal::new(cents, 2)))
}

fn consistent_invoice() -> impl Strategy<Value = Invoice> {
    (prop::collection::vec(consistent_line(), 1..8), cents_up_to(100_000), cents_up_to(100_000), cents_up_to(1_000_000))
        .prop_map(|(lines, allowances, charges, prepaid)| {
            let mut invoice = built(lines);
            invoice.allowances = allowances;
            invoice.charges = charges;
            invoice.prepaid = prepaid;
            invoice.net = invoice.net - allowances.unwrap_or_default() + charges.unwrap_or_default();
            invoice.total = invoice.net + invoice.tax;
            invoice.amount_due = Some(invoice.total - prepaid.unwrap_or_default());
            invoice
        })
}

fn any_decimal() -> impl Strategy<Value = Decimal> {
    (any::<u32>(), any::<u32>(), any::<u32>(), any::<bool>(), 0u32..=28)
        .prop_map(|(lo, mid, hi, negative, scale)| Decimal::from_parts(lo, mid, hi, negative, scale))
}

proptest! {
    #[test]
    fn an_invoice_built_consistently_from_any_lines_is_valid(invoice in consistent_invoice()) {
        prop_assert_eq!(validate_all(&invoice), Ok(()));
    }

    #[test]
    fn a_total_one_cent_off_is_always_rejected_with_br_co_15(invoice in consistent_invoice(), up in any::<bool>()) {
        let cent = Decimal::new(if up { 1 } else { -1 }, 2);
        let off = Invoice { total: invoice.total + cent, ..invoice.clone() };
        let all = rejections(&off);
        let headline = all.headline();
        prop_assert_eq!(headline.rule.as_str(), "BR-CO-15");
        prop_assert!(headline.message.contains(&show(invoice.total)), "{}", headline.message);
        prop_assert!(headline.message.contains(&show(off.total)), "{}", headline.message);
    }

    #[test]
    fn validation_never_panics_whatever_the_amounts(
        amounts in prop::collection::vec(any_decimal(), 12),
        base in proptest::option::of(any_decimal()),
    ) {
        let mut invoice = invoice();
        let line = &mut invoice.lines[0];
        (line.quantity, line.unit_price, line.amount, line.base_quantity) = (amounts[0], amounts[1], amounts[2], base);
        invoice.vat[0].basis = amounts[3];
        invoice.vat[0].tax = amounts[4];
        invoice.vat[0].rate = Some(amounts[5]);
        (invoice.net, invoice.tax, invoice.total) = (amounts[6], amounts[7], amounts[8]);
        (invoice.line_total, invoice.allowances, invoice.prepaid) = (Some(amounts[9]), Some(amounts[10]), Some(amounts[11]));
        let _ = validate_all(&invoice);
    }
}

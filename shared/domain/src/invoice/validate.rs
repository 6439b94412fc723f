//! The validation step of the invoice pipeline: whether what a parser read from a PDF is a complete invoice whose
//! amounts add up, under the EN 16931 business rules. Pure: no store, no clock, no network. [`validate_all`]
//! returns every rule that fails, so one answer can list everything to fix; [`validate`] returns the first of
//! them (the headline), for a pipeline that records one rule per invoice.
//!
//! Each [`Rejection`] names its rule by a stable id, the EN 16931 one where there is one:
//! - `BR-02` number, `BR-05` currency, `BR-06` seller name, `BR-07` buyer name: required. The type guarantees
//!   the issue date (BR-03) and the totals BT-109 and BT-112 (BR-13, BR-14).
//! - `BR-16`: at least one line, unless the profile carries none (MINIMUM, BASIC WL). Text-sourced invoices
//!   (no profile) must have lines.
//! - `BR-CL-04`: the currency is an active ISO 4217 code, as written (`eur` is not one).
//! - `vat-id`: the seller's VAT id, when stated, has a country prefix (BR-CO-09) and that country's form.
//! - `due-date`: the due date, when stated, is not before the issue date.
//! - `line-net`: each line's net is quantity × price ÷ base quantity (1 when not stated).
//! - `BR-CO-10`: the lines add up to BT-106, when stated. `BR-CO-13`: BT-109 = BT-106 − BT-107 + BT-108 (the
//!   lines' sum when BT-106 is not stated but lines are). `BR-CO-14`: BT-110 = Σ BT-117, when a breakdown is
//!   stated. `BR-CO-15`: BT-112 = BT-109 + BT-110. `BR-CO-16`: BT-115 = BT-112 − BT-113, when BT-115 is stated.
//! - `BR-CO-17`: each breakdown's VAT is its basis × its rate, when the rate is stated.
//! - `BR-S-08`, `BR-Z-08`, `BR-E-08`, `BR-AE-08`, `BR-IC-08` (K), `BR-G-08`, `BR-O-08`, `BR-AF-08` (L),
//!   `BR-AG-08` (M), and `vat-basis` for any other category: each breakdown's basis is the sum of the lines of its
//!   category and rate. Compared only when every line states its category and there are no document-level
//!   allowances or charges, since the model does not say which category those belong to.
//!
//! Amounts are compared to the cent: both sides rounded to 2 decimals, half away from zero as EN 16931 does,
//! with no further tolerance. BT-114 (the rounding amount) is not modelled, so an invoice that rounds its amount
//! due fails `BR-CO-16`. BR-12 and BR-15 (BT-106 and BT-115 required) are not enforced: MINIMUM documents and
//! text layers often leave them out, and a parser does not guess them.
//!
//! Duplicates need the store, so they are not checked here: [`seller_key`] is the key a store keeps unique and
//! [`duplicate`] the rejection to give when it is taken.

mod currency;
mod vat_id;

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::model::{Amount, Invoice, Line, Profile, VatBreakdown};

/// One rule an invoice breaks. Serialised as `{"rule", "message", "field"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{rule}: {message}")]
pub struct Rejection {
    /// The rule's stable id: an EN 16931 business rule (`BR-CO-10`) or a short id of ours (`line-net`).
    pub rule: String,
    /// What is wrong, for a person, with the numbers involved.
    pub message: String,
    /// The business term or group at fault (`BT-106`, `BG-25`), when there is one.
    pub field: Option<String>,
}

impl Rejection {
    fn new(rule: &str, field: Option<&str>, message: String) -> Self {
        Self { rule: rule.to_owned(), message, field: field.map(str::to_owned) }
    }
}

/// Every rule an invoice breaks, never empty, in a fixed order: required fields, codes and dates first, then the
/// lines, then the totals from the lines upward, so the first one ([`Rejections::headline`]) is the most direct
/// cause. Serialised as a JSON array of [`Rejection`]s, headline first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "Vec<Rejection>", try_from = "Vec<Rejection>")]
pub struct Rejections(Vec<Rejection>);

impl Rejections {
    /// The first rule broken, to show when there is room for one.
    pub fn headline(&self) -> &Rejection {
        &self.0[0]
    }

    pub fn into_headline(self) -> Rejection {
        self.0.into_iter().next().expect("rejections are never empty")
    }

    pub fn as_slice(&self) -> &[Rejection] {
        &self.0
    }

    /// The ids of the rules broken, in order.
    pub fn rules(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|rejection| rejection.rule.as_str())
    }
}

impl fmt::Display for Rejections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.headline())?;
        match self.0.len() {
            1 => Ok(()),
            n => write!(f, " (and {} more)", n - 1),
        }
    }
}

impl std::error::Error for Rejections {}

impl From<Rejections> for Vec<Rejection> {
    fn from(rejections: Rejections) -> Self {
        rejections.0
    }
}

impl TryFrom<Vec<Rejection>> for Rejections {
    type Error = &'static str;

    fn try_from(rejections: Vec<Rejection>) -> Result<Self, Self::Error> {
        if rejections.is_empty() { Err("a list of rejections is never empty") } else { Ok(Self(rejections)) }
    }
}

impl IntoIterator for Rejections {
    type Item = Rejection;
    type IntoIter = std::vec::IntoIter<Rejection>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Rejections {
    type Item = &'a Rejection;
    type IntoIter = std::slice::Iter<'a, Rejection>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Checks every rule in the module doc; when any fails, the first (see [`Rejections`] for the order).
pub fn validate(invoice: &Invoice) -> Result<(), Rejection> {
    validate_all(invoice).map_err(Rejections::into_headline)
}

/// Checks every rule in the module doc and returns all that fail.
pub fn validate_all(invoice: &Invoice) -> Result<(), Rejections> {
    let mut found = Found::default();
    required(invoice, &mut found);
    codes_and_dates(invoice, &mut found);
    for (index, line) in invoice.lines.iter().enumerate() {
        line_net(index + 1, line, &mut found);
    }
    totals(invoice, &mut found);
    for breakdown in &invoice.vat {
        breakdown_tax(breakdown, &mut found);
    }
    breakdown_bases(invoice, &mut found);
    if found.0.is_empty() { Ok(()) } else { Err(Rejections(found.0)) }
}

/// The rejection for an invoice whose [`seller_key`] the store already holds, naming the invoice it duplicates.
pub fn duplicate(invoice: &Invoice, original_id: &str) -> Rejection {
    Rejection::new(
        "duplicate",
        Some("BT-1"),
        format!(
            "invoice {} from {} was already received as {original_id}",
            invoice.number.trim(),
            invoice.seller.name.trim()
        ),
    )
}

/// The key under which a store keeps invoices unique: the seller and the invoice number (BT-1, trimmed). The
/// seller is its VAT id when stated (compacted: `DE 123 456 789` is `DE123456789`), otherwise its name in lower
/// case with runs of whitespace as one space. Parts are length-prefixed, so no name or number can make two
/// different invoices share a key (`A/S` + `1` against `A` + `S/1`).
///
/// An invoice read once with the seller's VAT id and once without it gets two keys: a document states its
/// seller the same way each time, so that is a different document, not the same one read twice.
pub fn seller_key(invoice: &Invoice) -> String {
    let seller = match invoice.seller.vat_id.as_deref().map(vat_id::compact).filter(|id| !id.is_empty()) {
        Some(id) => format!("vat:{id}"),
        None => format!("name:{}", fold(&invoice.seller.name)),
    };
    format!("{}:{seller}:{}", seller.len(), invoice.number.trim())
}

fn fold(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

#[derive(Default)]
struct Found(Vec<Rejection>);

impl Found {
    fn reject(&mut self, rule: &str, field: Option<&str>, message: String) {
        self.0.push(Rejection::new(rule, field, message));
    }

    /// For sums and products beyond what a decimal holds: nothing a real invoice states, but a parser may read
    /// garbage, and validation must say so rather than panic.
    fn too_large(&mut self, rule: &str, field: Option<&str>, what: &str) {
        self.reject(rule, field, format!("{what} is too large to compute"));
    }
}

fn required(invoice: &Invoice, found: &mut Found) {
    if invoice.number.trim().is_empty() {
        found.reject("BR-02", Some("BT-1"), "the invoice number (BT-1) is missing".into());
    }
    if invoice.currency.trim().is_empty() {
        found.reject("BR-05", Some("BT-5"), "the invoice currency (BT-5) is missing".into());
    }
    if invoice.seller.name.trim().is_empty() {
        found.reject("BR-06", Some("BT-27"), "the seller's name (BT-27) is missing".into());
    }
    if invoice.buyer.name.as_deref().is_none_or(|name| name.trim().is_empty()) {
        found.reject("BR-07", Some("BT-44"), "the buyer's name (BT-44) is missing".into());
    }
    if invoice.lines.is_empty() && invoice.profile.is_none_or(|profile| profile.has_lines()) {
        let whose = match invoice.profile {
            Some(profile) => format!("an invoice of profile {}", profile_name(profile)),
            None => "an invoice read from the text layer".to_owned(),
        };
        found.reject("BR-16", Some("BG-25"), format!("the invoice has no lines (BG-25), which {whose} must have"));
    }
}

fn codes_and_dates(invoice: &Invoice, found: &mut Found) {
    let code = invoice.currency.as_str();
    if !code.trim().is_empty() && !currency::is_active(code) {
        let hint = if currency::is_active(&code.trim().to_uppercase()) {
            format!(" (codes are written in upper case without spaces: {})", code.trim().to_uppercase())
        } else {
            String::new()
        };
        found.reject(
            "BR-CL-04",
            Some("BT-5"),
            format!("the currency {code:?} (BT-5) is not an active ISO 4217 code{hint}"),
        );
    }
    if let Some(id) = &invoice.seller.vat_id
        && let Err(problem) = vat_id::check(id)
    {
        found.reject("vat-id", Some("BT-31"), format!("the seller's VAT id {problem}"));
    }
    if let Some(due) = invoice.due_date
        && due < invoice.issue_date
    {
        found.reject(
            "due-date",
            Some("BT-9"),
            format!(
                "the payment is due on {due} (BT-9), before the invoice was issued on {} (BT-2)",
                invoice.issue_date
            ),
        );
    }
}

fn line_net(number: usize, line: &Line, found: &mut Found) {
    let base = line.base_quantity.unwrap_or(Decimal::ONE);
    if base <= Decimal::ZERO {
        found.reject(
            "line-net",
            Some("BT-149"),
            format!(
                "line {number} prices its item per {} units (BT-149), which is not a positive quantity",
                show_exact(base)
            ),
        );
        return;
    }
    let Some(exact) = line.quantity.checked_mul(line.unit_price).and_then(|product| product.checked_div(base)) else {
        found.too_large("line-net", Some("BT-131"), &format!("line {number}'s quantity × price"));
        return;
    };
    if cents(exact) != cents(line.amount) {
        let per = if line.base_quantity.is_some() { format!(" ÷ {}", show_exact(base)) } else { String::new() };
        found.reject(
            "line-net",
            Some("BT-131"),
            format!(
                "line {number}: {} × {}{per} = {}, which is {} to the cent, but the line states {} (BT-131)",
                show_exact(line.quantity),
                show_exact(line.unit_price),
                show_exact(exact),
                show(exact),
                show(line.amount),
            ),
        );
    }
}

fn totals(invoice: &Invoice, found: &mut Found) {
    let lines = sum(invoice.lines.iter().map(|line| line.amount));
    if let Some(stated) = invoice.line_total
        && !invoice.lines.is_empty()
    {
        match lines {
            Some(lines) if cents(lines) == cents(stated) => {}
            Some(lines) => found.reject(
                "BR-CO-10",
                Some("BT-106"),
                format!(
                    "the lines' net amounts add up to {}, but the invoice states {} (BT-106)",
                    show(lines),
                    show(stated)
                ),
            ),
            None => found.too_large("BR-CO-10", Some("BT-106"), "the sum of the lines' net amounts"),
        }
    }

    let basis = match (invoice.line_total, invoice.lines.is_empty()) {
        (Some(stated), _) => Some((stated, "BT-106")),
        (None, false) => lines.map(|lines| (lines, "the lines' sum")),
        (None, true) => None,
    };
    if let Some((basis, named)) = basis {
        let allowances = invoice.allowances.unwrap_or_default();
        let charges = invoice.charges.unwrap_or_default();
        match cents(basis).checked_sub(cents(allowances)).and_then(|net| net.checked_add(cents(charges))) {
            Some(net) if net == cents(invoice.net) => {}
            Some(net) => {
                let mut how = format!("{named} {}", show(basis));
                if let Some(allowances) = invoice.allowances {
                    how.push_str(&format!(" − {} allowances (BT-107)", show(allowances)));
                }
                if let Some(charges) = invoice.charges {
                    how.push_str(&format!(" + {} charges (BT-108)", show(charges)));
                }
                found.reject(
                    "BR-CO-13",
                    Some("BT-109"),
                    format!(
                        "the total without VAT should be {} ({how}), but the invoice states {} (BT-109)",
                        show(net),
                        show(invoice.net)
                    ),
                )
            }
            None => found.too_large("BR-CO-13", Some("BT-109"), "the total without VAT"),
        }
    }

    if !invoice.vat.is_empty() {
        match sum(invoice.vat.iter().map(|breakdown| breakdown.tax)) {
            Some(tax) if tax == cents(invoice.tax) => {}
            Some(tax) => found.reject(
                "BR-CO-14",
                Some("BT-110"),
                format!(
                    "the VAT breakdown's amounts (BT-117) add up to {}, but the invoice states {} (BT-110)",
                    show(tax),
                    show(invoice.tax)
                ),
            ),
            None => found.too_large("BR-CO-14", Some("BT-110"), "the sum of the VAT breakdown's amounts"),
        }
    }

    match cents(invoice.net).checked_add(cents(invoice.tax)) {
        Some(total) if total == cents(invoice.total) => {}
        Some(total) => found.reject(
            "BR-CO-15",
            Some("BT-112"),
            format!(
                "the total with VAT should be {} ({} (BT-109) + {} VAT (BT-110)), but the invoice states {} (BT-112)",
                show(total),
                show(invoice.net),
                show(invoice.tax),
                show(invoice.total),
            ),
        ),
        None => found.too_large("BR-CO-15", Some("BT-112"), "the total with VAT"),
    }

    if let Some(stated) = invoice.amount_due {
        let paid = invoice.prepaid.unwrap_or_default();
        match cents(invoice.total).checked_sub(cents(paid)) {
            Some(due) if due == cents(stated) => {}
            Some(due) => found.reject(
                "BR-CO-16",
                Some("BT-115"),
                format!(
                    "the amount due should be {} ({} (BT-112) − {} paid (BT-113)), but the invoice states {} (BT-115)",
                    show(due),
                    show(invoice.total),
                    show(paid),
                    show(stated),
                ),
            ),
            None => found.too_large("BR-CO-16", Some("BT-115"), "the amount due"),
        }
    }
}

fn breakdown_tax(breakdown: &VatBreakdown, found: &mut Found) {
    let Some(rate) = breakdown.rate else { return };
    let Some(exact) = breakdown.basis.checked_mul(rate).and_then(|product| product.checked_div(Decimal::ONE_HUNDRED))
    else {
        found.too_large("BR-CO-17", Some("BT-117"), &format!("the VAT of {}", name(breakdown)));
        return;
    };
    if cents(exact) != cents(breakdown.tax) {
        found.reject(
            "BR-CO-17",
            Some("BT-117"),
            format!(
                "{}: {} × {}% = {}, which is {} to the cent, but the breakdown states {} (BT-117)",
                name(breakdown),
                show(breakdown.basis),
                show_exact(rate),
                show_exact(exact),
                show(exact),
                show(breakdown.tax),
            ),
        );
    }
}

fn breakdown_bases(invoice: &Invoice, found: &mut Found) {
    let adjusted = [invoice.allowances, invoice.charges].iter().flatten().any(|amount| !amount.is_zero());
    if invoice.lines.is_empty() || adjusted || invoice.lines.iter().any(|line| line.vat_category.is_none()) {
        return;
    }
    // Rates compare by value (19 = 19.00); a rate not stated is 0, as for the categories that carry none.
    let mut sums: BTreeMap<(&str, Decimal), Option<Amount>> = BTreeMap::new();
    for line in &invoice.lines {
        let key = (line.vat_category.as_deref().unwrap_or_default(), line.vat_rate.unwrap_or_default().normalize());
        let total = sums.entry(key).or_insert(Some(Decimal::ZERO));
        *total = total.and_then(|total| total.checked_add(cents(line.amount)));
    }
    for breakdown in &invoice.vat {
        let key = (breakdown.category.as_str(), breakdown.rate.unwrap_or_default().normalize());
        let rule = basis_rule(&breakdown.category);
        match sums.get(&key).copied().unwrap_or(Some(Decimal::ZERO)) {
            Some(lines) if lines == cents(breakdown.basis) => {}
            Some(lines) => found.reject(
                rule,
                Some("BT-116"),
                format!(
                    "{}: its lines add up to {}, but the breakdown states a taxable amount of {} (BT-116)",
                    name(breakdown),
                    show(lines),
                    show(breakdown.basis)
                ),
            ),
            None => found.too_large(rule, Some("BT-116"), &format!("the sum of the lines of {}", name(breakdown))),
        }
    }
}

/// EN 16931 states the basis rule once per category, under the category's own rule prefix.
fn basis_rule(category: &str) -> &'static str {
    match category {
        "S" => "BR-S-08",
        "Z" => "BR-Z-08",
        "E" => "BR-E-08",
        "AE" => "BR-AE-08",
        "K" => "BR-IC-08",
        "G" => "BR-G-08",
        "O" => "BR-O-08",
        "L" => "BR-AF-08",
        "M" => "BR-AG-08",
        _ => "vat-basis",
    }
}

fn profile_name(profile: Profile) -> &'static str {
    match profile {
        Profile::Minimum => "MINIMUM",
        Profile::BasicWl => "BASIC WL",
        Profile::Basic => "BASIC",
        Profile::En16931 => "EN 16931",
        Profile::Extended => "EXTENDED",
        Profile::Xrechnung => "XRECHNUNG",
    }
}

/// How messages name a breakdown: `VAT category S at 19%`.
fn name(breakdown: &VatBreakdown) -> String {
    match breakdown.rate {
        Some(rate) => format!("VAT category {} at {}%", breakdown.category, show_exact(rate)),
        None => format!("VAT category {}", breakdown.category),
    }
}

/// The sum of amounts each rounded to the cent first, as each is stated to the cent; `None` on overflow.
fn sum(amounts: impl IntoIterator<Item = Amount>) -> Option<Amount> {
    amounts.into_iter().try_fold(Decimal::ZERO, |total, amount| total.checked_add(cents(amount)))
}

/// An amount to the cent, half away from zero (1.005 → 1.01, −1.005 → −1.01), as EN 16931 rounds.
fn cents(amount: Amount) -> Amount {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// An amount to the cent with both decimals, as invoices print it: `1234.50`.
fn show(amount: Amount) -> String {
    let mut cents = cents(amount);
    cents.rescale(2);
    cents.to_string()
}

/// A quantity, price, rate or exact product as it is, without trailing zeros, to at most 6 decimals.
fn show_exact(value: Decimal) -> String {
    let short = value.round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero).normalize();
    if short == value { short.to_string() } else { format!("≈{short}") }
}

#[cfg(test)]
mod tests;

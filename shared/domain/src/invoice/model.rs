//! An invoice as read from a supplier's PDF: the fields EN 16931 names (the business terms `BT-n` cited on each
//! field), amounts as exact decimals. A parser fills in what the document states and nothing it would have to
//! guess; [`super::validate`] decides whether what was stated adds up.
//!
//! Serialised, this is the JSON `local invoices parse` prints and `GET /invoices/{id}` returns: dates as
//! `YYYY-MM-DD`, amounts as decimal strings (`"1234.50"`, never a float), absent values as `null`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// An amount or a quantity, exact. Serialised as a string so no JSON reader turns it into a float.
pub type Amount = Decimal;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    /// BT-1, the seller's invoice number.
    pub number: String,
    /// BT-2.
    #[serde(with = "iso_date")]
    pub issue_date: Date,
    /// BT-9, the payment due date, when stated.
    #[serde(with = "iso_date::option")]
    pub due_date: Option<Date>,
    /// BT-5, as written; validation checks it is an ISO 4217 code.
    pub currency: String,
    /// BG-4.
    pub seller: Seller,
    /// BG-7.
    pub buyer: Buyer,
    /// BG-25. Empty when the document carries no lines (Factur-X MINIMUM and BASIC WL profiles).
    pub lines: Vec<Line>,
    /// BT-109, the total without VAT (the tax basis).
    #[serde(with = "rust_decimal::serde::str")]
    pub net: Amount,
    /// BT-110, the VAT total.
    #[serde(with = "rust_decimal::serde::str")]
    pub tax: Amount,
    /// BT-112, the total with VAT.
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Amount,
    /// BT-106, the sum of the lines' net amounts, when stated.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub line_total: Option<Amount>,
    /// BT-107, document-level allowances, when stated.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub allowances: Option<Amount>,
    /// BT-108, document-level charges, when stated.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub charges: Option<Amount>,
    /// BT-113, the amount already paid, when stated.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub prepaid: Option<Amount>,
    /// BT-115, the amount due for payment, when stated.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub amount_due: Option<Amount>,
    /// BG-23, the VAT breakdown by category and rate. Empty when the document states none.
    pub vat: Vec<VatBreakdown>,
    /// Where the fields were read from.
    pub source: Source,
    /// The CII profile of an embedded XML (`None` for the text layer).
    pub profile: Option<Profile>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seller {
    /// BT-27.
    pub name: String,
    /// BT-31, e.g. `DE123456789`.
    pub vat_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buyer {
    /// BT-44.
    pub name: Option<String>,
    /// BT-49 (the buyer's electronic address, scheme EM) or a contact email (BT-58).
    pub email: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// BT-153 (item name), with BT-154 (description) when that is all there is.
    pub description: String,
    /// BT-129, the invoiced quantity.
    #[serde(with = "rust_decimal::serde::str")]
    pub quantity: Amount,
    /// BT-146, the item's net price (per `base_quantity` units).
    #[serde(with = "rust_decimal::serde::str")]
    pub unit_price: Amount,
    /// BT-131, the line's net amount.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Amount,
    /// BT-149, the quantity the price is for (1 when not stated).
    #[serde(with = "rust_decimal::serde::str_option")]
    pub base_quantity: Option<Amount>,
    /// BT-151, the line's VAT category code (`S`, `Z`, `E`, `AE`, `K`, `G`, `O`, `L`, `M`).
    pub vat_category: Option<String>,
    /// BT-152, the line's VAT rate in percent.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub vat_rate: Option<Amount>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VatBreakdown {
    /// BT-118.
    pub category: String,
    /// BT-119, in percent.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub rate: Option<Amount>,
    /// BT-116, the taxable amount of this category and rate.
    #[serde(with = "rust_decimal::serde::str")]
    pub basis: Amount,
    /// BT-117.
    #[serde(with = "rust_decimal::serde::str")]
    pub tax: Amount,
}

/// Where an invoice's fields came from: an embedded structured invoice (authoritative) or the text layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Facturx,
    Zugferd,
    Xrechnung,
    Text,
}

/// The CII profile an embedded XML declares (its `GuidelineSpecifiedDocumentContextParameter`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Minimum,
    BasicWl,
    Basic,
    En16931,
    Extended,
    Xrechnung,
}

impl Profile {
    /// Whether documents of this profile carry invoice lines (MINIMUM and BASIC WL do not).
    pub fn has_lines(self) -> bool {
        !matches!(self, Profile::Minimum | Profile::BasicWl)
    }
}

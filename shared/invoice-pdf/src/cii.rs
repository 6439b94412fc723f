//! The embedded XML read into an [`Invoice`]: UN/CEFACT CII D16B (Factur-X 1.0, ZUGFeRD 2.x, XRechnung's CII
//! syntax) and ZUGFeRD 1.0's CII 2013 draft (`CrossIndustryDocument`), which names the same business terms with
//! older element names.
//!
//! One streaming pass with quick-xml over the elements, matched by local name and parent, not by namespace
//! prefix (generators use `rsm:`, `ram:`, none, or their own). What the XML states is taken as stated: amounts
//! as exact decimals, dates in format 102 (`YYYYMMDD`). A mandatory term that is missing or unreadable is an
//! error naming its EN 16931 number; nothing is filled in from the text layer.

use std::borrow::Cow;
use std::str::FromStr;

use domain::invoice::{Amount, Buyer, Invoice, Line, Profile, Seller, Source, VatBreakdown};
use quick_xml::events::{BytesStart, Event};
use rust_decimal::Decimal;
use time::{Date, Month};

use crate::embedded::Attachment;

/// Elements nested deeper than this are not CII (whose deepest path is 8 elements).
const MAX_DEPTH: usize = 64;
/// Invoice lines read (the largest real invoices have a few thousand).
const MAX_LINES: usize = 100_000;

/// The invoice in `attachment`, or why it cannot be read (for a person).
pub(crate) fn parse(attachment: &Attachment) -> Result<Invoice, String> {
    let text = xml_text(&attachment.xml);
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut collected = Collected::default();
    let mut path: Vec<Element> = Vec::new();
    let mut value = String::new();
    loop {
        let event = reader.read_event().map_err(|e| format!("it is not well-formed XML ({e})"))?;
        match event {
            Event::Start(start) => {
                if path.len() >= MAX_DEPTH {
                    return Err("its elements nest too deep".to_owned());
                }
                path.push(Element::from(&start));
                value.clear();
                collected.open(&path)?;
            }
            Event::Empty(start) => {
                path.push(Element::from(&start));
                collected.open(&path)?;
                collected.leaf(&path, "")?;
                collected.close(&path);
                path.pop();
            }
            // Only the text of elements this module reads is kept.
            _ if path.last().is_none_or(|e| e.name.is_empty()) && !matches!(event, Event::End(_) | Event::Eof) => {}
            Event::Text(text) => value.push_str(&text.xml10_content()),
            Event::CData(data) => value.push_str(&data.xml10_content()),
            Event::GeneralRef(reference) => match reference.resolve_char_ref() {
                Ok(Some(c)) => value.push(c),
                _ => value.push_str(match reference.xml10_content().as_ref() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => "",
                }),
            },
            Event::End(_) => {
                if !path.is_empty() {
                    collected.leaf(&path, value.trim())?;
                    collected.close(&path);
                    path.pop();
                }
                value.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !path.is_empty() {
        return Err("it ends before its root element is closed".to_owned());
    }
    collected.invoice(attachment)
}

/// The XML as text: UTF-8 (a byte-order mark dropped), or Latin-1 for the rare file that is not UTF-8.
pub(crate) fn xml_text(xml: &[u8]) -> Cow<'_, str> {
    let xml = xml.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(xml);
    match std::str::from_utf8(xml) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => Cow::Owned(xml.iter().map(|&b| char::from(b)).collect()),
    }
}

/// The element names this module looks at; any other is read as `""` (and its text is not kept).
const NAMES: &[&str] = &[
    "CrossIndustryInvoice",
    "CrossIndustryDocument",
    "GuidelineSpecifiedDocumentContextParameter",
    "ID",
    "ExchangedDocument",
    "HeaderExchangedDocument",
    "IssueDateTime",
    "DueDateDateTime",
    "DateTimeString",
    LINE,
    "SpecifiedTradeProduct",
    "Name",
    "Description",
    "NetPriceProductTradePrice",
    "ChargeAmount",
    "BasisQuantity",
    "BilledQuantity",
    "ApplicableTradeTax",
    "CategoryCode",
    "RateApplicablePercent",
    "ApplicablePercent",
    "LineTotalAmount",
    "CalculatedAmount",
    "BasisAmount",
    "ApplicableHeaderTradeSettlement",
    "ApplicableSupplyChainTradeSettlement",
    "SellerTradeParty",
    "BuyerTradeParty",
    "SpecifiedTaxRegistration",
    "URIID",
    "URIUniversalCommunication",
    "EmailURIUniversalCommunication",
    "InvoiceCurrencyCode",
    "SpecifiedTradeSettlementHeaderMonetarySummation",
    "SpecifiedTradeSettlementMonetarySummation",
    "ChargeTotalAmount",
    "AllowanceTotalAmount",
    "TaxBasisTotalAmount",
    "TaxTotalAmount",
    "GrandTotalAmount",
    "TotalPrepaidAmount",
    "DuePayableAmount",
];

/// An open element: its local name (one of [`NAMES`], or `""`) and the attributes CII gives meaning to.
struct Element {
    name: &'static str,
    scheme: Option<String>,
    currency: Option<String>,
    format: Option<String>,
}

impl Element {
    fn from(start: &BytesStart<'_>) -> Element {
        let local = start.local_name();
        let name = NAMES.iter().find(|n| **n == local.as_ref()).copied().unwrap_or("");
        let mut element = Element { name, scheme: None, currency: None, format: None };
        if !matches!(name, "ID" | "URIID" | "DateTimeString" | "TaxTotalAmount") {
            return element;
        }
        for attribute in start.attributes().flatten() {
            let value =
                || attribute.normalized_value(quick_xml::XmlVersion::Implicit1_0).map(|v| v.trim().to_owned()).ok();
            match attribute.key.local_name().as_ref() {
                "schemeID" => element.scheme = value(),
                "currencyID" => element.currency = value(),
                "format" => element.format = value(),
                _ => {}
            }
        }
        element
    }
}

#[derive(Default)]
struct LineBuilder {
    name: Option<String>,
    description: Option<String>,
    quantity: Option<Amount>,
    unit_price: Option<Amount>,
    base_quantity: Option<Amount>,
    amount: Option<Amount>,
    category: Option<String>,
    rate: Option<Amount>,
}

#[derive(Default)]
struct TaxBuilder {
    category: Option<String>,
    rate: Option<Amount>,
    basis: Option<Amount>,
    tax: Option<Amount>,
}

#[derive(Default)]
struct Collected {
    guideline: Option<String>,
    number: Option<String>,
    issue_date: Option<Date>,
    due_date: Option<Date>,
    currency: Option<String>,
    seller_name: Option<String>,
    seller_vat: Option<String>,
    buyer_name: Option<String>,
    buyer_address: Option<String>,
    buyer_contact_email: Option<String>,
    lines: Vec<LineBuilder>,
    line: Option<LineBuilder>,
    taxes: Vec<TaxBuilder>,
    tax: Option<TaxBuilder>,
    line_total: Option<Amount>,
    charges: Option<Amount>,
    allowances: Option<Amount>,
    tax_basis: Option<Amount>,
    /// Every `TaxTotalAmount` with its `currencyID`: BT-110 is the one in the invoice currency, BT-111 the one in
    /// the accounting currency.
    tax_totals: Vec<(Option<String>, Amount)>,
    grand_total: Option<Amount>,
    prepaid: Option<Amount>,
    due_payable: Option<Amount>,
}

fn name_at(path: &[Element], from_end: usize) -> &'static str {
    path.len().checked_sub(from_end + 1).map_or("", |i| path[i].name)
}

fn within(path: &[Element], name: &str) -> bool {
    path.iter().any(|e| e.name == name)
}

const HEADER_SETTLEMENT: [&str; 2] = ["ApplicableHeaderTradeSettlement", "ApplicableSupplyChainTradeSettlement"];
const DOCUMENT: [&str; 2] = ["ExchangedDocument", "HeaderExchangedDocument"];
const LINE: &str = "IncludedSupplyChainTradeLineItem";

impl Collected {
    fn open(&mut self, path: &[Element]) -> Result<(), String> {
        let (element, parent) = (name_at(path, 0), name_at(path, 1));
        if element == LINE {
            if self.lines.len() >= MAX_LINES {
                return Err(format!("it has more than {MAX_LINES} lines"));
            }
            self.line = Some(LineBuilder::default());
        } else if element == "ApplicableTradeTax" && HEADER_SETTLEMENT.contains(&parent) {
            self.tax = Some(TaxBuilder::default());
        }
        Ok(())
    }

    fn close(&mut self, path: &[Element]) {
        let (element, parent) = (name_at(path, 0), name_at(path, 1));
        if element == LINE {
            self.lines.extend(self.line.take());
        } else if element == "ApplicableTradeTax" && HEADER_SETTLEMENT.contains(&parent) {
            self.taxes.extend(self.tax.take());
        }
    }

    fn leaf(&mut self, path: &[Element], value: &str) -> Result<(), String> {
        let Some(element) = path.last() else { return Ok(()) };
        let (leaf, parent, grandparent) = (element.name, name_at(path, 1), name_at(path, 2));
        let text = || Some(value.to_owned()).filter(|v| !v.is_empty());
        let amount = || decimal(leaf, value);

        if let Some(line) = self.line.as_mut() {
            match (leaf, parent) {
                ("Name", "SpecifiedTradeProduct") => line.name = text(),
                ("Description", "SpecifiedTradeProduct") => line.description = text(),
                ("ChargeAmount", "NetPriceProductTradePrice") => line.unit_price = amount()?,
                ("BasisQuantity", "NetPriceProductTradePrice") => line.base_quantity = amount()?,
                ("BilledQuantity", _) => line.quantity = amount()?,
                ("CategoryCode", "ApplicableTradeTax") => line.category = text(),
                ("RateApplicablePercent" | "ApplicablePercent", "ApplicableTradeTax") => line.rate = amount()?,
                ("LineTotalAmount", _) => line.amount = amount()?,
                _ => {}
            }
            return Ok(());
        }
        if let Some(tax) = self.tax.as_mut()
            && parent == "ApplicableTradeTax"
        {
            match leaf {
                "CalculatedAmount" => tax.tax = amount()?,
                "BasisAmount" => tax.basis = amount()?,
                "CategoryCode" => tax.category = text(),
                "RateApplicablePercent" | "ApplicablePercent" => tax.rate = amount()?,
                _ => {}
            }
            return Ok(());
        }
        match (leaf, parent) {
            ("ID", "GuidelineSpecifiedDocumentContextParameter") => self.guideline = text(),
            ("ID", p) if DOCUMENT.contains(&p) => self.number = text(),
            ("DateTimeString", "IssueDateTime") if DOCUMENT.contains(&grandparent) => {
                self.issue_date = Some(date(value, element.format.as_deref()).map_err(|e| format!("BT-2 {e}"))?);
            }
            ("DateTimeString", "DueDateDateTime") if self.due_date.is_none() => {
                self.due_date = Some(date(value, element.format.as_deref()).map_err(|e| format!("BT-9 {e}"))?);
            }
            ("Name", "SellerTradeParty") => self.seller_name = text(),
            ("ID", "SpecifiedTaxRegistration")
                if grandparent == "SellerTradeParty"
                    && element.scheme.as_deref() == Some("VA")
                    && self.seller_vat.is_none() =>
            {
                self.seller_vat = text();
            }
            ("Name", "BuyerTradeParty") => self.buyer_name = text(),
            ("URIID", "URIUniversalCommunication")
                if grandparent == "BuyerTradeParty" && element.scheme.as_deref() == Some("EM") =>
            {
                self.buyer_address = text();
            }
            ("URIID", "EmailURIUniversalCommunication")
                if within(path, "BuyerTradeParty") && self.buyer_contact_email.is_none() =>
            {
                self.buyer_contact_email = text();
            }
            ("InvoiceCurrencyCode", _) => self.currency = text(),
            (_, "SpecifiedTradeSettlementHeaderMonetarySummation" | "SpecifiedTradeSettlementMonetarySummation") => {
                match leaf {
                    "LineTotalAmount" => self.line_total = amount()?,
                    "ChargeTotalAmount" => self.charges = amount()?,
                    "AllowanceTotalAmount" => self.allowances = amount()?,
                    "TaxBasisTotalAmount" => self.tax_basis = amount()?,
                    "TaxTotalAmount" => {
                        if let Some(total) = amount()? {
                            self.tax_totals.push((element.currency.clone(), total));
                        }
                    }
                    "GrandTotalAmount" => self.grand_total = amount()?,
                    "TotalPrepaidAmount" => self.prepaid = amount()?,
                    "DuePayableAmount" => self.due_payable = amount()?,
                    _ => {}
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn invoice(self, attachment: &Attachment) -> Result<Invoice, String> {
        let missing = |term: &str| format!("it has no {term}");
        let currency = self.currency.ok_or_else(|| missing("BT-5 invoice currency (InvoiceCurrencyCode)"))?;
        let net = self.tax_basis.ok_or_else(|| missing("BT-109 total without VAT (TaxBasisTotalAmount)"))?;
        let total = self.grand_total.ok_or_else(|| missing("BT-112 total with VAT (GrandTotalAmount)"))?;
        // BT-110 is the TaxTotalAmount in the invoice currency; one without a currencyID when it is the only one.
        let tax = self
            .tax_totals
            .iter()
            .find(|(c, _)| c.as_deref() == Some(currency.as_str()))
            .or_else(|| self.tax_totals.iter().find(|(c, _)| c.is_none()))
            .map(|(_, amount)| *amount)
            .or_else(|| (!self.taxes.is_empty()).then(|| self.taxes.iter().filter_map(|t| t.tax).sum()))
            .or_else(|| (total == net).then_some(Decimal::ZERO))
            .ok_or_else(|| missing("BT-110 VAT total (TaxTotalAmount) in the invoice currency"))?;
        let mut lines = Vec::with_capacity(self.lines.len());
        for (i, line) in self.lines.into_iter().enumerate() {
            let n = i + 1;
            let missing = |term: &str| format!("its line {n} has no {term}");
            lines.push(Line {
                description: line.name.or(line.description).ok_or_else(|| missing("BT-153 item name"))?,
                quantity: line.quantity.ok_or_else(|| missing("BT-129 quantity (BilledQuantity)"))?,
                unit_price: line.unit_price.ok_or_else(|| missing("BT-146 net price (ChargeAmount)"))?,
                amount: line.amount.ok_or_else(|| missing("BT-131 net amount (LineTotalAmount)"))?,
                base_quantity: line.base_quantity,
                vat_category: line.category,
                vat_rate: line.rate,
            });
        }
        let vat = self
            .taxes
            .into_iter()
            .filter_map(|t| Some(VatBreakdown { category: t.category?, rate: t.rate, basis: t.basis?, tax: t.tax? }))
            .collect();
        let guideline = self.guideline.unwrap_or_default();
        Ok(Invoice {
            number: self.number.ok_or_else(|| missing("BT-1 invoice number"))?,
            issue_date: self.issue_date.ok_or_else(|| missing("BT-2 issue date"))?,
            due_date: self.due_date,
            currency,
            seller: Seller {
                name: self.seller_name.ok_or_else(|| missing("BT-27 seller name"))?,
                vat_id: self.seller_vat,
            },
            buyer: Buyer { name: self.buyer_name, email: self.buyer_address.or(self.buyer_contact_email) },
            lines,
            net,
            tax,
            total,
            line_total: self.line_total,
            allowances: self.allowances,
            charges: self.charges,
            prepaid: self.prepaid,
            amount_due: self.due_payable,
            vat,
            source: source(&guideline, attachment),
            profile: profile(&guideline),
        })
    }
}

fn decimal(element: &str, value: &str) -> Result<Option<Amount>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    Decimal::from_str(value.strip_prefix('+').unwrap_or(value))
        .map(Some)
        .map_err(|_| format!("its {element} {value:?} is not a number"))
}

/// A CII date: format 102 is `YYYYMMDD` (the only one EN 16931 allows for these dates).
fn date(value: &str, format: Option<&str>) -> Result<Date, String> {
    if !matches!(format, None | Some("102")) {
        return Err(format!("date {value:?} has format {}, not 102 (YYYYMMDD)", format.unwrap_or("")));
    }
    let bad = || format!("date {value:?} is not a date in the format YYYYMMDD");
    if value.len() != 8 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let (y, m, d) = (
        value[..4].parse().map_err(|_| bad())?,
        value[4..6].parse::<u8>().map_err(|_| bad())?,
        value[6..].parse().map_err(|_| bad())?,
    );
    Date::from_calendar_date(y, Month::try_from(m).map_err(|_| bad())?, d).map_err(|_| bad())
}

/// XRechnung by its specification identifier; ZUGFeRD by the 1.0 root, the file name or the identifier; else
/// Factur-X (ZUGFeRD 2.1 and Factur-X 1.0 share identifiers and differ only in the file name).
fn source(guideline: &str, attachment: &Attachment) -> Source {
    let guideline = guideline.to_ascii_lowercase();
    if guideline.contains("xeinkauf.de:kosit:xrechnung") {
        Source::Xrechnung
    } else if attachment.zugferd1
        || attachment.name.to_ascii_lowercase().contains("zugferd")
        || guideline.contains("zugferd")
    {
        Source::Zugferd
    } else {
        Source::Facturx
    }
}

/// The profile a guideline identifier names. ZUGFeRD 1.0's COMFORT is the forerunner of EN 16931.
fn profile(guideline: &str) -> Option<Profile> {
    let g = guideline.to_ascii_lowercase();
    Some(if g.contains("xrechnung") {
        Profile::Xrechnung
    } else if g.contains("extended") {
        Profile::Extended
    } else if g.contains("basicwl") || g.contains("basic-wl") || g.contains("basic_wl") {
        Profile::BasicWl
    } else if g.contains(":basic") {
        Profile::Basic
    } else if g.contains(":minimum") {
        Profile::Minimum
    } else if g.contains(":comfort") || g.contains("en16931") {
        Profile::En16931
    } else {
        return None;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guideline_identifiers_name_their_profile() {
        assert_eq!(profile("urn:factur-x.eu:1p0:minimum"), Some(Profile::Minimum));
        assert_eq!(profile("urn:factur-x.eu:1p0:basicwl"), Some(Profile::BasicWl));
        assert_eq!(profile("urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic"), Some(Profile::Basic));
        assert_eq!(profile("urn:cen.eu:en16931:2017"), Some(Profile::En16931));
        assert_eq!(profile("urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended"), Some(Profile::Extended));
        assert_eq!(
            profile("urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"),
            Some(Profile::Xrechnung)
        );
        assert_eq!(profile("urn:ferd:CrossIndustryDocument:invoice:1p0:comfort"), Some(Profile::En16931));
        assert_eq!(profile("urn:example:unknown"), None);
    }

    #[test]
    fn dates_are_format_102_only() {
        assert_eq!(date("20260331", Some("102")).map(|d| d.to_string()), Ok("2026-03-31".to_owned()));
        assert!(date("20260231", None).is_err());
        assert!(date("202603", Some("610")).is_err());
    }
}

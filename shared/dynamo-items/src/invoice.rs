//! Invoice records and number claims as items of the invoices table (see [`schema::INVOICE_OWNER`] for the layout).
//!
//! A record keeps the invoice's fields as one map attribute, written by the model's own serde: amounts are decimal
//! strings inside it (`"1234.50"`, never an `N`, which a reader could take for a float), so they read back exact
//! and with their scale. Top-level options are absent attributes, never NULLs.

use crate::{Direction, ItemError, Source, describe_key, schema};
use domain::invoice::validate::seller_key;
use domain::invoice::{Invoice, InvoiceId, InvoiceRecord, InvoiceStatus, ObjectFingerprint, Problem};
use domain::{Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// An invoice record as stored. Field names are attribute names (a test checks they are exactly
/// [`schema::INVOICE_ATTRIBUTES`]).
#[derive(Debug, Serialize, Deserialize)]
struct InvoiceItem {
    owner: String,
    id: String,
    status: String,
    owner_status: String,
    object: ObjectFingerprint,
    #[serde(with = "time::serde::rfc3339")]
    received_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    execution_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    invoice: Option<Invoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    problem: Option<Problem>,
}

/// A number claim as stored.
#[derive(Debug, Serialize, Deserialize)]
struct ClaimItem {
    owner: String,
    id: String,
    invoice_id: String,
}

/// The item `record` is stored as: every attribute of [`schema::INVOICE_ATTRIBUTES`] it has a value for,
/// `owner_status` in step with the status.
pub fn invoice_to_item<I: From<serde_dynamo::Item>>(record: &InvoiceRecord) -> Result<I, ItemError> {
    let item = InvoiceItem {
        owner: record.owner.as_str().to_owned(),
        id: record.id.to_string(),
        status: record.status.as_str().to_owned(),
        owner_status: schema::invoice_owner_status(&record.owner, record.status),
        object: record.object.clone(),
        received_at: record.received_at,
        updated_at: record.updated_at,
        execution_arn: record.execution_arn.clone(),
        invoice: record.invoice.clone(),
        problem: record.problem.clone(),
    };
    serde_dynamo::to_item(item).map_err(|e| ItemError {
        what: "invoice",
        key: record_key(&record.owner, record.id),
        direction: Direction::Write,
        source: Box::new(e),
    })
}

/// The invoice record `item` holds, read through the domain's parsers; `owner_status` must agree with owner and
/// status.
pub fn invoice_from_item<I: Into<serde_dynamo::Item>>(item: I) -> Result<InvoiceRecord, ItemError> {
    let item: serde_dynamo::Item = item.into();
    let key = describe_key(&item, &[schema::INVOICE_OWNER, schema::INVOICE_ID]);
    let corrupt = |source: Source| ItemError { what: "invoice", key: key.clone(), direction: Direction::Read, source };
    let raw: InvoiceItem = serde_dynamo::from_item(item).map_err(|e| corrupt(Box::new(e)))?;
    let parse = || -> Result<InvoiceRecord, Source> {
        let owner = UserId::parse(&raw.owner)?;
        let status = InvoiceStatus::parse(&raw.status)?;
        let expected_owner_status = schema::invoice_owner_status(&owner, status);
        if raw.owner_status != expected_owner_status {
            // The index would file this invoice under the wrong status; better to say so than to list it wrongly.
            return Err(format!(
                "`{}` is `{}` but owner and status make `{expected_owner_status}`",
                schema::INVOICE_OWNER_STATUS,
                raw.owner_status
            )
            .into());
        }
        Ok(InvoiceRecord {
            id: InvoiceId::parse(&raw.id)?,
            owner,
            status,
            object: raw.object,
            received_at: raw.received_at,
            updated_at: raw.updated_at,
            execution_arn: raw.execution_arn,
            invoice: raw.invoice,
            problem: raw.problem,
        })
    };
    parse().map_err(corrupt)
}

/// The key of `owner`'s claim on `number` from the seller `seller_key` names: partition [`schema::number_claims`],
/// sort key [`schema::number_claim`].
pub fn invoice_claim_key<I: From<serde_dynamo::Item>>(owner: &UserId, seller_key: &str, number: &str) -> I {
    let key: std::collections::HashMap<String, serde_dynamo::AttributeValue> = [
        (schema::INVOICE_OWNER.to_owned(), serde_dynamo::AttributeValue::S(schema::number_claims(owner))),
        (schema::INVOICE_ID.to_owned(), serde_dynamo::AttributeValue::S(schema::number_claim(seller_key, number))),
    ]
    .into_iter()
    .collect();
    I::from(serde_dynamo::Item::from(key))
}

/// The claim item a stored `record` holds on its seller and number. A record without fields has nothing to claim
/// (and cannot be stored): an error.
pub fn invoice_claim_to_item<I: From<serde_dynamo::Item>>(record: &InvoiceRecord) -> Result<I, ItemError> {
    let invoice = record.invoice.as_ref().ok_or_else(|| ItemError {
        what: "invoice number claim",
        key: record_key(&record.owner, record.id),
        direction: Direction::Write,
        source: "a stored invoice needs its fields: the claim is on its seller and number".into(),
    })?;
    let item = ClaimItem {
        owner: schema::number_claims(&record.owner),
        id: schema::number_claim(&seller_key(invoice), &invoice.number),
        invoice_id: record.id.to_string(),
    };
    serde_dynamo::to_item(item).map_err(|e| ItemError {
        what: "invoice number claim",
        key: record_key(&record.owner, record.id),
        direction: Direction::Write,
        source: Box::new(e),
    })
}

/// The id of the invoice holding the claim `item` is.
pub fn invoice_claim_from_item<I: Into<serde_dynamo::Item>>(item: I) -> Result<InvoiceId, ItemError> {
    let item: serde_dynamo::Item = item.into();
    let key = describe_key(&item, &[schema::INVOICE_OWNER, schema::INVOICE_ID]);
    let corrupt = |source: Source| ItemError {
        what: "invoice number claim",
        key: key.clone(),
        direction: Direction::Read,
        source,
    };
    let raw: ClaimItem = serde_dynamo::from_item(item).map_err(|e| corrupt(Box::new(e)))?;
    InvoiceId::parse(&raw.invoice_id).map_err(|e| corrupt(Box::new(e)))
}

fn record_key(owner: &UserId, id: InvoiceId) -> String {
    format!("{}={owner}, {}={id}", schema::INVOICE_OWNER, schema::INVOICE_ID)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::invoice::{Buyer, Line, Seller, Source as Origin, VatBreakdown};
    use serde_dynamo::{AttributeValue, Item};
    use std::collections::BTreeSet;
    use std::error::Error as _;
    use std::str::FromStr;

    fn dec(raw: &str) -> domain::invoice::Amount {
        domain::invoice::Amount::from_str(raw).unwrap()
    }

    fn full_record() -> InvoiceRecord {
        let at = domain::now();
        let object = ObjectFingerprint {
            bucket: "uploads".into(),
            key: "invoices/u-1/a.pdf".into(),
            etag: "\"abc\"".into(),
            version_id: Some("v1".into()),
        };
        let invoice = Invoice {
            number: "INV#7".into(),
            issue_date: time::macros::date!(2025 - 03 - 31),
            due_date: Some(time::macros::date!(2025 - 04 - 30)),
            currency: "EUR".into(),
            seller: Seller { name: "ACME".into(), vat_id: Some("DE123456789".into()) },
            buyer: Buyer { name: Some("Ada".into()), email: None },
            lines: vec![Line {
                description: "x".into(),
                quantity: dec("1.50"),
                unit_price: dec("12345678901234567.10"),
                amount: dec("18518518351851850.650"),
                base_quantity: None,
                vat_category: Some("S".into()),
                vat_rate: Some(dec("19.00")),
            }],
            net: dec("18518518351851850.65"),
            tax: dec("0.00"),
            total: dec("18518518351851850.65"),
            line_total: None,
            allowances: None,
            charges: None,
            prepaid: Some(dec("0.10")),
            amount_due: None,
            vat: vec![VatBreakdown { category: "S".into(), rate: None, basis: dec("1"), tax: dec("0") }],
            source: Origin::Zugferd,
            profile: None,
        };
        InvoiceRecord {
            id: InvoiceId::derive(at, &object),
            owner: UserId::parse("u-1").unwrap(),
            status: InvoiceStatus::Rejected,
            object,
            received_at: at,
            updated_at: at,
            execution_arn: Some("arn:aws:states:us-east-1:123456789012:execution:P:e".into()),
            invoice: Some(invoice),
            problem: Some(Problem { state: "Validate".into(), code: "BR-CO-15".into(), reason: "no".into() }),
        }
    }

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.to_owned())
    }

    #[test]
    fn a_record_writes_exactly_the_attribute_names_of_the_schema_and_reads_back_equal() {
        let r = full_record();
        let item: Item = invoice_to_item(&r).unwrap();
        let names: BTreeSet<_> = item.clone().into_inner().into_keys().collect();
        assert_eq!(names, schema::INVOICE_ATTRIBUTES.iter().map(|s| s.to_string()).collect());
        assert_eq!(item[schema::INVOICE_STATUS], s("rejected"));
        assert_eq!(item[schema::INVOICE_OWNER_STATUS], s("u-1#rejected"));
        assert_eq!(invoice_from_item(item).unwrap(), r);
    }

    #[test]
    fn amounts_are_strings_inside_the_invoice_map_and_keep_their_scale() {
        let r = full_record();
        let item: Item = invoice_to_item(&r).unwrap();
        let AttributeValue::M(fields) = &item[schema::INVOICE_FIELDS] else { panic!("{item:?}") };
        assert_eq!(fields["total"], s("18518518351851850.65"));
        assert_eq!(fields["tax"], s("0.00"));
        assert_eq!(fields["issue_date"], s("2025-03-31"));
        let AttributeValue::L(lines) = &fields["lines"] else { panic!("{fields:?}") };
        let AttributeValue::M(line) = &lines[0] else { panic!("{lines:?}") };
        assert_eq!(line["unit_price"], s("12345678901234567.10"));
        // Through DynamoDB JSON, as a stream image or the console shows it.
        let back: Item = serde_json::from_value(serde_json::to_value(&item).unwrap()).unwrap();
        let invoice = invoice_from_item(back).unwrap().invoice.unwrap();
        assert_eq!(invoice.tax.to_string(), "0.00");
        assert_eq!(invoice.lines[0].amount.to_string(), "18518518351851850.650");
    }

    #[test]
    fn absent_options_are_absent_attributes_not_nulls() {
        let mut r = full_record();
        r.status = InvoiceStatus::Failed;
        (r.execution_arn, r.invoice, r.problem, r.object.version_id) = (None, None, None, None);
        let item: Item = invoice_to_item(&r).unwrap();
        for absent in [schema::INVOICE_EXECUTION_ARN, schema::INVOICE_FIELDS, schema::INVOICE_PROBLEM] {
            assert!(!item.contains_key(absent), "{absent}");
        }
        let AttributeValue::M(object) = &item[schema::INVOICE_OBJECT] else { panic!("{item:?}") };
        assert!(!object.contains_key("version_id"));
        assert_eq!(invoice_from_item(item).unwrap(), r);
    }

    #[test]
    fn an_item_the_domain_refuses_is_an_error_naming_its_key_and_keeping_the_cause() {
        let cases: [(&str, AttributeValue); 5] = [
            (schema::INVOICE_STATUS, s("paid")),
            (schema::INVOICE_OWNER_STATUS, s("u-1#stored")),
            (schema::INVOICE_RECEIVED_AT, s("yesterday")),
            (schema::INVOICE_FIELDS, s("not a map")),
            (schema::INVOICE_OBJECT, AttributeValue::M(Default::default())),
        ];
        for (attr, value) in cases {
            let r = full_record();
            let mut item: Item = invoice_to_item(&r).unwrap();
            item.insert(attr.to_owned(), value);
            let err = invoice_from_item(item).unwrap_err();
            assert_eq!(err.key, format!("owner=u-1, id={}", r.id), "{attr}");
            assert_eq!(err.direction, Direction::Read);
            assert!(err.source().is_some(), "{attr}: the cause is kept");
        }
        let mut item: Item = invoice_to_item(&full_record()).unwrap();
        item.insert(schema::INVOICE_ID.to_owned(), s("not-an-id"));
        assert!(invoice_from_item(item).is_err());
    }

    #[test]
    fn a_claim_sits_in_the_owners_numbers_partition_under_seller_and_trimmed_number() {
        let mut r = full_record();
        r.invoice.as_mut().unwrap().number = " INV#7 ".into();
        let item: Item = invoice_claim_to_item(&r).unwrap();
        let names: BTreeSet<_> = item.clone().into_inner().into_keys().collect();
        assert_eq!(names, schema::INVOICE_CLAIM_ATTRIBUTES.iter().map(|s| s.to_string()).collect());
        let seller = seller_key(r.invoice.as_ref().unwrap());
        assert_eq!(item[schema::INVOICE_OWNER], s("u-1#numbers"));
        assert_eq!(item[schema::INVOICE_ID], s(&format!("{seller}#INV#7")));
        let key: Item = invoice_claim_key(&r.owner, &seller, "INV#7");
        assert_eq!((&key[schema::INVOICE_OWNER], &key[schema::INVOICE_ID]), (&item["owner"], &item["id"]));
        assert_eq!(invoice_claim_from_item(item).unwrap(), r.id);
        r.invoice = None;
        assert_eq!(invoice_claim_to_item::<Item>(&r).unwrap_err().direction, Direction::Write);
    }

    #[test]
    fn a_claim_naming_no_invoice_is_corrupt() {
        let mut item: Item = invoice_claim_to_item(&full_record()).unwrap();
        item.insert(schema::INVOICE_CLAIM_INVOICE_ID.to_owned(), s("?"));
        let err = invoice_claim_from_item(item).unwrap_err();
        assert!(err.key.starts_with("owner=u-1#numbers, id="), "{}", err.key);
    }
}

//! The DynamoDB invoice store against `moto_server`: the shared contract (`domain::invoice_contract`), then what is
//! particular to DynamoDB: the items a record and its claim are (keys, the index key, amounts as strings), a page
//! that reads only its items and one more, pages past the 1 MB response limit, and corrupt items.
//!
//! One moto per test binary ([`MotoServer::shared`]); each test gets a fresh client and a fresh table.

use aws_adapters::DynamoInvoices;
use aws_adapters::dynamo::schema::*;
use aws_adapters::dynamo::{CorruptItem, InvoiceMisuse};
use aws_adapters::testing::{MotoServer, new_invoices_table};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::invoice::ports::{InvoiceGet, InvoiceList, InvoiceNumberFind, InvoiceRefuse, InvoiceStore};
use domain::invoice::validate::seller_key;
use domain::invoice::{
    Amount, Buyer, Invoice, InvoiceId, InvoiceRecord, InvoiceStatus, Line, ObjectFingerprint, Problem, Seller, Source,
    StoreOutcome,
};
use domain::{Limit, StoreError, UserId};
use std::collections::HashMap;
use std::str::FromStr;

async fn table() -> (Client, String) {
    let client = MotoServer::shared().client();
    let table = new_invoices_table(&client).await;
    (client, table)
}

async fn invoices() -> (DynamoInvoices, ()) {
    let (client, table) = table().await;
    (DynamoInvoices::new(client, table), ())
}

// Without the two checks of concurrent stores: moto's TransactWriteItems drops concurrent writes when a transaction
// fails (see the macro's doc). A store that loses a race meets the same cancellation reasons as the sequential
// checks' second store (`AlreadyStored`, `Duplicate` from the claim returned with the reason).
domain::invoice_contract_tests!(sequential_only: invoices());

fn owner() -> UserId {
    UserId::parse(&format!("user-{:032x}", rand::random::<u128>())).unwrap()
}

fn amount(raw: &str) -> Amount {
    Amount::from_str(raw).unwrap()
}

/// An invoice of `lines` lines, each with a description of `width` characters.
fn invoice(number: &str, lines: usize, width: usize) -> Invoice {
    let line = Line {
        description: "w".repeat(width),
        quantity: amount("1"),
        unit_price: amount("10.00"),
        amount: amount("10.00"),
        base_quantity: None,
        vat_category: Some("S".into()),
        vat_rate: Some(amount("19")),
    };
    Invoice {
        number: number.to_owned(),
        issue_date: time::macros::date!(2025 - 01 - 15),
        due_date: None,
        currency: "EUR".into(),
        seller: Seller { name: "ACME".into(), vat_id: Some("DE123456789".into()) },
        buyer: Buyer { name: Some("Ada".into()), email: None },
        lines: vec![line; lines],
        net: amount("10.00"),
        tax: amount("1.90"),
        total: amount("11.90"),
        line_total: None,
        allowances: None,
        charges: None,
        prepaid: None,
        amount_due: None,
        vat: Vec::new(),
        source: Source::Text,
        profile: None,
    }
}

fn record(owner: &UserId, i: usize, invoice: Invoice) -> InvoiceRecord {
    let at = domain::now() - time::Duration::hours(1) + time::Duration::milliseconds(i as i64);
    let object = ObjectFingerprint {
        bucket: "uploads".into(),
        key: format!("invoices/{owner}/{i}.pdf"),
        etag: format!("\"{i:x}\""),
        version_id: None,
    };
    InvoiceRecord {
        id: InvoiceId::derive(at, &object),
        owner: owner.clone(),
        status: InvoiceStatus::Stored,
        object,
        received_at: at,
        updated_at: at,
        execution_arn: None,
        invoice: Some(invoice),
        problem: None,
    }
}

fn problem() -> Problem {
    Problem { state: "Email".into(), code: "MailRejected".into(), reason: "suppressed".into() }
}

fn limit(n: usize) -> Limit {
    Limit::parse(Some(&n.to_string())).unwrap()
}

async fn get_raw(client: &Client, table: &str, pk: &str, sk: &str) -> Option<HashMap<String, AttributeValue>> {
    client
        .get_item()
        .table_name(table)
        .key(INVOICE_OWNER, AttributeValue::S(pk.to_owned()))
        .key(INVOICE_ID, AttributeValue::S(sk.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .expect("raw get")
        .item
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_invoice_is_a_record_item_and_a_claim_item_in_the_owners_numbers_partition() {
    let (client, table) = table().await;
    let invoices = DynamoInvoices::new(client.clone(), &table);
    let alice = owner();
    let r = record(&alice, 1, invoice(" 2025/#7 ", 1, 10));
    assert_eq!(invoices.store_invoice(&r).await.unwrap(), StoreOutcome::Stored);

    let item = get_raw(&client, &table, alice.as_str(), &r.id.to_string()).await.expect("the record");
    assert_eq!(item[INVOICE_STATUS], s("stored"));
    assert_eq!(item[INVOICE_OWNER_STATUS], s(&format!("{alice}#stored")));
    let AttributeValue::M(fields) = &item[INVOICE_FIELDS] else { panic!("{item:?}") };
    assert_eq!(fields["total"], s("11.90"), "amounts are strings, scale kept");
    assert!(!item.contains_key(INVOICE_PROBLEM) && !item.contains_key(INVOICE_EXECUTION_ARN));

    let seller = seller_key(r.invoice.as_ref().unwrap());
    let claim_sort = format!("{seller}#2025/#7");
    let claim = get_raw(&client, &table, &format!("{alice}#numbers"), &claim_sort).await.expect("the claim");
    assert_eq!(claim.len(), 3, "{claim:?}");
    assert_eq!(claim[INVOICE_CLAIM_INVOICE_ID], s(&r.id.to_string()));
    assert_eq!(invoices.find_invoice_number(&alice, &seller, "2025/#7").await.unwrap(), Some(r.id));

    // The index holds records only: the claim has no `owner_status`.
    let indexed =
        client.scan().table_name(&table).index_name(BY_STATUS_INDEX).send().await.unwrap().items.unwrap_or_default();
    assert_eq!(indexed.len(), 1);
    assert_eq!(indexed[0][INVOICE_ID], s(&r.id.to_string()));

    // Refused, the record moves to the `failed` partition of the index and the claim is gone.
    invoices.refuse_invoice(&r, InvoiceStatus::Failed, &problem(), domain::now()).await.unwrap();
    let item = get_raw(&client, &table, alice.as_str(), &r.id.to_string()).await.expect("the record");
    assert_eq!(item[INVOICE_OWNER_STATUS], s(&format!("{alice}#failed")));
    assert!(matches!(&item[INVOICE_PROBLEM], AttributeValue::M(_)));
    assert_eq!(get_raw(&client, &table, &format!("{alice}#numbers"), &claim_sort).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_reads_only_its_invoices_and_one_more_from_the_table_or_the_index() {
    let (client, table) = table().await;
    let invoices = DynamoInvoices::new(client, table);
    let (alice, bob) = (owner(), owner());
    for who in [&bob, &alice] {
        for i in 0..60 {
            let r = record(who, i, invoice(&format!("N-{i}"), 1, 10));
            if i % 2 == 0 {
                invoices.store_invoice(&r).await.unwrap();
            } else {
                invoices.refuse_invoice(&r, InvoiceStatus::Rejected, &problem(), r.received_at).await.unwrap();
            }
        }
    }
    let (page, scanned) = invoices.list_invoices_counted(&alice, None, limit(26), None).await.unwrap();
    assert_eq!((page.invoices.len(), scanned), (26, 27));
    let (rest, scanned) = invoices.list_invoices_counted(&alice, None, limit(26), page.next).await.unwrap();
    assert_eq!((rest.invoices.len(), scanned), (26, 27));
    let (last, scanned) = invoices.list_invoices_counted(&alice, None, limit(26), rest.next).await.unwrap();
    assert_eq!((last.invoices.len(), last.next, scanned), (8, None, 8));

    let stored = Some(InvoiceStatus::Stored);
    let (page, scanned) = invoices.list_invoices_counted(&alice, stored, limit(20), None).await.unwrap();
    assert_eq!((page.invoices.len(), scanned), (20, 21));
    assert!(page.invoices.iter().all(|r| r.status == InvoiceStatus::Stored && r.owner == alice));
    let (rest, scanned) = invoices.list_invoices_counted(&alice, stored, limit(10), page.next).await.unwrap();
    assert_eq!((rest.invoices.len(), rest.next, scanned), (10, None, 10), "exactly the last 10: no `next`");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_of_large_invoices_past_the_one_megabyte_limit_are_whole_and_in_order() {
    let (client, table) = table().await;
    let invoices = DynamoInvoices::new(client, table);
    let alice = owner();
    // ~40 KB each: 60 of them are 2.4 MB, so a page of 55 takes several requests.
    let mut ids = Vec::new();
    for i in 0..60 {
        let r = record(&alice, i, invoice(&format!("BIG-{i}"), 40, 1000));
        invoices.store_invoice(&r).await.unwrap();
        ids.push(r.id);
    }
    ids.reverse();
    let (page, scanned) = invoices.list_invoices_counted(&alice, None, limit(55), None).await.unwrap();
    assert_eq!(page.invoices.iter().map(|r| r.id).collect::<Vec<_>>(), ids[..55]);
    assert_eq!((page.next, scanned), (Some(ids[54]), 56));
    assert_eq!(page.invoices[0].invoice.as_ref().unwrap().lines.len(), 40);
    let rest = invoices.list_invoices(&alice, None, limit(55), page.next).await.unwrap();
    assert_eq!((rest.invoices.iter().map(|r| r.id).collect::<Vec<_>>(), rest.next), (ids[55..].to_vec(), None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_record_or_claim_is_reported_unavailable_naming_its_key_not_a_panic() {
    let (client, table) = table().await;
    let invoices = DynamoInvoices::new(client.clone(), &table);
    let alice = owner();
    let r = record(&alice, 1, invoice("C-1", 1, 10));
    invoices.store_invoice(&r).await.unwrap();
    let corrupt = |err: StoreError| match err {
        StoreError::Unavailable(source) => source.downcast::<CorruptItem>().map(|c| *c).expect("a CorruptItem"),
        other => panic!("expected Unavailable(CorruptItem), got {other:?}"),
    };
    let set = |pk: String, sk: String, attr: &'static str, value: AttributeValue| {
        let client = client.clone();
        let table = table.clone();
        async move {
            client
                .update_item()
                .table_name(table)
                .key(INVOICE_OWNER, AttributeValue::S(pk))
                .key(INVOICE_ID, AttributeValue::S(sk))
                .update_expression("SET #a = :v")
                .expression_attribute_names("#a", attr)
                .expression_attribute_values(":v", value)
                .send()
                .await
                .unwrap();
        }
    };
    // Filed under another status in the index than it says it has.
    set(alice.to_string(), r.id.to_string(), INVOICE_OWNER_STATUS, s(&format!("{alice}#failed"))).await;
    let err = corrupt(invoices.get_invoice(&alice, r.id).await.unwrap_err());
    assert_eq!(err.key, format!("owner={alice}, id={}", r.id));
    assert_eq!(err.table, invoices.table());
    let err = corrupt(invoices.list_invoices(&alice, None, limit(10), None).await.unwrap_err());
    assert_eq!(err.what, "invoice");
    set(alice.to_string(), r.id.to_string(), INVOICE_OWNER_STATUS, s(&format!("{alice}#stored"))).await;
    set(alice.to_string(), r.id.to_string(), INVOICE_FIELDS, s("not a map")).await;
    corrupt(invoices.get_invoice(&alice, r.id).await.unwrap_err());

    let seller = seller_key(r.invoice.as_ref().unwrap());
    set(format!("{alice}#numbers"), format!("{seller}#C-1"), INVOICE_CLAIM_INVOICE_ID, s("nonsense")).await;
    let err = corrupt(invoices.find_invoice_number(&alice, &seller, "C-1").await.unwrap_err());
    assert_eq!(err.what, "invoice number claim");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_a_port_does_not_take_are_refused_before_any_call() {
    let (invoices, ()) = invoices().await;
    let alice = owner();
    let misuse = |err: StoreError| match err {
        StoreError::Unavailable(source) => assert!(source.downcast_ref::<InvoiceMisuse>().is_some(), "{source:?}"),
        other => panic!("{other:?}"),
    };
    let mut unread = record(&alice, 1, invoice("M-1", 0, 0));
    unread.invoice = None;
    misuse(invoices.store_invoice(&unread).await.unwrap_err());
    let mut rejected = record(&alice, 2, invoice("M-2", 0, 0));
    rejected.status = InvoiceStatus::Rejected;
    misuse(invoices.store_invoice(&rejected).await.unwrap_err());
    let r = record(&alice, 3, invoice("M-3", 0, 0));
    misuse(invoices.refuse_invoice(&r, InvoiceStatus::Stored, &problem(), domain::now()).await.unwrap_err());
    assert!(invoices.list_invoices(&alice, None, limit(10), None).await.unwrap().invoices.is_empty());
}

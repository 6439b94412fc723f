//! The SQLite invoice store against the shared contract (`domain::invoice_contract`), plus what only an embedded
//! store has to prove: its list plans and the rows a page costs, its handling of rows edited into nonsense, and
//! its refusal of tables of another shape.

use domain::invoice::ports::{InvoiceGet, InvoiceList, InvoiceRefuse, InvoiceStore};
use domain::invoice::{
    Buyer, Invoice, InvoiceId, InvoiceRecord, InvoiceStatus, ObjectFingerprint, Problem, Seller, Source, StoreOutcome,
};
use domain::{Limit, StoreError, UserId};
use local_adapters::{CorruptRow, InvoiceMisuse, LocalStore, OpenError, SqliteInvoices};
use std::str::FromStr;
use tempfile::TempDir;

const INVOICES: &str = "InvoicesTable";

fn open() -> (LocalStore, TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("local.db");
    (LocalStore::open(&path).expect("open"), dir, path)
}

async fn invoices() -> (SqliteInvoices, TempDir) {
    let (store, dir, _) = open();
    (store.invoices(INVOICES).expect("table"), dir)
}

mod contract {
    domain::invoice_contract_tests!(super::invoices());
}

fn invoice(number: &str) -> Invoice {
    let amount = |raw| domain::invoice::Amount::from_str(raw).unwrap();
    Invoice {
        number: number.to_owned(),
        issue_date: time::macros::date!(2025 - 01 - 15),
        due_date: None,
        currency: "EUR".into(),
        seller: Seller { name: "ACME".into(), vat_id: Some("DE123456789".into()) },
        buyer: Buyer { name: Some("Ada".into()), email: None },
        lines: Vec::new(),
        net: amount("100.00"),
        tax: amount("19.00"),
        total: amount("119.00"),
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

fn record(owner: &UserId, i: usize) -> InvoiceRecord {
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
        invoice: Some(invoice(&format!("N-{i}"))),
        problem: None,
    }
}

fn problem() -> Problem {
    Problem { state: "Validate".into(), code: "BR-CO-15".into(), reason: "the total is not net + tax".into() }
}

fn limit(n: usize) -> Limit {
    Limit::parse(Some(&n.to_string())).unwrap()
}

#[tokio::test]
async fn every_list_reads_a_key_backwards_with_no_scan_no_sort_and_a_page_costs_its_rows_and_one_more() {
    let (store, _dir, path) = open();
    let invoices = store.invoices(INVOICES).unwrap();
    let (alice, bob) = (UserId::parse("alice").unwrap(), UserId::parse("bob").unwrap());
    // Alice's invoices among others' and in every status, which a scan or a filter would walk through.
    for owner in [&bob, &alice, &UserId::parse("carol").unwrap()] {
        for i in 0..150 {
            let r = record(owner, i);
            match i % 3 {
                0 => assert_eq!(invoices.store_invoice(&r).await.unwrap(), StoreOutcome::Stored),
                1 => drop(invoices.refuse_invoice(&r, InvoiceStatus::Rejected, &problem(), r.received_at).await),
                _ => drop(invoices.refuse_invoice(&r, InvoiceStatus::Failed, &problem(), r.received_at).await),
            }
        }
    }
    rusqlite::Connection::open(&path).unwrap().execute_batch("ANALYZE").unwrap();
    for status in [false, true] {
        for after in [false, true] {
            let plan = invoices.list_query_plan(status, after).unwrap();
            let text = plan.join(" | ");
            assert_eq!(plan.len(), 1, "{text}");
            let want = if status {
                "USING INDEX InvoicesTable__owner_status_id (owner=? AND status=?"
            } else {
                "USING PRIMARY KEY (owner=?"
            };
            assert!(plan[0].starts_with("SEARCH InvoicesTable") && plan[0].contains(want), "{text}");
            assert_eq!(plan[0].contains("id<?"), after, "the resume point bounds the range: {text}");
            for bad in ["SCAN", "TEMP B-TREE", "AUTOMATIC"] {
                assert!(!text.contains(bad), "plans `{bad}`: {text}");
            }
        }
    }
    let (first, visited) = invoices.list_invoices_counted(&alice, None, limit(26), None).unwrap();
    assert_eq!((first.invoices.len(), visited), (26, 27));
    let (next, visited) = invoices.list_invoices_counted(&alice, None, limit(26), first.next).unwrap();
    assert_eq!((next.invoices.len(), visited), (26, 27));
    assert!(first.invoices.last().unwrap().id > next.invoices[0].id);
    let stored = Some(InvoiceStatus::Stored);
    let (page, visited) = invoices.list_invoices_counted(&alice, stored, limit(26), None).unwrap();
    assert_eq!((page.invoices.len(), visited), (26, 27));
    assert!(page.invoices.iter().all(|r| r.status == InvoiceStatus::Stored && r.owner == alice));
    // The last page of 50 stored: 24 left after 26, no look-ahead row to find.
    let (rest, visited) = invoices.list_invoices_counted(&alice, stored, limit(26), page.next).unwrap();
    assert_eq!((rest.invoices.len(), rest.next, visited), (24, None, 24));
}

#[tokio::test]
async fn a_row_edited_into_nonsense_is_reported_unavailable_naming_the_column_not_a_panic() {
    let (store, _dir, path) = open();
    let invoices = store.invoices(INVOICES).unwrap();
    let alice = UserId::parse("alice").unwrap();
    let r = record(&alice, 1);
    invoices.store_invoice(&r).await.unwrap();
    let raw = rusqlite::Connection::open(&path).unwrap();
    let column_of = |err: StoreError| match err {
        StoreError::Unavailable(source) => source.downcast_ref::<CorruptRow>().expect("a CorruptRow").column,
        other => panic!("expected Unavailable(CorruptRow), got {other:?}"),
    };
    let all = || invoices.list_invoices(&alice, None, limit(10), None);
    for (set, column) in [
        ("invoice = '{\"number\": 7}'", "invoice"),
        ("invoice = NULL, problem = '[]'", "problem"),
        ("problem = NULL, object = 'null'", "object"),
        ("object = '{\"bucket\":\"b\",\"key\":\"k\",\"etag\":\"e\"}', status = 'paid'", "status"),
        ("status = 'stored', received_at = 'yesterday'", "received_at"),
        ("received_at = updated_at, execution_arn = X'FF'", "execution_arn"),
    ] {
        raw.execute(&format!("UPDATE InvoicesTable SET {set}"), []).unwrap();
        assert_eq!(column_of(all().await.unwrap_err()), column, "{set}");
        assert_eq!(column_of(invoices.get_invoice(&alice, r.id).await.unwrap_err()), column, "{set}");
    }
    raw.execute("UPDATE InvoicesTable SET execution_arn = NULL, id = 'nonsense'", []).unwrap();
    assert_eq!(column_of(all().await.unwrap_err()), "id");
    raw.execute(r#"UPDATE "InvoicesTable$numbers" SET invoice_id = 'nonsense'"#, []).unwrap();
    let seller = domain::invoice::validate::seller_key(r.invoice.as_ref().unwrap());
    use domain::invoice::ports::InvoiceNumberFind;
    let err = invoices.find_invoice_number(&alice, &seller, "N-1").await.unwrap_err();
    assert_eq!(column_of(err), "invoice_id");
}

#[tokio::test]
async fn records_a_port_does_not_take_are_refused_and_write_nothing() {
    let (invoices, _dir) = invoices().await;
    let alice = UserId::parse("alice").unwrap();
    let misuse = |err: StoreError| match err {
        StoreError::Unavailable(source) => assert!(source.downcast_ref::<InvoiceMisuse>().is_some(), "{source:?}"),
        other => panic!("{other:?}"),
    };
    let mut unread = record(&alice, 1);
    unread.invoice = None;
    misuse(invoices.store_invoice(&unread).await.unwrap_err());
    let mut rejected = record(&alice, 2);
    rejected.status = InvoiceStatus::Rejected;
    misuse(invoices.store_invoice(&rejected).await.unwrap_err());
    let r = record(&alice, 3);
    misuse(invoices.refuse_invoice(&r, InvoiceStatus::Stored, &problem(), domain::now()).await.unwrap_err());
    assert!(invoices.list_invoices(&alice, None, limit(10), None).await.unwrap().invoices.is_empty());
}

#[test]
fn tables_of_other_shapes_and_names_dynamodb_would_refuse_are_refused_at_setup() {
    let (store, _dir, path) = open();
    rusqlite::Connection::open(&path).unwrap().execute_batch("CREATE TABLE Elsewhere (pk TEXT PRIMARY KEY)").unwrap();
    assert!(matches!(store.invoices("Elsewhere"), Err(OpenError::Sqlite { .. })));
    assert!(matches!(store.invoices("a b"), Err(OpenError::InvalidTableName { .. })));
    store.activity("ActivityTable").unwrap();
    assert!(matches!(store.invoices("ActivityTable"), Err(OpenError::Sqlite { .. })), "an activity table");
    store.invoices(INVOICES).unwrap();
    store.invoices(INVOICES).expect("opening an existing invoices table again");
}

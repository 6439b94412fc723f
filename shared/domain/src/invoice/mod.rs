//! Supplier invoices: the fields read from a PDF ([`model`]), what the pipeline stores about each ([`record`]) and
//! the store's ports ([`ports`]).
//! [`validate`] decides whether an invoice obeys the EN 16931 rules, naming each rule it breaks.

pub mod mail;
pub mod model;
pub mod ports;
pub mod query;
pub mod record;
pub mod service;
pub mod upload;
pub mod validate;

pub use model::{Amount, Buyer, Invoice, Line, Profile, Seller, Source, VatBreakdown};
pub use record::{InvoiceId, InvoicePage, InvoiceRecord, InvoiceStatus, ObjectFingerprint, Problem, StoreOutcome};
pub use validate::{Rejection, Rejections};

//! The words invoices label their fields with, in English, German and French, and what each one labels.
//!
//! A cell is classified by the longest label it starts with (at a word boundary), so "Due Date" is a due date
//! and not a "due" amount, "VAT Reg No" a VAT identifier and not a VAT amount, "Total net" the net total and not
//! the total. Labels that must not be taken for another field ("Delivery date", "Customer No.", "Ship to")
//! are listed too, as [`Label::Other`], so that they win over their shorter prefixes.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Label {
    Number,
    IssueDate,
    DueDate,
    Seller,
    Buyer,
    Net,
    Tax,
    Total,
    AmountDue,
    VatId,
    Currency,
    Email,
    /// A label of something else, listed so its prefix does not match (see the module doc).
    Other,
}

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use crate::fnv::FnvBuild;

use Label::*;

const LABELS: &[(&str, Label)] = &[
    // Invoice number (BT-1)
    ("invoice no", Number),
    ("invoice no.", Number),
    ("invoice number", Number),
    ("invoice nr", Number),
    ("invoice nr.", Number),
    ("invoice #", Number),
    ("invoice num", Number),
    ("invoice id", Number),
    ("invoice reference", Number),
    ("inv no", Number),
    ("inv. no.", Number),
    ("inv #", Number),
    ("bill no", Number),
    ("bill number", Number),
    ("document no", Number),
    ("document number", Number),
    ("tax invoice no", Number),
    ("rechnungsnummer", Number),
    ("rechnungs-nr", Number),
    ("rechnungs-nr.", Number),
    ("rechnungsnr", Number),
    ("rechnungsnr.", Number),
    ("rechnung nr", Number),
    ("rechnung nr.", Number),
    ("rechnung-nr", Number),
    ("re-nr", Number),
    ("re.-nr.", Number),
    ("belegnummer", Number),
    ("beleg-nr", Number),
    ("facture n°", Number),
    ("facture no", Number),
    ("facture nº", Number),
    ("n° de facture", Number),
    ("no de facture", Number),
    ("numéro de facture", Number),
    ("n° facture", Number),
    ("factura n°", Number),
    ("número de factura", Number),
    ("n°", Number),
    ("nº", Number),
    ("no.", Number),
    ("nr.", Number),
    // Issue date (BT-2)
    ("invoice date", IssueDate),
    ("date of invoice", IssueDate),
    ("date of issue", IssueDate),
    ("issue date", IssueDate),
    ("issued on", IssueDate),
    ("issued", IssueDate),
    ("date", IssueDate),
    ("dated", IssueDate),
    ("billing date", IssueDate),
    ("bill date", IssueDate),
    ("rechnungsdatum", IssueDate),
    ("rechnungs-datum", IssueDate),
    ("datum", IssueDate),
    ("ausstellungsdatum", IssueDate),
    ("date de facture", IssueDate),
    ("date d'émission", IssueDate),
    ("date de facturation", IssueDate),
    ("fecha de factura", IssueDate),
    ("fecha", IssueDate),
    // Due date (BT-9)
    ("due date", DueDate),
    ("payment due", DueDate),
    ("payment due date", DueDate),
    ("due", DueDate),
    ("due by", DueDate),
    ("due on", DueDate),
    ("pay by", DueDate),
    ("payable by", DueDate),
    ("payable until", DueDate),
    ("fällig am", DueDate),
    ("fällig", DueDate),
    ("fälligkeit", DueDate),
    ("fälligkeitsdatum", DueDate),
    ("zahlbar bis", DueDate),
    ("zahlungsziel", DueDate),
    ("zu zahlen bis", DueDate),
    ("date d'échéance", DueDate),
    ("échéance", DueDate),
    ("date limite de paiement", DueDate),
    ("fecha de vencimiento", DueDate),
    ("vencimiento", DueDate),
    // Dates that are neither
    ("delivery date", Other),
    ("date of delivery", Other),
    ("date of supply", Other),
    ("service date", Other),
    ("service period", Other),
    ("order date", Other),
    ("lieferdatum", Other),
    ("leistungsdatum", Other),
    ("liefertermin", Other),
    ("leistungszeitraum", Other),
    ("bestelldatum", Other),
    ("auftragsdatum", Other),
    ("date de livraison", Other),
    ("date de commande", Other),
    ("period", Other),
    ("zeitraum", Other),
    ("date de prestation", Other),
    // Parties (BG-4, BG-7)
    ("from", Seller),
    ("seller", Seller),
    ("supplier", Seller),
    ("vendor", Seller),
    ("bill from", Seller),
    ("invoice from", Seller),
    ("issued by", Seller),
    ("verkäufer", Seller),
    ("lieferant", Seller),
    ("rechnungssteller", Seller),
    ("auftragnehmer", Seller),
    ("absender", Seller),
    ("fournisseur", Seller),
    ("vendeur", Seller),
    ("émetteur", Seller),
    ("bill to", Buyer),
    ("billed to", Buyer),
    ("bill-to", Buyer),
    ("invoice to", Buyer),
    ("invoiced to", Buyer),
    ("sold to", Buyer),
    ("customer", Buyer),
    ("client", Buyer),
    ("buyer", Buyer),
    ("to", Buyer),
    ("recipient", Buyer),
    ("rechnungsempfänger", Buyer),
    ("rechnungsadresse", Buyer),
    ("kunde", Buyer),
    ("empfänger", Buyer),
    ("an", Buyer),
    ("auftraggeber", Buyer),
    ("facturé à", Buyer),
    ("facturer à", Buyer),
    ("destinataire", Buyer),
    ("adresse de facturation", Buyer),
    ("acheteur", Buyer),
    ("ship to", Other),
    ("deliver to", Other),
    ("delivery address", Other),
    ("lieferadresse", Other),
    ("lieferanschrift", Other),
    ("livré à", Other),
    ("adresse de livraison", Other),
    ("customer no", Other),
    ("customer number", Other),
    ("customer id", Other),
    ("customer #", Other),
    ("client no", Other),
    ("kundennummer", Other),
    ("kunden-nr", Other),
    ("kundennr", Other),
    ("n° client", Other),
    ("numéro client", Other),
    ("customer reference", Other),
    ("tax invoice", Other),
    // Totals (BT-109, BT-110, BT-112, BT-115)
    ("subtotal", Net),
    ("sub total", Net),
    ("sub-total", Net),
    ("net", Net),
    ("net amount", Net),
    ("net total", Net),
    ("total net", Net),
    ("total (net)", Net),
    ("net value", Net),
    ("total excl. vat", Net),
    ("total excl vat", Net),
    ("total excluding vat", Net),
    ("total excl. tax", Net),
    ("total before tax", Net),
    ("amount excl. vat", Net),
    ("total without vat", Net),
    ("taxable amount", Net),
    ("nettobetrag", Net),
    ("netto", Net),
    ("nettosumme", Net),
    ("summe netto", Net),
    ("gesamt netto", Net),
    ("gesamtbetrag netto", Net),
    ("zwischensumme", Net),
    ("warenwert", Net),
    ("rechnungsbetrag netto", Net),
    ("total ht", Net),
    ("montant ht", Net),
    ("sous-total", Net),
    ("sous total", Net),
    ("total hors taxes", Net),
    ("montant hors taxes", Net),
    ("vat", Tax),
    ("tax", Tax),
    ("sales tax", Tax),
    ("gst", Tax),
    ("hst", Tax),
    ("vat amount", Tax),
    ("total vat", Tax),
    ("total tax", Tax),
    ("tax amount", Tax),
    ("mwst", Tax),
    ("mwst.", Tax),
    ("ust", Tax),
    ("ust.", Tax),
    ("umsatzsteuer", Tax),
    ("mehrwertsteuer", Tax),
    ("zzgl", Tax),
    ("zzgl.", Tax),
    ("zuzüglich", Tax),
    ("plus vat", Tax),
    ("tva", Tax),
    ("montant tva", Tax),
    ("total tva", Tax),
    ("iva", Tax),
    ("total gst", Tax),
    ("gst total", Tax),
    ("gst amount", Tax),
    ("total taxes", Tax),
    ("total mwst", Tax),
    ("total mwst.", Tax),
    ("total ust", Tax),
    ("vat total", Tax),
    ("tax total", Tax),
    ("total", Total),
    ("grand total", Total),
    ("total amount", Total),
    ("invoice total", Total),
    ("total due", Total),
    ("total payable", Total),
    ("total incl. vat", Total),
    ("total including vat", Total),
    ("total (incl. vat)", Total),
    ("total gross", Total),
    ("gross total", Total),
    ("gross amount", Total),
    ("amount payable", Total),
    ("gesamt", Total),
    ("gesamtbetrag", Total),
    ("gesamtsumme", Total),
    ("rechnungsbetrag", Total),
    ("rechnungssumme", Total),
    ("bruttobetrag", Total),
    ("brutto", Total),
    ("summe brutto", Total),
    ("gesamt brutto", Total),
    ("endbetrag", Total),
    ("endsumme", Total),
    ("summe", Total),
    ("total ttc", Total),
    ("montant ttc", Total),
    ("total à payer", Total),
    ("net à payer", Total),
    ("montant total", Total),
    ("amount due", AmountDue),
    ("balance due", AmountDue),
    ("balance", AmountDue),
    ("amount to pay", AmountDue),
    ("to pay", AmountDue),
    ("zu zahlen", AmountDue),
    ("zahlbetrag", AmountDue),
    ("offener betrag", AmountDue),
    ("restbetrag", AmountDue),
    ("reste à payer", AmountDue),
    ("solde", AmountDue),
    ("line total", Other),
    ("total hours", Other),
    ("total quantity", Other),
    ("paid", Other),
    // Identifiers and the rest
    ("vat id", VatId),
    ("vat no", VatId),
    ("vat no.", VatId),
    ("vat number", VatId),
    ("vat reg", VatId),
    ("vat reg no", VatId),
    ("vat reg. no", VatId),
    ("vat reg. no.", VatId),
    ("vat registration", VatId),
    ("vat registration number", VatId),
    ("vat-id", VatId),
    ("tax id", VatId),
    ("ust-idnr", VatId),
    ("ust-idnr.", VatId),
    ("ust-id-nr", VatId),
    ("ust-id", VatId),
    ("ust.-id", VatId),
    ("ust.-idnr.", VatId),
    ("ustid", VatId),
    ("umsatzsteuer-id", VatId),
    ("umsatzsteuer-identifikationsnummer", VatId),
    ("mwst-nr", VatId),
    ("uid", VatId),
    ("uid-nr", VatId),
    ("n° tva", VatId),
    ("numéro de tva", VatId),
    ("tva intracommunautaire", VatId),
    ("n° tva intracom", VatId),
    ("currency", Currency),
    ("währung", Currency),
    ("devise", Currency),
    ("monnaie", Currency),
    ("email", Email),
    ("e-mail", Email),
    ("mail", Email),
    ("courriel", Email),
    ("page", Other),
    ("seite", Other),
    ("iban", Other),
    ("bic", Other),
    ("phone", Other),
    ("tel", Other),
    ("telefon", Other),
    ("fax", Other),
    ("web", Other),
    ("website", Other),
];

/// Words that head an invoice and name nothing (a title, not a seller).
pub(crate) const TITLES: &[&str] = &[
    "invoice",
    "tax invoice",
    "rechnung",
    "facture",
    "factura",
    "fattura",
    "credit note",
    "gutschrift",
    "proforma",
    "pro forma invoice",
    "proforma invoice",
    "receipt",
    "quittung",
    "bill",
    "statement",
    "avoir",
    "commercial invoice",
];

/// Lower case, typographic apostrophes made plain, one character per character of `text` (so that positions
/// in the result are positions in `text`, counted in characters).
pub(crate) fn normalise(text: &str) -> String {
    normalise_prefix(text, usize::MAX)
}

/// [`normalise`] of the first `chars` characters only (a label is never longer than 40).
fn normalise_prefix(text: &str, chars: usize) -> String {
    text.chars()
        .take(chars)
        .map(|c| match c {
            '’' | '‘' | '`' => '\'',
            c => c.to_lowercase().next().unwrap_or(c),
        })
        .collect()
}

/// The label `text` starts with (the longest, at a word boundary) and what follows it in `text`, with the
/// separators after a label (`:`, `#`, `.`) skipped.
pub(crate) fn classify(text: &str) -> Option<(Label, &str)> {
    static TABLE: LazyLock<Prefixes<Label>> = LazyLock::new(|| Prefixes::new(LABELS));
    if !TABLE.may_start(text) {
        return None;
    }
    let normal = normalise_prefix(text, 48);
    let (label, kind) = TABLE.longest(&normal)?;
    let consumed = label.chars().count();
    let rest = text.char_indices().nth(consumed).map_or("", |(i, _)| &text[i..]);
    Some((kind, rest.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ':' | '#' | '.' | '-' | '–'))))
}

/// A table of labels looked up by the prefixes of a text that end at a word boundary, in a hash map: a cell is
/// classified with a handful of lookups, whatever the number of labels.
struct Prefixes<T> {
    map: HashMap<&'static str, T, FnvBuild>,
    /// The first word of every label: a text whose first word is not one of these has no label.
    first_words: HashSet<&'static str, FnvBuild>,
    longest: usize,
}

/// The text up to the first character that is not a letter or digit (at least one character).
fn first_word(text: &str) -> &str {
    let end = text.char_indices().find(|(i, c)| *i > 0 && !c.is_alphanumeric()).map_or(text.len(), |(i, _)| i);
    &text[..end]
}

impl<T: Copy> Prefixes<T> {
    fn new(table: &[(&'static str, T)]) -> Self {
        Prefixes {
            map: table.iter().copied().collect(),
            first_words: table.iter().map(|(label, _)| first_word(label)).collect(),
            longest: table.iter().map(|(l, _)| l.len()).max().unwrap_or(0),
        }
    }

    /// Whether `text` (not yet normalised) may start with a label: its first word, lower-cased on the stack,
    /// is the first word of one. Most cells (values, addresses) are ruled out here without allocating.
    fn may_start(&self, text: &str) -> bool {
        let mut buffer = [0_u8; 48];
        let mut len = 0;
        for (i, c) in text.chars().enumerate() {
            if i > 0 && !c.is_alphanumeric() {
                break;
            }
            let c = match c {
                '’' | '‘' | '`' => '\'',
                c => c.to_lowercase().next().unwrap_or(c),
            };
            if len + c.len_utf8() > buffer.len() {
                return false;
            }
            len += c.encode_utf8(&mut buffer[len..]).len();
        }
        std::str::from_utf8(&buffer[..len]).is_ok_and(|word| self.first_words.contains(word))
    }

    /// The longest label `normal` starts with that ends at a word boundary of `normal` (or with a sign, as
    /// "invoice #" does before "#10234").
    fn longest(&self, normal: &str) -> Option<(&'static str, T)> {
        let mut best = None;
        let mut previous = ' ';
        for (k, c) in normal.char_indices().chain(std::iter::once((normal.len(), ' '))) {
            if k > self.longest {
                break;
            }
            if k > 0
                && (!c.is_alphanumeric() || !previous.is_alphanumeric())
                && let Some((label, kind)) = self.map.get_key_value(&normal[..k])
            {
                best = Some((*label, *kind));
            }
            previous = c;
        }
        best
    }
}

/// Whether `text` is a title word ("INVOICE", "Rechnung").
pub(crate) fn is_title(text: &str) -> bool {
    let normal = normalise(text.trim().trim_end_matches(':'));
    TITLES.contains(&normal.as_str())
}

/// The kinds of column a line-item table has, from its header cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    Description,
    Quantity,
    UnitPrice,
    Amount,
    /// Position, unit, VAT rate, article number: read past.
    Other,
}

const COLUMNS: &[(&str, Column)] = &[
    ("description", Column::Description),
    ("item", Column::Description),
    ("items", Column::Description),
    ("item description", Column::Description),
    ("product", Column::Description),
    ("products", Column::Description),
    ("service", Column::Description),
    ("services", Column::Description),
    ("article", Column::Description),
    ("details", Column::Description),
    ("particulars", Column::Description),
    ("task", Column::Description),
    ("activity", Column::Description),
    ("bezeichnung", Column::Description),
    ("beschreibung", Column::Description),
    ("artikel", Column::Description),
    ("artikelbezeichnung", Column::Description),
    ("leistung", Column::Description),
    ("leistungen", Column::Description),
    ("produkt", Column::Description),
    ("désignation", Column::Description),
    ("designation", Column::Description),
    ("libellé", Column::Description),
    ("produit", Column::Description),
    ("prestation", Column::Description),
    ("descripción", Column::Description),
    ("concepto", Column::Description),
    ("qty", Column::Quantity),
    ("quantity", Column::Quantity),
    ("hours", Column::Quantity),
    ("hrs", Column::Quantity),
    ("units", Column::Quantity),
    ("days", Column::Quantity),
    ("pcs", Column::Quantity),
    ("count", Column::Quantity),
    ("menge", Column::Quantity),
    ("anzahl", Column::Quantity),
    ("stunden", Column::Quantity),
    ("std", Column::Quantity),
    ("stk", Column::Quantity),
    ("qté", Column::Quantity),
    ("quantité", Column::Quantity),
    ("nombre", Column::Quantity),
    ("cantidad", Column::Quantity),
    ("unit price", Column::UnitPrice),
    ("price", Column::UnitPrice),
    ("rate", Column::UnitPrice),
    ("unit cost", Column::UnitPrice),
    ("cost", Column::UnitPrice),
    ("each", Column::UnitPrice),
    ("price per unit", Column::UnitPrice),
    ("unit rate", Column::UnitPrice),
    ("hourly rate", Column::UnitPrice),
    ("einzelpreis", Column::UnitPrice),
    ("preis", Column::UnitPrice),
    ("e-preis", Column::UnitPrice),
    ("ep", Column::UnitPrice),
    ("stückpreis", Column::UnitPrice),
    ("prix unitaire", Column::UnitPrice),
    ("prix", Column::UnitPrice),
    ("pu", Column::UnitPrice),
    ("p.u.", Column::UnitPrice),
    ("precio", Column::UnitPrice),
    ("amount", Column::Amount),
    ("total", Column::Amount),
    ("line total", Column::Amount),
    ("sum", Column::Amount),
    ("subtotal", Column::Amount),
    ("net amount", Column::Amount),
    ("net", Column::Amount),
    ("total price", Column::Amount),
    ("ext. price", Column::Amount),
    ("extended", Column::Amount),
    ("value", Column::Amount),
    ("betrag", Column::Amount),
    ("gesamt", Column::Amount),
    ("gesamtpreis", Column::Amount),
    ("summe", Column::Amount),
    ("gp", Column::Amount),
    ("netto", Column::Amount),
    ("gesamtbetrag", Column::Amount),
    ("montant", Column::Amount),
    ("montant ht", Column::Amount),
    ("total ht", Column::Amount),
    ("importe", Column::Amount),
    ("pos", Column::Other),
    ("pos.", Column::Other),
    ("#", Column::Other),
    ("no", Column::Other),
    ("no.", Column::Other),
    ("nr", Column::Other),
    ("nr.", Column::Other),
    ("line", Column::Other),
    ("position", Column::Other),
    ("unit", Column::Other),
    ("uom", Column::Other),
    ("einheit", Column::Other),
    ("me", Column::Other),
    ("unité", Column::Other),
    ("vat", Column::Other),
    ("vat %", Column::Other),
    ("vat rate", Column::Other),
    ("tax", Column::Other),
    ("tax %", Column::Other),
    ("ust", Column::Other),
    ("ust.", Column::Other),
    ("mwst", Column::Other),
    ("mwst.", Column::Other),
    ("tva", Column::Other),
    ("iva", Column::Other),
    ("item #", Column::Other),
    ("item no", Column::Other),
    ("item no.", Column::Other),
    ("sku", Column::Other),
    ("code", Column::Other),
    ("art.-nr.", Column::Other),
    ("art.-nr", Column::Other),
    ("artikelnummer", Column::Other),
    ("artikel-nr.", Column::Other),
    ("ref", Column::Other),
    ("ref.", Column::Other),
    ("référence", Column::Other),
    ("part no", Column::Other),
    ("réf", Column::Other),
    ("réf.", Column::Other),
    ("gst", Column::Other),
    ("hst", Column::Other),
    ("tax rate", Column::Other),
    ("discount", Column::Other),
    ("rabatt", Column::Other),
    ("remise", Column::Other),
];

/// The column a header cell names.
pub(crate) fn column(text: &str) -> Option<Column> {
    static TABLE: LazyLock<Prefixes<Column>> = LazyLock::new(|| Prefixes::new(COLUMNS));
    let text = text.trim();
    if !TABLE.may_start(text) {
        return None;
    }
    let normal = normalise_prefix(text.trim_end_matches(':'), 48);
    TABLE.longest(&normal).map(|(_, column)| column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_label_wins() {
        assert_eq!(classify("Due Date: 30 Apr 2026").map(|c| c.0), Some(DueDate));
        assert_eq!(classify("VAT Reg No: GB 123").map(|c| c.0), Some(VatId));
        assert_eq!(classify("VAT (20%)").map(|c| c.0), Some(Tax));
        assert_eq!(classify("Total net").map(|c| c.0), Some(Net));
        assert_eq!(classify("Date d’échéance").map(|c| c.0), Some(DueDate));
        assert_eq!(classify("Kundennummer: 4711").map(|c| c.0), Some(Other));
        assert_eq!(classify("Totals"), None);
    }

    #[test]
    fn the_rest_after_a_label_is_its_value() {
        assert_eq!(classify("Invoice No: KT-7"), Some((Number, "KT-7")));
        assert_eq!(classify("Rechnungsnummer:"), Some((Number, "")));
        assert_eq!(classify("Total CHF"), Some((Total, "CHF")));
    }

    #[test]
    fn header_cells_name_columns() {
        assert_eq!(column("Unit Price"), Some(Column::UnitPrice));
        assert_eq!(column("Unit"), Some(Column::Other));
        assert_eq!(column("Montant HT"), Some(Column::Amount));
        assert_eq!(column("Qté"), Some(Column::Quantity));
        assert_eq!(column("Widget, large"), None);
    }
}

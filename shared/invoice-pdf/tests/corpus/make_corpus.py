#!/usr/bin/env python3
"""Writes the invoice-pdf test corpus: the PDFs in this directory and, for each, `expected/<name>.json`.

The PDFs are committed, so the Rust tests need no Python; run this only to change the corpus:

    pip install fpdf2 pypdf factur-x     # fonts: DejaVu Sans (Debian: fonts-dejavu-core)
    python3 tests/corpus/make_corpus.py  # from shared/invoice-pdf

Each expected file holds either the fields the invoice states (`number`, `issue_date`, … as in the issue's JSON,
amounts as decimal strings) or `{"error": code, "reason_contains": text}` for a file that must be refused.

What the corpus covers, and how each part is made:

- Structured invoices: a visible invoice drawn with fpdf2 plus a CII XML written here, attached with the
  `factur-x` package (which validates the XML against the profile's XSD and writes the catalog's `/AF`) for the
  Factur-X profiles MINIMUM, BASIC WL, BASIC, EN 16931, EXTENDED and a ZUGFeRD 2 file, or with pypdf (the
  `/Names /EmbeddedFiles` tree only) for ZUGFeRD 1.0 (validated against its XSD), XRechnung, a CII XML under
  an unusual file name beside an unrelated XML, and a broken XML.
- Text-only invoices in several layouts, languages, date and number formats: fpdf2 with the core Helvetica
  (WinAnsi, no ToUnicode) and with DejaVu Sans (Type0 Identity-H with ToUnicode); the same with the ToUnicode
  CMap removed (Identity-H, best effort); one whose page content is moved into nested Form XObjects (pypdf); and
  PDFs written byte by byte here for what generators rarely emit together: a LibreOffice-style compact ToUnicode
  (bfrange arrays, 1- and 2-byte codes, a surrogate pair), `/Differences` with glyph names, and every text
  operator (`TJ` kerning, `'`, `"`, `T*`, `TL`, `TD`, `Tm`, `cm`, `q`/`Q`).
- Held-out text invoices (`heldout-*`: Australian GST, a German craftsman, French, US with shipping), written
  after the field finder to measure it on layouts it was not developed against.
- Damaged and hostile PDFs made from the valid ones or by hand: truncated, shifted xref offsets (repairable),
  garbage, an object that is a reference to itself, a page-tree cycle, Form XObjects that draw themselves, a
  flate bomb in a content stream, in the object stream holding the page's font (behind a cross-reference
  stream) and in an object stream nothing uses (never inflated, so the invoice reads), millions of operators,
  user-password and owner-only encryption, not a PDF, empty, no text, and a letter that is not an invoice.
"""

import copy
import io
import json
import os
import zlib
from decimal import Decimal as D

import facturx
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (ArrayObject, DecodedStreamObject, DictionaryObject, FloatObject, NameObject,
                           NumberObject)

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED = os.path.join(HERE, "expected")
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
DEJAVU_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def write(name, pdf, expected):
    with open(os.path.join(HERE, name + ".pdf"), "wb") as f:
        f.write(pdf)
    with open(os.path.join(EXPECTED, name + ".json"), "w") as f:
        json.dump(expected, f, indent=2, ensure_ascii=False)
        f.write("\n")


def money(value):
    return f"{D(value):.2f}"


def issue_json(inv, source, profile=None, with_lines=True):
    """The issue's JSON of an invoice dict (plus `profile`, and the header totals the XML states)."""
    out = {
        "number": inv["number"],
        "issue_date": inv["issue_date"],
        "due_date": inv.get("due_date"),
        "currency": inv["currency"],
        "seller": {"name": inv["seller"]["name"], "vat_id": inv["seller"].get("vat_id")},
        "buyer": {"name": inv["buyer"].get("name"), "email": inv["buyer"].get("email")},
        "lines": [
            {"description": l["description"], "quantity": str(l["quantity"]), "unit_price": str(l["unit_price"]),
             "amount": money(l["amount"])}
            for l in inv["lines"]
        ] if with_lines else [],
        "net": money(inv["net"]),
        "tax": money(inv["tax"]),
        "total": money(inv["total"]),
        "source": source,
    }
    if source != "text":
        out["profile"] = profile
    for key in ("line_total", "allowances", "charges", "prepaid", "amount_due"):
        if key in inv:
            out[key] = money(inv[key])
    if "vat" in inv:
        out["vat"] = [{"category": v["category"], "rate": str(v["rate"]), "basis": money(v["basis"]),
                       "tax": money(v["tax"])} for v in inv["vat"]]
    return out


def totals(lines, rates, allowances=D(0), charges=D(0), prepaid=D(0)):
    """Line amounts, the VAT per rate (lines carry `rate`), and the header totals."""
    for l in lines:
        l["amount"] = (D(str(l["quantity"])) * D(str(l["unit_price"])) / D(str(l.get("base", 1)))).quantize(D("0.01"))
    line_total = sum(l["amount"] for l in lines)
    vat = []
    for rate in rates:
        basis = sum(l["amount"] for l in lines if l["rate"] == rate)
        vat.append({"category": "S" if rate else "Z", "rate": D(rate), "basis": basis,
                    "tax": (basis * D(rate) / 100).quantize(D("0.01"))})
    net = line_total - allowances + charges
    tax = sum(v["tax"] for v in vat)
    return {"line_total": line_total, "net": net, "tax": tax, "total": net + tax, "vat": vat,
            "amount_due": net + tax - prepaid}


# --------------------------------------------------------------------------------------------------------------
# CII XML (Factur-X / ZUGFeRD 2 / XRechnung) and ZUGFeRD 1.0
# --------------------------------------------------------------------------------------------------------------

GUIDELINES = {
    "minimum": "urn:factur-x.eu:1p0:minimum",
    "basicwl": "urn:factur-x.eu:1p0:basicwl",
    "basic": "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic",
    "en16931": "urn:cen.eu:en16931:2017",
    "extended": "urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended",
    "xrechnung": "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
}


def esc(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def d102(iso):
    return iso.replace("-", "")


def pretty(parts):
    """The XML indented, as generators write it (so the reader meets whitespace between elements)."""
    from lxml import etree
    root = etree.fromstring("".join(parts[1:]).encode())
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, pretty_print=True, encoding="UTF-8")


def cii(inv, level):
    """A CII D16B invoice with what `level` allows, in the element order of the Factur-X 1.0 XSDs."""
    lines_allowed = level in ("basic", "en16931", "extended", "xrechnung")
    rich = level in ("en16931", "extended", "xrechnung")
    x = ['<?xml version="1.0" encoding="UTF-8"?>',
         '<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" '
         'xmlns:qdt="urn:un:unece:uncefact:data:standard:QualifiedDataType:100" '
         'xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100" '
         'xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">',
         "<rsm:ExchangedDocumentContext>"]
    if level == "xrechnung":
        x.append("<ram:BusinessProcessSpecifiedDocumentContextParameter><ram:ID>urn:fdc:peppol.eu:2017:poacc:"
                 "billing:01:1.0</ram:ID></ram:BusinessProcessSpecifiedDocumentContextParameter>")
    x += [f"<ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>{inv.get('guideline', GUIDELINES[level])}"
          "</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter>",
          "</rsm:ExchangedDocumentContext>",
          "<rsm:ExchangedDocument>", f"<ram:ID>{esc(inv['number'])}</ram:ID>", "<ram:TypeCode>380</ram:TypeCode>",
          f'<ram:IssueDateTime><udt:DateTimeString format="102">{d102(inv["issue_date"])}</udt:DateTimeString>'
          "</ram:IssueDateTime>"]
    if level != "minimum":
        x.append("<ram:IncludedNote><ram:Content>Thank you for your order.</ram:Content></ram:IncludedNote>")
    x += ["</rsm:ExchangedDocument>", "<rsm:SupplyChainTradeTransaction>"]
    if lines_allowed:
        for i, l in enumerate(inv["lines"], 1):
            x += ["<ram:IncludedSupplyChainTradeLineItem>",
                  f"<ram:AssociatedDocumentLineDocument><ram:LineID>{i}</ram:LineID>"
                  "</ram:AssociatedDocumentLineDocument>",
                  "<ram:SpecifiedTradeProduct>", f"<ram:Name>{esc(l['description'])}</ram:Name>"]
            if rich and l.get("detail"):
                x.append(f"<ram:Description>{esc(l['detail'])}</ram:Description>")
            x.append("</ram:SpecifiedTradeProduct>")
            x.append("<ram:SpecifiedLineTradeAgreement>")
            if rich:
                x.append(f"<ram:GrossPriceProductTradePrice><ram:ChargeAmount>{l['unit_price']}</ram:ChargeAmount>"
                         "</ram:GrossPriceProductTradePrice>")
            x.append(f"<ram:NetPriceProductTradePrice><ram:ChargeAmount>{l['unit_price']}</ram:ChargeAmount>")
            if "base" in l:
                x.append(f'<ram:BasisQuantity unitCode="{l.get("unit", "C62")}">{l["base"]}</ram:BasisQuantity>')
            x += ["</ram:NetPriceProductTradePrice>", "</ram:SpecifiedLineTradeAgreement>",
                  f'<ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="{l.get("unit", "C62")}">'
                  f"{l['quantity']}</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery>",
                  "<ram:SpecifiedLineTradeSettlement>",
                  f"<ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>"
                  f"{'S' if l['rate'] else 'Z'}</ram:CategoryCode><ram:RateApplicablePercent>{l['rate']}"
                  "</ram:RateApplicablePercent></ram:ApplicableTradeTax>",
                  f"<ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>{money(l['amount'])}"
                  "</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation>",
                  "</ram:SpecifiedLineTradeSettlement>", "</ram:IncludedSupplyChainTradeLineItem>"]
    seller, buyer = inv["seller"], inv["buyer"]
    x += ["<ram:ApplicableHeaderTradeAgreement>"]
    if level == "xrechnung" or level != "minimum":
        x.append(f"<ram:BuyerReference>{esc(inv.get('buyer_reference', 'PO-1'))}</ram:BuyerReference>")
    x += ["<ram:SellerTradeParty>", f"<ram:Name>{esc(seller['name'])}</ram:Name>"]
    if rich:
        x.append("<ram:DefinedTradeContact><ram:PersonName>Accounts</ram:PersonName>"
                 "<ram:EmailURIUniversalCommunication><ram:URIID>billing@seller.example</ram:URIID>"
                 "</ram:EmailURIUniversalCommunication></ram:DefinedTradeContact>")
    x.append("<ram:PostalTradeAddress>")
    if level != "minimum":
        x.append(f"<ram:PostcodeCode>{seller['postcode']}</ram:PostcodeCode><ram:LineOne>{esc(seller['street'])}"
                 f"</ram:LineOne><ram:CityName>{esc(seller['city'])}</ram:CityName>")
    x.append(f"<ram:CountryID>{seller['country']}</ram:CountryID></ram:PostalTradeAddress>")
    if level != "minimum":
        x.append('<ram:URIUniversalCommunication><ram:URIID schemeID="EM">billing@seller.example</ram:URIID>'
                 "</ram:URIUniversalCommunication>")
    if seller.get("fc"):
        x.append(f'<ram:SpecifiedTaxRegistration><ram:ID schemeID="FC">{seller["fc"]}</ram:ID>'
                 "</ram:SpecifiedTaxRegistration>")
    if seller.get("vat_id"):
        x.append(f'<ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">{seller["vat_id"]}</ram:ID>'
                 "</ram:SpecifiedTaxRegistration>")
    x += ["</ram:SellerTradeParty>", "<ram:BuyerTradeParty>", f"<ram:Name>{esc(buyer['name'])}</ram:Name>"]
    if level != "minimum":
        if buyer.get("contact_email"):
            x.append("<ram:DefinedTradeContact><ram:PersonName>Payables</ram:PersonName>"
                     f"<ram:EmailURIUniversalCommunication><ram:URIID>{buyer['contact_email']}</ram:URIID>"
                     "</ram:EmailURIUniversalCommunication></ram:DefinedTradeContact>")
        x.append(f"<ram:PostalTradeAddress><ram:PostcodeCode>{buyer['postcode']}</ram:PostcodeCode>"
                 f"<ram:LineOne>{esc(buyer['street'])}</ram:LineOne><ram:CityName>{esc(buyer['city'])}</ram:CityName>"
                 f"<ram:CountryID>{buyer['country']}</ram:CountryID></ram:PostalTradeAddress>")
        if buyer.get("em"):
            x.append(f'<ram:URIUniversalCommunication><ram:URIID schemeID="EM">{buyer["em"]}</ram:URIID>'
                     "</ram:URIUniversalCommunication>")
    x += ["</ram:BuyerTradeParty>", "</ram:ApplicableHeaderTradeAgreement>",
          "<ram:ApplicableHeaderTradeDelivery>"]
    if level != "minimum":
        x.append('<ram:ActualDeliverySupplyChainEvent><ram:OccurrenceDateTime><udt:DateTimeString format="102">'
                 f"{d102(inv['issue_date'])}</udt:DateTimeString></ram:OccurrenceDateTime>"
                 "</ram:ActualDeliverySupplyChainEvent>")
    x += ["</ram:ApplicableHeaderTradeDelivery>", "<ram:ApplicableHeaderTradeSettlement>"]
    if inv.get("tax_currency"):
        x.append(f"<ram:TaxCurrencyCode>{inv['tax_currency']}</ram:TaxCurrencyCode>")
    x.append(f"<ram:InvoiceCurrencyCode>{inv['currency']}</ram:InvoiceCurrencyCode>")
    if level != "minimum":
        x.append("<ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>58</ram:TypeCode>"
                 "<ram:PayeePartyCreditorFinancialAccount><ram:IBANID>DE02120300000000202051</ram:IBANID>"
                 "</ram:PayeePartyCreditorFinancialAccount></ram:SpecifiedTradeSettlementPaymentMeans>")
        for v in inv["vat"]:
            x.append(f"<ram:ApplicableTradeTax><ram:CalculatedAmount>{money(v['tax'])}</ram:CalculatedAmount>"
                     f"<ram:TypeCode>VAT</ram:TypeCode><ram:BasisAmount>{money(v['basis'])}</ram:BasisAmount>"
                     f"<ram:CategoryCode>{v['category']}</ram:CategoryCode><ram:RateApplicablePercent>{v['rate']}"
                     "</ram:RateApplicablePercent></ram:ApplicableTradeTax>")
        for kind, amount in inv.get("allowance_charge", []):
            x.append("<ram:SpecifiedTradeAllowanceCharge><ram:ChargeIndicator><udt:Indicator>"
                     f"{'true' if kind == 'charge' else 'false'}</udt:Indicator></ram:ChargeIndicator>"
                     f"<ram:ActualAmount>{money(amount)}</ram:ActualAmount>"
                     f"<ram:Reason>{'Freight' if kind == 'charge' else 'Discount'}</ram:Reason>"
                     "<ram:CategoryTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode>"
                     f"<ram:RateApplicablePercent>{inv['vat'][0]['rate']}</ram:RateApplicablePercent>"
                     "</ram:CategoryTradeTax></ram:SpecifiedTradeAllowanceCharge>")
        if inv.get("due_date"):
            x.append("<ram:SpecifiedTradePaymentTerms><ram:DueDateDateTime><udt:DateTimeString format=\"102\">"
                     f"{d102(inv['due_date'])}</udt:DateTimeString></ram:DueDateDateTime>"
                     "</ram:SpecifiedTradePaymentTerms>")
    x.append("<ram:SpecifiedTradeSettlementHeaderMonetarySummation>")
    if level != "minimum":
        x.append(f"<ram:LineTotalAmount>{money(inv['line_total'])}</ram:LineTotalAmount>")
        if "charges" in inv:
            x.append(f"<ram:ChargeTotalAmount>{money(inv['charges'])}</ram:ChargeTotalAmount>")
        if "allowances" in inv:
            x.append(f"<ram:AllowanceTotalAmount>{money(inv['allowances'])}</ram:AllowanceTotalAmount>")
    x.append(f"<ram:TaxBasisTotalAmount>{money(inv['net'])}</ram:TaxBasisTotalAmount>")
    x.append(f'<ram:TaxTotalAmount currencyID="{inv["currency"]}">{money(inv["tax"])}</ram:TaxTotalAmount>')
    if inv.get("tax_currency"):
        x.append(f'<ram:TaxTotalAmount currencyID="{inv["tax_currency"]}">{money(inv["tax_in_tax_currency"])}'
                 "</ram:TaxTotalAmount>")
    x.append(f"<ram:GrandTotalAmount>{money(inv['total'])}</ram:GrandTotalAmount>")
    if "prepaid" in inv:
        x.append(f"<ram:TotalPrepaidAmount>{money(inv['prepaid'])}</ram:TotalPrepaidAmount>")
    x.append(f"<ram:DuePayableAmount>{money(inv['amount_due'])}</ram:DuePayableAmount>")
    x += ["</ram:SpecifiedTradeSettlementHeaderMonetarySummation>", "</ram:ApplicableHeaderTradeSettlement>",
          "</rsm:SupplyChainTradeTransaction>", "</rsm:CrossIndustryInvoice>"]
    return pretty(x)


def zugferd1(inv):
    """A ZUGFeRD 1.0 COMFORT invoice (rsm:CrossIndustryDocument, the 2014 schema)."""
    x = ['<?xml version="1.0" encoding="UTF-8"?>',
         '<rsm:CrossIndustryDocument xmlns:rsm="urn:ferd:CrossIndustryDocument:invoice:1p0" '
         'xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12" '
         'xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:15">',
         "<rsm:SpecifiedExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter>"
         "<ram:ID>urn:ferd:CrossIndustryDocument:invoice:1p0:comfort</ram:ID>"
         "</ram:GuidelineSpecifiedDocumentContextParameter></rsm:SpecifiedExchangedDocumentContext>",
         "<rsm:HeaderExchangedDocument>", f"<ram:ID>{esc(inv['number'])}</ram:ID>", "<ram:Name>RECHNUNG</ram:Name>",
         "<ram:TypeCode>380</ram:TypeCode>",
         f'<ram:IssueDateTime><udt:DateTimeString format="102">{d102(inv["issue_date"])}</udt:DateTimeString>'
         "</ram:IssueDateTime>", "</rsm:HeaderExchangedDocument>",
         "<rsm:SpecifiedSupplyChainTradeTransaction>", "<ram:ApplicableSupplyChainTradeAgreement>"]
    s, b = inv["seller"], inv["buyer"]
    x += ["<ram:SellerTradeParty>", f"<ram:Name>{esc(s['name'])}</ram:Name>",
          f"<ram:PostalTradeAddress><ram:PostcodeCode>{s['postcode']}</ram:PostcodeCode><ram:LineOne>"
          f"{esc(s['street'])}</ram:LineOne><ram:CityName>{esc(s['city'])}</ram:CityName><ram:CountryID>"
          f"{s['country']}</ram:CountryID></ram:PostalTradeAddress>",
          f'<ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">{s["vat_id"]}</ram:ID></ram:SpecifiedTaxRegistration>',
          "</ram:SellerTradeParty>", "<ram:BuyerTradeParty>", f"<ram:Name>{esc(b['name'])}</ram:Name>",
          "<ram:DefinedTradeContact><ram:PersonName>Einkauf</ram:PersonName><ram:EmailURIUniversalCommunication>"
          f"<ram:URIID>{b['contact_email']}</ram:URIID></ram:EmailURIUniversalCommunication></ram:DefinedTradeContact>",
          f"<ram:PostalTradeAddress><ram:PostcodeCode>{b['postcode']}</ram:PostcodeCode><ram:LineOne>"
          f"{esc(b['street'])}</ram:LineOne><ram:CityName>{esc(b['city'])}</ram:CityName><ram:CountryID>"
          f"{b['country']}</ram:CountryID></ram:PostalTradeAddress>",
          "</ram:BuyerTradeParty>", "</ram:ApplicableSupplyChainTradeAgreement>",
          "<ram:ApplicableSupplyChainTradeDelivery><ram:ActualDeliverySupplyChainEvent><ram:OccurrenceDateTime>"
          f'<udt:DateTimeString format="102">{d102(inv["issue_date"])}</udt:DateTimeString></ram:OccurrenceDateTime>'
          "</ram:ActualDeliverySupplyChainEvent></ram:ApplicableSupplyChainTradeDelivery>",
          "<ram:ApplicableSupplyChainTradeSettlement>",
          f"<ram:InvoiceCurrencyCode>{inv['currency']}</ram:InvoiceCurrencyCode>"]
    for v in inv["vat"]:
        x.append(f'<ram:ApplicableTradeTax><ram:CalculatedAmount currencyID="{inv["currency"]}">{money(v["tax"])}'
                 f'</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode><ram:BasisAmount currencyID="'
                 f'{inv["currency"]}">{money(v["basis"])}</ram:BasisAmount><ram:CategoryCode>{v["category"]}'
                 f"</ram:CategoryCode><ram:ApplicablePercent>{v['rate']}</ram:ApplicablePercent>"
                 "</ram:ApplicableTradeTax>")
    cur = f'currencyID="{inv["currency"]}"'
    x += ["<ram:SpecifiedTradePaymentTerms><ram:Description>Zahlbar innerhalb von 14 Tagen</ram:Description>"
          f'<ram:DueDateDateTime><udt:DateTimeString format="102">{d102(inv["due_date"])}</udt:DateTimeString>'
          "</ram:DueDateDateTime></ram:SpecifiedTradePaymentTerms>",
          "<ram:SpecifiedTradeSettlementMonetarySummation>",
          f"<ram:LineTotalAmount {cur}>{money(inv['line_total'])}</ram:LineTotalAmount>",
          f"<ram:ChargeTotalAmount {cur}>0.00</ram:ChargeTotalAmount>",
          f"<ram:AllowanceTotalAmount {cur}>0.00</ram:AllowanceTotalAmount>",
          f"<ram:TaxBasisTotalAmount {cur}>{money(inv['net'])}</ram:TaxBasisTotalAmount>",
          f"<ram:TaxTotalAmount {cur}>{money(inv['tax'])}</ram:TaxTotalAmount>",
          f"<ram:GrandTotalAmount {cur}>{money(inv['total'])}</ram:GrandTotalAmount>",
          f"<ram:DuePayableAmount {cur}>{money(inv['amount_due'])}</ram:DuePayableAmount>",
          "</ram:SpecifiedTradeSettlementMonetarySummation>", "</ram:ApplicableSupplyChainTradeSettlement>"]
    for i, l in enumerate(inv["lines"], 1):
        x += ["<ram:IncludedSupplyChainTradeLineItem>",
              f"<ram:AssociatedDocumentLineDocument><ram:LineID>{i}</ram:LineID></ram:AssociatedDocumentLineDocument>",
              "<ram:SpecifiedSupplyChainTradeAgreement><ram:GrossPriceProductTradePrice>"
              f"<ram:ChargeAmount {cur}>{l['unit_price']}</ram:ChargeAmount></ram:GrossPriceProductTradePrice>"
              f"<ram:NetPriceProductTradePrice><ram:ChargeAmount {cur}>{l['unit_price']}</ram:ChargeAmount>"
              f'<ram:BasisQuantity unitCode="C62">{l.get("base", 1)}</ram:BasisQuantity>'
              "</ram:NetPriceProductTradePrice></ram:SpecifiedSupplyChainTradeAgreement>",
              f'<ram:SpecifiedSupplyChainTradeDelivery><ram:BilledQuantity unitCode="C62">{l["quantity"]}'
              "</ram:BilledQuantity></ram:SpecifiedSupplyChainTradeDelivery>",
              "<ram:SpecifiedSupplyChainTradeSettlement><ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode>"
              f"<ram:CategoryCode>S</ram:CategoryCode><ram:ApplicablePercent>{l['rate']}</ram:ApplicablePercent>"
              "</ram:ApplicableTradeTax><ram:SpecifiedTradeSettlementMonetarySummation>"
              f"<ram:LineTotalAmount {cur}>{money(l['amount'])}</ram:LineTotalAmount>"
              "</ram:SpecifiedTradeSettlementMonetarySummation></ram:SpecifiedSupplyChainTradeSettlement>",
              f"<ram:SpecifiedTradeProduct><ram:Name>{esc(l['description'])}</ram:Name></ram:SpecifiedTradeProduct>",
              "</ram:IncludedSupplyChainTradeLineItem>"]
    x += ["</rsm:SpecifiedSupplyChainTradeTransaction>", "</rsm:CrossIndustryDocument>"]
    return pretty(x)


# --------------------------------------------------------------------------------------------------------------
# Drawing invoices with fpdf2
# --------------------------------------------------------------------------------------------------------------

def new_pdf(unicode_font=False):
    pdf = FPDF(unit="mm", format="A4")
    pdf.set_creation_date(__import__("datetime").datetime(2026, 3, 31, tzinfo=__import__("datetime").timezone.utc))
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_auto_page_break(False)
    if unicode_font:
        pdf.add_font("DejaVu", "", DEJAVU)
        pdf.add_font("DejaVu", "B", DEJAVU_BOLD)
    pdf.add_page()
    return pdf


def right(pdf, x_right, y, text):
    pdf.text(x_right - pdf.get_string_width(text), y, text)


def fmt_en(value, symbol=""):
    return f"{symbol}{D(value):,.2f}"


def fmt_de(value):
    return f"{D(value):,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def visual_for_xml(inv, title="INVOICE"):
    """A plain rendering of a structured invoice: the text layer a reader would see."""
    pdf = new_pdf()
    pdf.set_font("Helvetica", "B", 16)
    pdf.text(20, 25, inv["seller"]["name"])
    pdf.set_font("Helvetica", "", 10)
    pdf.text(20, 31, f"{inv['seller']['street']}, {inv['seller']['postcode']} {inv['seller']['city']}")
    right(pdf, 190, 25, title)
    pdf.text(120, 45, f"Invoice No: {inv['number']}")
    pdf.text(120, 50, f"Invoice Date: {inv['issue_date']}")
    pdf.text(20, 45, "Bill To:")
    pdf.text(20, 50, inv["buyer"]["name"])
    y = 70
    pdf.text(20, y, "Description")
    right(pdf, 130, y, "Qty")
    right(pdf, 160, y, "Unit Price")
    right(pdf, 190, y, "Amount")
    for l in inv["lines"]:
        y += 6
        pdf.text(20, y, l["description"])
        right(pdf, 130, y, str(l["quantity"]))
        right(pdf, 160, y, str(l["unit_price"]))
        right(pdf, 190, y, money(l["amount"]))
    y += 12
    for label, value in (("Net", inv["net"]), ("VAT", inv["tax"]), ("Total", inv["total"])):
        pdf.text(130, y, label)
        right(pdf, 190, y, f"{inv['currency']} {money(value)}")
        y += 6
    return bytes(pdf.output())


def layout_en_classic(inv, font="Helvetica"):
    """English, one column: seller block top left, title and meta top right, "Bill To:", a four-column table,
    totals right, pound signs, 'March 31, 2026' dates."""
    pdf = new_pdf(unicode_font=font == "DejaVu")
    pdf.set_font(font, "B", 18)
    pdf.text(20, 22, inv["seller"]["name"])
    pdf.set_font(font, "B", 24)
    right(pdf, 190, 22, "INVOICE")
    pdf.set_font(font, "", 10)
    pdf.text(20, 29, inv["seller"]["address"])
    pdf.text(20, 34, inv["seller"]["email"])
    pdf.text(20, 39, f"VAT Reg No: {inv['seller']['vat_display']}")
    for i, (label, value) in enumerate([("Invoice No:", inv["number"]), ("Invoice Date:", inv["issue_display"]),
                                        ("Due Date:", inv["due_display"])]):
        pdf.text(120, 50 + 5 * i, label)
        pdf.text(150, 50 + 5 * i, value)
    pdf.set_font(font, "B", 10)
    pdf.text(20, 50, "Bill To:")
    pdf.set_font(font, "", 10)
    for i, text in enumerate([inv["buyer"]["name"]] + inv["buyer"]["address"] + [inv["buyer"]["email"]]):
        pdf.text(20, 55 + 5 * i, text)
    y = 90
    pdf.set_font(font, "B", 10)
    pdf.text(20, y, "Description")
    right(pdf, 120, y, "Qty")
    right(pdf, 155, y, "Unit Price")
    right(pdf, 190, y, "Amount")
    pdf.line(20, y + 2, 190, y + 2)
    pdf.set_font(font, "", 10)
    sym = inv["symbol"]
    for l in inv["lines"]:
        y += 7
        pdf.text(20, y, l["description"])
        right(pdf, 120, y, str(l["quantity"]))
        right(pdf, 155, y, fmt_en(l["unit_price"], sym))
        right(pdf, 190, y, fmt_en(l["amount"], sym))
    y += 14
    for label, value in (("Subtotal", inv["net"]), (inv["tax_label"], inv["tax"]), ("Total", inv["total"])):
        pdf.set_font(font, "B" if label == "Total" else "", 10)
        pdf.text(130, y, label)
        right(pdf, 190, y, fmt_en(value, sym))
        y += 6
    pdf.set_font(font, "", 9)
    pdf.text(20, 270, "Payment terms: 30 days. Thank you for your business.")
    return bytes(pdf.output())


def layout_de_din(inv):
    """German business letter (DIN 5008 style): a small sender line above the recipient's address, no buyer label,
    meta on the right, a table with position and unit columns, German numbers, two VAT rates, footer with the
    VAT id next to an IBAN."""
    pdf = new_pdf(unicode_font=True)
    pdf.set_font("DejaVu", "B", 14)
    right(pdf, 190, 20, inv["seller"]["name"])
    pdf.set_font("DejaVu", "", 7)
    pdf.text(25, 48, inv["seller"]["sender_line"])
    pdf.set_font("DejaVu", "", 10)
    for i, text in enumerate([inv["buyer"]["name"]] + inv["buyer"]["address"]):
        pdf.text(25, 56 + 5 * i, text)
    pdf.text(25, 56 + 5 * (len(inv["buyer"]["address"]) + 1), f"E-Mail: {inv['buyer']['email']}")
    meta = [("Rechnungsnummer:", inv["number"]), ("Rechnungsdatum:", inv["issue_display"]),
            ("Lieferdatum:", inv["delivery_display"]), ("Fällig am:", inv["due_display"]),
            ("Kundennummer:", "K-4711")]
    for i, (label, value) in enumerate(meta):
        pdf.text(125, 56 + 5 * i, label)
        pdf.text(160, 56 + 5 * i, value)
    pdf.set_font("DejaVu", "B", 13)
    pdf.text(25, 100, "Rechnung")
    pdf.set_font("DejaVu", "", 10)
    pdf.text(25, 107, "Sehr geehrte Damen und Herren, wir berechnen Ihnen wie folgt:")
    y = 118
    pdf.set_font("DejaVu", "B", 9)
    for x, label, align in [(25, "Pos.", "L"), (37, "Bezeichnung", "L"), (122, "Menge", "R"), (127, "Einheit", "L"),
                            (165, "Einzelpreis", "R"), (190, "Gesamt", "R")]:
        (right(pdf, x, y, label) if align == "R" else pdf.text(x, y, label))
    pdf.set_font("DejaVu", "", 9)
    for i, l in enumerate(inv["lines"], 1):
        y += 6
        pdf.text(25, y, str(i))
        pdf.text(37, y, l["description"])
        right(pdf, 122, y, fmt_de(l["quantity"]).rstrip("0").rstrip(",") if "." in str(l["quantity"])
              else str(l["quantity"]))
        pdf.text(127, y, l["unit"])
        right(pdf, 165, y, fmt_de(l["unit_price"]) + " €")
        right(pdf, 190, y, fmt_de(l["amount"]) + " €")
    y += 12
    rows = [("Nettobetrag", inv["net"])] + [(f"zzgl. {v['rate']} % USt. auf {fmt_de(v['basis'])} €", v["tax"])
                                            for v in inv["vat"]] + [("Gesamtbetrag", inv["total"])]
    for label, value in rows:
        pdf.set_font("DejaVu", "B" if label == "Gesamtbetrag" else "", 9)
        pdf.text(105, y, label)
        right(pdf, 190, y, fmt_de(value) + " €")
        y += 5
    pdf.set_font("DejaVu", "", 9)
    pdf.text(25, y + 10, "Bitte überweisen Sie den Betrag bis zum Fälligkeitsdatum.")
    pdf.set_font("DejaVu", "", 7)
    pdf.text(25, 280, f"{inv['seller']['name']} · Geschäftsführer: Karl Müller · Amtsgericht Berlin HRB 12345")
    pdf.text(25, 284, f"USt-IdNr.: {inv['seller']['vat_display']} · IBAN DE89 3704 0044 0532 0130 00 · BIC COBADEFFXXX")
    return bytes(pdf.output())


def layout_two_column(inv):
    """Two-column header (FROM | BILL TO side by side), meta as a row of labels above a row of values, a table
    with an item and a description column, US dates, USD as a code."""
    pdf = new_pdf()
    pdf.set_font("Helvetica", "B", 22)
    pdf.text(105 - pdf.get_string_width("INVOICE") / 2, 20, "INVOICE")
    pdf.set_font("Helvetica", "B", 9)
    pdf.text(20, 35, "FROM")
    pdf.text(110, 35, "BILL TO")
    pdf.set_font("Helvetica", "", 10)
    left = [inv["seller"]["name"]] + inv["seller"]["address"] + [inv["seller"]["email"]]
    rightcol = [inv["buyer"]["name"]] + inv["buyer"]["address"] + [inv["buyer"]["email"]]
    for i in range(max(len(left), len(rightcol))):
        if i < len(left):
            pdf.text(20, 41 + 5 * i, left[i])
        if i < len(rightcol):
            pdf.text(110, 41 + 5 * i, rightcol[i])
    pdf.set_font("Helvetica", "B", 9)
    cols = [(20, "Invoice #", inv["number"]), (65, "Issue Date", inv["issue_display"]),
            (110, "Due Date", inv["due_display"]), (155, "Currency", inv["currency"])]
    for x, label, _ in cols:
        pdf.text(x, 78, label)
    pdf.set_font("Helvetica", "", 10)
    for x, _, value in cols:
        pdf.text(x, 84, value)
    y = 100
    pdf.set_font("Helvetica", "B", 9)
    pdf.text(20, y, "Item")
    pdf.text(62, y, "Description")
    right(pdf, 140, y, "Hours")
    right(pdf, 162, y, "Rate")
    right(pdf, 190, y, "Line Total")
    pdf.set_font("Helvetica", "", 10)
    for l in inv["lines"]:
        y += 7
        pdf.text(20, y, l["description"])
        pdf.text(62, y, l["detail"])
        right(pdf, 140, y, str(l["quantity"]))
        right(pdf, 162, y, fmt_en(l["unit_price"]))
        right(pdf, 190, y, fmt_en(l["amount"]))
    y += 14
    for label, value in (("Subtotal", inv["net"]), ("Sales Tax (0%)", inv["tax"]), ("Total Due", inv["total"])):
        pdf.text(120, y, label)
        right(pdf, 190, y, ("USD " if label == "Total Due" else "") + fmt_en(value))
        y += 6
    pdf.set_font("Helvetica", "I", 9)
    pdf.text(20, 260, "Please make checks payable to " + inv["seller"]["name"] + ".")
    return bytes(pdf.output())


def layout_qty_first(inv):
    """Quantity before the description, 'Net amount'/'VAT 19%'/'Total amount', EUR as a code after the label,
    '31 Mar 2026' dates, seller from the letterhead and again in the footer."""
    pdf = new_pdf()
    pdf.set_font("Helvetica", "B", 15)
    pdf.text(20, 20, inv["seller"]["name"])
    pdf.set_font("Helvetica", "", 9)
    pdf.text(20, 25, inv["seller"]["address"])
    pdf.set_font("Helvetica", "B", 12)
    pdf.text(20, 40, "Invoice")
    pdf.set_font("Helvetica", "", 10)
    rows = [("Invoice number:", inv["number"]), ("Date:", inv["issue_display"]), ("Payment due:", inv["due_display"]),
            ("Customer:", inv["buyer"]["name"]), ("Email:", inv["buyer"]["email"])]
    for i, (label, value) in enumerate(rows):
        pdf.text(20, 48 + 5 * i, label)
        pdf.text(55, 48 + 5 * i, value)
    y = 85
    pdf.set_font("Helvetica", "B", 10)
    right(pdf, 30, y, "Qty")
    pdf.text(38, y, "Description")
    right(pdf, 160, y, "Price")
    right(pdf, 190, y, "Total")
    pdf.set_font("Helvetica", "", 10)
    for l in inv["lines"]:
        y += 6
        right(pdf, 30, y, str(l["quantity"]))
        pdf.text(38, y, l["description"])
        right(pdf, 160, y, fmt_en(l["unit_price"]))
        right(pdf, 190, y, fmt_en(l["amount"]))
    y += 12
    for label, value in (("Net amount", inv["net"]), ("VAT 19%", inv["tax"]), ("Total amount", inv["total"])):
        pdf.text(120, y, label)
        right(pdf, 190, y, "EUR " + fmt_en(value))
        y += 6
    pdf.set_font("Helvetica", "", 8)
    pdf.text(20, 282, f"{inv['seller']['name']} | VAT ID: {inv['seller']['vat_id']} | {inv['seller']['address']}")
    return bytes(pdf.output())


def letter():
    pdf = new_pdf()
    pdf.set_font("Helvetica", "", 11)
    for i, text in enumerate(["Dear Ms. Jensen,", "", "thank you for visiting our stand at the trade fair last week.",
                              "As promised, we will send you our catalogue for the coming season.", "",
                              "Kind regards,", "Paula Berger", "Sales, Hanseatic Tea Importers"]):
        pdf.text(25, 40 + 6 * i, text)
    return bytes(pdf.output())


def drawing_only():
    pdf = new_pdf()
    pdf.set_fill_color(200, 200, 200)
    pdf.rect(20, 20, 170, 100, style="F")
    pdf.circle(105, 200, 30)
    return bytes(pdf.output())


# --------------------------------------------------------------------------------------------------------------
# PDFs written byte by byte
# --------------------------------------------------------------------------------------------------------------

def raw_pdf(objects, root=1, trailer_extra=b"", version=b"1.7"):
    """A PDF of `objects` ({number: body bytes}), with a correct xref table."""
    out = bytearray(b"%PDF-" + version + b"\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    size = max(objects) + 1
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += (b"%010d 00000 n \n" % offsets[number]) if number in objects else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (size, root, trailer_extra, xref)
    return bytes(out)


def xref_stream_pdf(objects, compressed, root=1):
    """A PDF of `objects` whose cross-reference data is a stream (PDF 1.5), with the objects in `compressed`
    ({number: (object stream, index)}) listed as inside an object stream."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref_number = max(list(objects) + list(compressed)) + 1
    offsets[xref_number] = len(out)
    rows = b""
    for number in range(xref_number + 1):
        if number in offsets:
            rows += bytes([1]) + offsets[number].to_bytes(4, "big") + (0).to_bytes(2, "big")
        elif number in compressed:
            container, index = compressed[number]
            rows += bytes([2]) + container.to_bytes(4, "big") + index.to_bytes(2, "big")
        else:
            rows += bytes([0]) + (0).to_bytes(4, "big") + (65535).to_bytes(2, "big")
    data = zlib.compress(rows)
    out += b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root %d 0 R /Filter /FlateDecode /Length %d >>\nstream\n" \
        % (xref_number, xref_number + 1, root, len(data)) + data + b"\nendstream\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[xref_number]
    return bytes(out)


def stream(dictionary, data, flate=True):
    if flate:
        data = zlib.compress(data)
        dictionary += b" /Filter /FlateDecode"
    return b"<< %s /Length %d >>\nstream\n" % (dictionary, len(data)) + data + b"\nendstream"


def pdf_string(raw):
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


HELVETICA_WIDTHS = None


def helvetica_width(ch):
    global HELVETICA_WIDTHS
    if HELVETICA_WIDTHS is None:
        from fpdf.fonts import CORE_FONTS_CHARWIDTHS
        HELVETICA_WIDTHS = CORE_FONTS_CHARWIDTHS["helvetica"]
    try:
        code = ch.encode("cp1252")
    except UnicodeEncodeError:
        return 556
    return HELVETICA_WIDTHS.get(chr(code[0]), 556)


class CompactFont:
    """A LibreOffice-style subset font: codes 1, 2, 3, … in order of first use, and a ToUnicode CMap of
    `bfrange` arrays and single `bfchar`s (and incrementing ranges where codes and characters run together)."""

    def __init__(self):
        self.codes = {}

    def encode(self, text):
        out = bytearray()
        for ch in text:
            if ch not in self.codes:
                self.codes[ch] = len(self.codes) + 1
            out.append(self.codes[ch])
        return bytes(out)

    def cmap(self):
        """The map written as compactly as the syntax allows (no white space between tokens that do not need
        it), which strict line-based CMap parsers (lopdf's among them) fail on."""
        by_code = sorted((code, ch) for ch, code in self.codes.items())
        chars, ranges = [], []
        i = 0
        while i < len(by_code):
            j = i
            while j + 1 < len(by_code) and by_code[j + 1][0] == by_code[j][0] + 1 and j - i < 15:
                j += 1
            group = by_code[i:j + 1]
            if len(group) == 1:
                chars.append(group[0])
            elif all(ord(group[k][1]) == ord(group[0][1]) + k for k in range(len(group))):
                ranges.append(b"<%02X><%02X><%04X>" % (group[0][0], group[-1][0], ord(group[0][1])))
            else:
                ranges.append(b"<%02X><%02X>[%s]" % (group[0][0], group[-1][0],
                                                       b"".join(b"<%04X>" % ord(c) for _, c in group)))
            i = j + 1
        body = [b"/CIDInit/ProcSet findresource begin 12 dict begin begincmap/CIDSystemInfo<</Registry(Adobe)"
                b"/Ordering(UCS)/Supplement 0>>def/CMapName/Adobe-Identity-UCS def/CMapType 2 def "
                b"1 begincodespacerange<00><FF>endcodespacerange"]
        if chars:
            body.append(b"%d beginbfchar" % len(chars) + b"".join(b"<%02X><%04X>" % (code, ord(ch)) for code, ch in chars)
                        + b"endbfchar")
        if ranges:
            body.append(b"%d beginbfrange" % len(ranges) + b"".join(ranges) + b"endbfrange")
        body.append(b"endcmap CMapName currentdict/CMap defineresource pop end end")
        return b"\n".join(body)

    def widths(self):
        by_code = sorted((code, ch) for ch, code in self.codes.items())
        return b"[" + b" ".join(b"%d" % helvetica_width(ch) for _, ch in by_code) + b"]"


def libreoffice_style(inv):
    """Text in a subset TrueType font with codes 1…N and a compact ToUnicode (as LibreOffice writes), the
    seller's name in a Type0 font with 2-byte codes whose ToUnicode has a surrogate pair, ISO dates, CHF."""
    font = CompactFont()
    ops = []

    def put(x, y, text, size=10):
        ops.append(b"BT /F1 %d Tf %.2f %.2f Td <%s> Tj ET" % (size, x, y, font.encode(text).hex().upper().encode()))

    def put_right(x_right, y, text, size=10):
        width = sum(helvetica_width(c) for c in text) * size / 1000
        put(x_right - width, y, text, size)

    # The seller's name in the 2-byte font: CIDs 1… for its characters.
    name = inv["seller"]["name"]
    cids = {}
    for ch in name:
        cids.setdefault(ch, len(cids) + 1)
    ops.append(b"BT /F2 16 Tf 56 790 Td <%s> Tj ET" % b"".join(b"%04X" % cids[c] for c in name))
    put(56, 772, inv["seller"]["address"])
    put(56, 760, "VAT: " + inv["seller"]["vat_display"])
    put(400, 790, "Invoice", 16)
    put(360, 740, "Invoice No.")
    put(450, 740, inv["number"])
    put(360, 726, "Invoice Date")
    put(450, 726, inv["issue_date"])
    put(360, 712, "Due Date")
    put(450, 712, inv["due_date"])
    put(56, 740, "Invoice to")
    put(56, 726, inv["buyer"]["name"])
    put(56, 712, inv["buyer"]["address"])
    put(56, 698, inv["buyer"]["email"])
    y = 650
    put(56, y, "Description")
    put_right(330, y, "Quantity")
    put_right(430, y, "Unit price")
    put_right(540, y, "Amount")
    for l in inv["lines"]:
        y -= 16
        put(56, y, l["description"])
        put_right(330, y, str(l["quantity"]))
        put_right(430, y, fmt_en(l["unit_price"]).replace(",", "'"))
        put_right(540, y, fmt_en(l["amount"]).replace(",", "'"))
    y -= 30
    for label, value in (("Total net", inv["net"]), ("VAT 8.1%", inv["tax"]), ("Total CHF", inv["total"])):
        put(360, y, label)
        put_right(540, y, fmt_en(value).replace(",", "'"))
        y -= 16
    content = b"\n".join(ops)

    def utf16(ch):
        return ch.encode("utf-16-be").hex().upper().encode()

    cid_map = [b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
               b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
               b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
               b"1 begincodespacerange <0000> <FFFF> endcodespacerange",
               b"%d beginbfchar" % len(cids)]
    cid_map += [b"<%04X> <%s>" % (cid, utf16(ch)) for ch, cid in cids.items()]
    cid_map += [b"endbfchar", b"endcmap CMapName currentdict /CMap defineresource pop end end"]
    w = b" ".join(b"%d [%d]" % (cid, helvetica_width(ch) if ord(ch) < 0x10000 else 1000) for ch, cid in cids.items())
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
           b"/Resources << /Font << /F1 5 0 R /F2 7 0 R >> >> >>",
        4: stream(b"", content),
        5: b"<< /Type /Font /Subtype /TrueType /BaseFont /BAAAAA+LiberationSans /FirstChar 1 /LastChar %d "
           b"/Widths %s /ToUnicode 6 0 R >>" % (len(font.codes), font.widths()),
        6: stream(b"", font.cmap()),
        7: b"<< /Type /Font /Subtype /Type0 /BaseFont /CAAAAA+LiberationSans-Bold /Encoding /Identity-H "
           b"/DescendantFonts [8 0 R] /ToUnicode 9 0 R >>",
        8: b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /CAAAAA+LiberationSans-Bold /CIDSystemInfo "
           b"<< /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 /W [%s] >>" % w,
        9: stream(b"", b"\n".join(cid_map)),
    }
    return raw_pdf(objects)


def operators_doc(inv):
    """French labels drawn with every text operator: `TL`/`T*`, `'` and `"`, `TJ` with kerning inside words and
    wide gaps between columns, `TD`, `Tm` with a scaled matrix, `cm` and `q`/`Q`; Helvetica with a `/Differences`
    encoding that names its accented letters (`eacute`, `uni20AC`, `g45`)."""
    differences = b"[128 /eacute /Eacute /egrave /uni20AC /agrave /ccedilla /g45 /quoteright /ocircumflex]"
    table = {"é": 128, "É": 129, "è": 130, "€": 131, "à": 132, "ç": 133, "E": 134, "’": 135, "ô": 136}

    def enc(text):
        return bytes(table.get(c) or c.encode("cp1252")[0] for c in text)

    def s(text):
        return pdf_string(enc(text))

    lines = []
    lines.append(b"q 1 0 0 1 56 0 cm")  # everything shifted 56 pt right by the CTM
    lines.append(b"BT /F1 1 Tf 16 0 0 16 0 790 Tm " + s(inv["seller"]["name"]) + b" Tj ET")
    lines.append(b"BT /F1 9 Tf 11 TL 0 776 Td " + s(inv["seller"]["address"]) + b" Tj T* "
                 + s("TVA : " + inv["seller"]["vat_display"]) + b" Tj ET")
    lines.append(b"Q")
    # The title: letters kerned with TJ (small adjustments inside the word must not become spaces).
    lines.append(b"BT /F1 20 Tf 420 790 Td [(F) 60 (ACTURE)] TJ ET")
    # Meta block: label and value in one TJ, separated by a wide adjustment (a column gap).
    lines.append(b"BT /F1 10 Tf 12 TL 330 740 Td")
    for label, value in (("Facture N\xb0", inv["number"]), ("Date de facture", inv["issue_display"]),
                         ("Date d\u2019\xe9ch\xe9ance", inv["due_display"])):
        width = sum(helvetica_width(c) for c in label)
        gap = 9500 - width  # the value starts 95 pt after the label, in thousandths of the font size
        lines.append(b"[" + s(label) + b" -%d " % gap + s(value) + b"] TJ T*")
    lines.append(b"ET")
    # Buyer block: ' and " move to the next line before showing.
    lines.append(b"BT /F1 10 Tf 12 TL 56 752 Td " + s("Factur\xe9 \xe0 :") + b" Tj "
                 + s(inv["buyer"]["name"]) + b" ' 0 0 " + s(inv["buyer"]["address"]) + b' " '
                 + s(inv["buyer"]["email"]) + b" ' ET")
    # Table: header with TD (sets the leading), rows with T*.
    lines.append(b"BT /F1 10 Tf 56 650 Td")
    header = [("D\xe9signation", 0), ("Qt\xe9", 250), ("Prix unitaire", 330), ("Montant HT", 430)]
    rows = [[l["description"], str(l["quantity"]).replace(".", ","), fmt_de(l["unit_price"]) + " \u20ac",
             fmt_de(l["amount"]) + " \u20ac"] for l in inv["lines"]]

    def tj_row(cells, columns):
        parts, x = [], 0
        for text, column in zip(cells, columns):
            if column > x:
                parts.append(b"-%d" % round((column - x) * 100))  # in thousandths of 10 pt
            parts.append(s(text))
            x = column + sum(helvetica_width(c) for c in text) / 100
        return b"[" + b" ".join(parts) + b"] TJ"

    columns = [c for _, c in header]
    lines.append(tj_row([h for h, _ in header], columns))
    for i, row in enumerate(rows):
        lines.append((b"0 -16 TD " if i == 0 else b"T* ") + tj_row(row, columns))
    lines.append(b"ET")
    y = 650 - 16 * len(rows) - 30
    for label, value in (("Total HT", inv["net"]), ("TVA 20 %", inv["tax"]), ("Total TTC", inv["total"])):
        lines.append(b"BT /F1 10 Tf 386 %d Td " % y + s(label) + b" Tj 100 0 Td "
                     + s(fmt_de(value) + " \u20ac") + b" Tj ET")
        y -= 14
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 /Resources << /Font << /F1 5 0 R >> >> >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",  # inherits /Resources
        4: stream(b"", b"\n".join(lines)),
        5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding /BaseEncoding "
           b"/WinAnsiEncoding /Differences " + differences + b" >> >>",
    }
    return raw_pdf(objects)


def into_form_xobjects(pdf_bytes):
    """Moves each page's content into a Form XObject, itself drawn from a second Form XObject with a /Matrix
    translation (undone by the page's `cm`), so the text is two XObjects deep."""
    reader = PdfReader(io.BytesIO(pdf_bytes))
    writer = PdfWriter(clone_from=reader)
    for page in writer.pages:
        inner = DecodedStreamObject()
        inner.set_data(page.get_contents().get_data())
        inner.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
                      NameObject("/BBox"): ArrayObject([NumberObject(0), NumberObject(0), NumberObject(595),
                                                         NumberObject(842)]),
                      NameObject("/Resources"): page["/Resources"]})
        inner_ref = writer._add_object(inner)
        outer = DecodedStreamObject()
        outer.set_data(b"q /Inner Do Q")
        outer.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
                      NameObject("/BBox"): ArrayObject([NumberObject(-50), NumberObject(-50), NumberObject(700),
                                                         NumberObject(900)]),
                      NameObject("/Matrix"): ArrayObject([FloatObject(1), FloatObject(0), FloatObject(0),
                                                           FloatObject(1), FloatObject(30), FloatObject(-20)]),
                      NameObject("/Resources"): DictionaryObject({NameObject("/XObject"): DictionaryObject(
                          {NameObject("/Inner"): inner_ref})})})
        outer_ref = writer._add_object(outer)
        page_content = DecodedStreamObject()
        page_content.set_data(b"q 1 0 0 1 -30 20 cm /Outer Do Q")
        page[NameObject("/Contents")] = writer._add_object(page_content)
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/XObject"): DictionaryObject(
            {NameObject("/Outer"): outer_ref})})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def without_tounicode(pdf_bytes):
    reader = PdfReader(io.BytesIO(pdf_bytes))
    writer = PdfWriter(clone_from=reader)
    for page in writer.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            if "/ToUnicode" in font:
                del font["/ToUnicode"]
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def attach(pdf_bytes, files):
    """Attaches files through the /Names /EmbeddedFiles tree only (no /AF), as pypdf does."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes)))
    for name, data in files:
        writer.add_attachment(name, data)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def facturx_pdf(inv, level, flavor_name=None):
    xml = cii(inv, level)
    pdf = facturx.generate_from_binary(visual_for_xml(inv), xml, flavor="factur-x", level=level, check_xsd=True,
                                       pdf_metadata={"author": inv["seller"]["name"], "keywords": "Factur-X",
                                                     "title": inv["number"], "subject": "Invoice"})
    if flavor_name:
        # ZUGFeRD 2.x files carry the same XML under the name zugferd-invoice.xml.
        pdf = rename_attachment(pdf, "factur-x.xml", flavor_name)
    return pdf


def rename_attachment(pdf_bytes, old, new):
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes)))
    root = writer._root_object
    names = root["/Names"]["/EmbeddedFiles"]["/Names"]
    for i in range(0, len(names), 2):
        if names[i] == old:
            from pypdf.generic import TextStringObject
            names[i] = TextStringObject(new)
            spec = names[i + 1].get_object()
            spec[NameObject("/F")] = TextStringObject(new)
            spec[NameObject("/UF")] = TextStringObject(new)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --------------------------------------------------------------------------------------------------------------
# The invoices
# --------------------------------------------------------------------------------------------------------------

def structured_invoice(number, seller_name, vat_id, buyer_name, lines, rates, **extra):
    inv = {
        "number": number, "issue_date": "2026-03-31", "due_date": "2026-04-30", "currency": "EUR",
        "seller": {"name": seller_name, "vat_id": vat_id, "street": "Rue de la Paix 12", "postcode": "75002",
                   "city": "Paris", "country": vat_id[:2] if vat_id else "FR"},
        "buyer": {"name": buyer_name, "street": "Hauptstr. 1", "postcode": "10115", "city": "Berlin",
                  "country": "DE"},
        "lines": lines,
    }
    inv.update(extra)
    inv.update(totals(inv["lines"], rates, extra.get("allowances", D(0)), extra.get("charges", D(0)),
                      extra.get("prepaid", D(0))))
    for key in ("allowances", "charges", "prepaid"):
        if key in extra:
            inv[key] = extra[key]
    return inv


def structured_corpus():
    def lines():
        return [{"description": "Espresso beans, 1 kg", "quantity": D("12"), "unit_price": D("18.50"), "rate": 20},
                {"description": "Milk frother", "quantity": D("2"), "unit_price": D("89.90"), "rate": 20}]

    out = []
    # MINIMUM: header totals only; no lines, no due date, no buyer email.
    inv = structured_invoice("FX-MIN-2026-001", "Café Lumière SARL", "FR32123456789", "Rösterei Nord GmbH", lines(),
                             [20])
    inv.pop("due_date")
    exp = issue_json(dict(inv, due_date=None), "facturx", "minimum", with_lines=False)
    exp.pop("line_total")
    exp.pop("vat")
    exp["buyer"]["email"] = None
    out.append(("facturx-minimum", facturx_pdf(inv, "minimum"), exp))

    # BASIC WL: no lines, but the breakdown, the due date and the buyer's electronic address.
    inv = structured_invoice("FX-BWL-2026-002", "Café Lumière SARL", "FR32123456789", "Rösterei Nord GmbH", lines(),
                             [20])
    inv["buyer"]["em"] = "ap@roesterei-nord.de"
    exp = issue_json(inv, "facturx", "basicwl", with_lines=False)
    exp["buyer"]["email"] = "ap@roesterei-nord.de"
    out.append(("facturx-basicwl", facturx_pdf(inv, "basicwl"), exp))

    # BASIC: lines with a base quantity on one price.
    ls = lines() + [{"description": "Paper cups (per 100)", "quantity": D("500"), "unit_price": D("4.20"),
                     "base": D("100"), "rate": 20}]
    inv = structured_invoice("FX-BAS-2026-003", "Café Lumière SARL", "FR32123456789", "Rösterei Nord GmbH", ls, [20])
    inv["buyer"]["em"] = "ap@roesterei-nord.de"
    exp = issue_json(inv, "facturx", "basic")
    exp["buyer"]["email"] = "ap@roesterei-nord.de"
    exp["lines"][2]["base_quantity"] = "100"
    out.append(("facturx-basic", facturx_pdf(inv, "basic"), exp))

    # EN 16931: a buyer contact email, two VAT rates, a description beside the name.
    ls = lines() + [{"description": "Barista training", "detail": "Half-day course on site", "quantity": D("1"),
                     "unit_price": D("350.00"), "rate": 10}]
    inv = structured_invoice("FX-EN-2026-004", "Café Lumière SARL", "FR32123456789", "Rösterei Nord GmbH", ls,
                             [20, 10])
    inv["buyer"]["contact_email"] = "einkauf@roesterei-nord.de"
    exp = issue_json(inv, "facturx", "en16931")
    exp["buyer"]["email"] = "einkauf@roesterei-nord.de"
    exp["lines"][2]["vat_rate"] = "10"
    out.append(("facturx-en16931", facturx_pdf(inv, "en16931"), exp))

    # EXTENDED: invoice in USD with the VAT also in EUR (two TaxTotalAmount), an allowance, a charge, a prepayment.
    inv = structured_invoice("FX-EXT-2026-005", "Café Lumière SARL", "FR32123456789", "Rösterei Nord GmbH", lines(),
                             [20], allowances=D("10.00"), charges=D("25.00"), prepaid=D("100.00"),
                             allowance_charge=[("allowance", D("10.00")), ("charge", D("25.00"))],
                             currency="USD", tax_currency="EUR")
    inv["vat"][0]["basis"] = inv["net"]
    inv["vat"][0]["tax"] = (inv["net"] * D("0.20")).quantize(D("0.01"))
    inv["tax"] = inv["vat"][0]["tax"]
    inv["total"] = inv["net"] + inv["tax"]
    inv["amount_due"] = inv["total"] - inv["prepaid"]
    inv["tax_in_tax_currency"] = (inv["tax"] * D("0.92")).quantize(D("0.01"))
    inv["buyer"]["em"] = "ap@roesterei-nord.de"
    inv["buyer"]["contact_email"] = "einkauf@roesterei-nord.de"
    exp = issue_json(inv, "facturx", "extended")
    exp["buyer"]["email"] = "ap@roesterei-nord.de"
    out.append(("facturx-extended", facturx_pdf(inv, "extended"), exp))

    # ZUGFeRD 2.x: the Factur-X XML under the name zugferd-invoice.xml.
    inv = structured_invoice("ZF2-2026-006", "Schreinerei Holzmann GmbH", "DE123456789", "Stadtwerke Beispiel",
                             [{"description": "Eichentisch, massiv", "quantity": D("1"), "unit_price": D("1290.00"),
                               "rate": 19},
                              {"description": "Montage", "quantity": D("2.5"), "unit_price": D("65.00"),
                               "rate": 19}], [19])
    inv["buyer"]["contact_email"] = "rechnungen@stadtwerke-beispiel.de"
    exp = issue_json(inv, "zugferd", "en16931")
    exp["buyer"]["email"] = "rechnungen@stadtwerke-beispiel.de"
    out.append(("zugferd2-en16931", facturx_pdf(inv, "en16931", "zugferd-invoice.xml"), exp))

    # ZUGFeRD 1.0 COMFORT, through the EmbeddedFiles name tree only.
    inv = structured_invoice("ZF1-2014-0815", "Büro Schmidt OHG", "DE987654321", "Ingenieurbüro Weber",
                             [{"description": "Kopierpapier A4, 500 Blatt", "quantity": D("20"),
                               "unit_price": D("4.99"), "rate": 19},
                              {"description": "Toner schwarz", "quantity": D("3"), "unit_price": D("79.00"),
                               "rate": 19}], [19], issue_date="2014-11-20", due_date="2014-12-04")
    inv["buyer"]["contact_email"] = "buchhaltung@weber-ing.de"
    xml = zugferd1(inv)
    facturx.xml_check_xsd(xml, flavor="zugferd", level="comfort")
    exp = issue_json(inv, "zugferd", "en16931")
    exp["buyer"]["email"] = "buchhaltung@weber-ing.de"
    for line in exp["lines"]:
        line["base_quantity"] = "1"
    exp.pop("vat")
    out.append(("zugferd1-comfort", attach(visual_for_xml(inv, "RECHNUNG"), [("ZUGFeRD-invoice.xml", xml)]), exp))

    # XRechnung (CII) as xrechnung.xml.
    inv = structured_invoice("XR-2026-0007", "Datenwerk Köln GmbH", "DE111222333", "Bezirksamt Mitte von Berlin",
                             [{"description": "Wartungsvertrag Q1/2026", "quantity": D("1"), "unit_price": D("2400.00"),
                               "rate": 19},
                              {"description": "Vor-Ort-Einsatz (Stunden)", "quantity": D("6"), "unit_price": D("95.00"),
                               "rate": 19}], [19], buyer_reference="04011000-12345-67")
    inv["buyer"]["em"] = "e-rechnung@ba-mitte.berlin.de"
    exp = issue_json(inv, "xrechnung", "xrechnung")
    exp["buyer"]["email"] = "e-rechnung@ba-mitte.berlin.de"
    out.append(("xrechnung-cii", attach(visual_for_xml(inv, "RECHNUNG"), [("xrechnung.xml", cii(inv, "xrechnung"))]),
                exp))

    # A CII invoice under a name of its own, next to an unrelated XML attachment that must be skipped.
    inv = structured_invoice("CII-2026-0008", "Atelier Verre SAS", "FR40303265045", "Glasbau Süd AG",
                             [{"description": "Vitrage feuilleté 44.2", "quantity": D("8"), "unit_price": D("145.00"),
                               "rate": 20}], [20])
    inv["buyer"]["contact_email"] = "compta@glasbau-sued.ch"
    exp = issue_json(inv, "facturx", "en16931")
    exp["buyer"]["email"] = "compta@glasbau-sued.ch"
    decoy = b'<?xml version="1.0"?><delivery-note><number>DN-55</number></delivery-note>'
    out.append(("cii-unusual-name", attach(visual_for_xml(inv), [("a-delivery-note.xml", decoy),
                                                                 ("invoice_data.xml", cii(inv, "en16931"))]), exp))

    # A broken embedded XML: an authoritative invoice that cannot be read is an error, not a text fallback.
    broken = cii(inv, "en16931")[:-400]
    out.append(("facturx-broken-xml", attach(visual_for_xml(inv), [("factur-x.xml", broken)]),
                {"error": "invalid_embedded_invoice", "reason_contains": "factur-x.xml"}))
    return out


def text_corpus():
    out = []
    # 1. English classic, Helvetica (WinAnsi, no ToUnicode), pounds.
    lines = [{"description": "Widget, large (blue)", "quantity": D("10"), "unit_price": D("12.50")},
             {"description": "Installation service", "quantity": D("3"), "unit_price": D("80.00")},
             {"description": "Support plan \u2013 12 months", "quantity": D("1"), "unit_price": D("450.00")}]
    for l in lines:
        l["amount"] = l["quantity"] * l["unit_price"]
    net = sum(l["amount"] for l in lines)
    inv = {"number": "INV-2026-0042", "issue_date": "2026-03-31", "issue_display": "March 31, 2026",
           "due_date": "2026-04-30", "due_display": "April 30, 2026", "currency": "GBP", "symbol": "\xa3",
           "seller": {"name": "ACME Widgets Ltd", "address": "12 Harbour Road, Bristol BS1 4DJ",
                      "email": "billing@acme-widgets.co.uk", "vat_id": "GB123456789", "vat_display": "GB 123 4567 89"},
           "buyer": {"name": "Northwind Traders plc", "address": ["Accounts Payable", "4 King Street, London EC2V 8AU"],
                     "email": "ap@northwind.example"},
           "lines": lines, "net": net, "tax": net * D("0.2"), "total": net * D("1.2"), "tax_label": "VAT (20%)"}
    out.append(("text-en-classic", layout_en_classic(inv), issue_json(inv, "text")))

    # 1b. The same layout in DejaVu with the ToUnicode CMaps removed: Identity-H decoded through the embedded
    # font's own cmap table.
    inv2 = copy.deepcopy(inv)
    inv2.update(number="INV-2026-0043", issue_display="April 2, 2026", issue_date="2026-04-02",
                due_display="May 2, 2026", due_date="2026-05-02")
    inv2["buyer"]["name"] = "Contoso Pharmaceuticals Ltd"
    inv2["buyer"]["email"] = "invoices@contoso.example"
    out.append(("text-identity-h-no-tounicode", without_tounicode(layout_en_classic(inv2, font="DejaVu")),
                issue_json(inv2, "text")))

    # 2. German DIN letter, DejaVu (ToUnicode), two VAT rates.
    lines = [{"description": "Mehl Type 550, 25 kg Sack", "quantity": D("40"), "unit": "Sack",
              "unit_price": D("18.90"), "rate": 7},
             {"description": "Roggenmehl Type 1150, 25 kg", "quantity": D("12"), "unit": "Sack",
              "unit_price": D("21.40"), "rate": 7},
             {"description": "Backmalz, Großgebinde", "quantity": D("2.5"), "unit": "kg", "unit_price": D("9.80"),
              "rate": 7},
             {"description": "Lieferpauschale", "quantity": D("1"), "unit": "psch.", "unit_price": D("45.00"),
              "rate": 19}]
    t = totals(lines, [7, 19])
    inv = {"number": "RE-2026-117", "issue_date": "2026-03-31", "issue_display": "31.03.2026",
           "delivery_display": "28.03.2026", "due_date": "2026-04-14", "due_display": "14.04.2026", "currency": "EUR",
           "seller": {"name": "Müller & Söhne GmbH", "vat_id": "DE811234567", "vat_display": "DE 811 234 567",
                      "sender_line": "Müller & Söhne GmbH · Hauptstraße 5 · 10115 Berlin"},
           "buyer": {"name": "Bäckerei Schröder KG", "address": ["z. Hd. Frau Jana Schröder", "Lindenweg 12",
                                                                 "80331 München"],
                     "email": "buchhaltung@baeckerei-schroeder.de"},
           "lines": lines, **t}
    exp = issue_json(inv, "text")
    exp.pop("vat"), exp.pop("line_total"), exp.pop("amount_due")
    out.append(("text-de-din", layout_de_din(inv), exp))

    # 3. Two-column header, US.
    lines = [{"description": "Brand identity", "detail": "Logo, palette and type system", "quantity": D("24.5"),
              "unit_price": D("120.00")},
             {"description": "Website design", "detail": "Five page templates", "quantity": D("40"),
              "unit_price": D("110.00")},
             {"description": "Revisions", "detail": "Two rounds", "quantity": D("6"), "unit_price": D("95.00")}]
    for l in lines:
        l["amount"] = l["quantity"] * l["unit_price"]
    net = sum(l["amount"] for l in lines)
    inv = {"number": "BD-1087", "issue_date": "2026-03-31", "issue_display": "03/31/2026", "due_date": "2026-04-30",
           "due_display": "04/30/2026", "currency": "USD",
           "seller": {"name": "Brightside Design LLC", "address": ["500 Market St, Suite 210",
                                                                   "San Francisco, CA 94105"],
                      "email": "hello@brightside.design"},
           "buyer": {"name": "Globex Corporation", "address": ["Attn: Hank Scorpio", "1 Cypress Creek Pkwy",
                                                               "Cypress Creek, OR 97000"],
                     "email": "payables@globex.example"},
           "lines": lines, "net": net, "tax": D(0), "total": net}
    out.append(("text-two-column", layout_two_column(inv), issue_json(inv, "text")))

    # 4. Quantity first, inside nested Form XObjects.
    lines = [{"description": "Annual licence, Analytics Pro", "quantity": D("5"), "unit_price": D("240.00")},
             {"description": "Onboarding workshop", "quantity": D("1"), "unit_price": D("600.00")}]
    for l in lines:
        l["amount"] = l["quantity"] * l["unit_price"]
    net = sum(l["amount"] for l in lines)
    inv = {"number": "NS-26-0315", "issue_date": "2026-03-31", "issue_display": "31 Mar 2026",
           "due_date": "2026-04-30", "due_display": "30 Apr 2026", "currency": "EUR",
           "seller": {"name": "Nordlicht Software GmbH", "address": "Speicherstadt 7, 20457 Hamburg",
                      "vat_id": "DE298765432"},
           "buyer": {"name": "Fjord Analytics AS", "email": "invoices@fjord-analytics.no"},
           "lines": lines, "net": net, "tax": net * D("0.19"), "total": net * D("1.19")}
    out.append(("text-form-xobject", into_form_xobjects(layout_qty_first(inv)), issue_json(inv, "text")))

    # 5. LibreOffice-style compact CMaps, Swiss francs with apostrophes as thousands separators.
    lines = [{"description": "Consulting (days)", "quantity": D("3"), "unit_price": D("1450.00")},
             {"description": "Travel expenses", "quantity": D("1"), "unit_price": D("312.40")}]
    for l in lines:
        l["amount"] = l["quantity"] * l["unit_price"]
    net = sum(l["amount"] for l in lines)
    tax = (net * D("0.081")).quantize(D("0.01"))
    inv = {"number": "2026/0099", "issue_date": "2026-03-31", "due_date": "2026-04-30", "currency": "CHF",
           "seller": {"name": "Alpenblick Beratung \U0001F3D4 AG", "address": "Bahnhofstrasse 1, 8001 Zürich",
                      "vat_id": "CHE123456789", "vat_display": "CHE-123.456.789 MWST"},
           "buyer": {"name": "Lakeside Hotels SA", "address": "Quai du Mont-Blanc 5, 1201 Genève",
                     "email": "finance@lakeside-hotels.ch"},
           "lines": lines, "net": net, "tax": tax, "total": net + tax}
    out.append(("text-libreoffice-cmap", libreoffice_style(inv), issue_json(inv, "text")))

    # 6. French labels, every text operator, /Differences.
    lines = [{"description": "Café en grains, 1 kg", "quantity": D("24"), "unit_price": D("16.40")},
             {"description": "Détartrant", "quantity": D("6"), "unit_price": D("7.90")}]
    for l in lines:
        l["amount"] = l["quantity"] * l["unit_price"]
    net = sum(l["amount"] for l in lines)
    tax = (net * D("0.2")).quantize(D("0.01"))
    inv = {"number": "F-2026-0412", "issue_date": "2026-03-31", "issue_display": "31/03/2026",
           "due_date": "2026-04-30", "due_display": "30/04/2026", "currency": "EUR",
           "seller": {"name": "Torréfaction Étoile SAS", "address": "8 rue des Écoles, 69001 Lyon",
                      "vat_id": "FR83404833048", "vat_display": "FR 83 404833048"},
           "buyer": {"name": "Hôtel du Parc", "address": "2 avenue Foch, 06000 Nice", "email": "compta@hotelduparc.fr"},
           "lines": lines, "net": net, "tax": tax, "total": net + tax}
    out.append(("text-operators-fr", operators_doc(inv), issue_json(inv, "text")))
    return out


# --------------------------------------------------------------------------------------------------------------
# Held out: layouts written after the field finder, to measure it on documents it was not developed against
# --------------------------------------------------------------------------------------------------------------

def heldout_corpus():
    out = []
    # H1. Australian tax invoice: GST column, day-first slashed dates, AUD in the header of the amount column.
    lines = [{"description": "Business cards, 500 pcs", "quantity": D("4"), "unit_price": D("89.00")},
             {"description": "A2 posters, gloss", "quantity": D("25"), "unit_price": D("12.40")},
             {"description": "Design proof", "quantity": D("1"), "unit_price": D("150.00")}]
    for l in lines:
        l["amount"] = l["quantity"] * l["unit_price"]
    net = sum(l["amount"] for l in lines)
    tax = (net * D("0.1")).quantize(D("0.01"))
    pdf = new_pdf()
    pdf.set_font("Helvetica", "B", 20)
    pdf.text(20, 20, "TAX INVOICE")
    pdf.set_font("Helvetica", "B", 12)
    pdf.text(130, 20, "Koala Print Co Pty Ltd")
    pdf.set_font("Helvetica", "", 9)
    pdf.text(130, 25, "ABN 12 345 678 901")
    pdf.text(130, 30, "22 George St, Sydney NSW 2000")
    pdf.set_font("Helvetica", "", 10)
    pdf.text(20, 40, "Invoice Number")
    pdf.text(60, 40, "KP-20931")
    pdf.text(20, 46, "Invoice Date")
    pdf.text(60, 46, "02/04/2026")
    pdf.text(20, 52, "Due Date")
    pdf.text(60, 52, "16/04/2026")
    pdf.set_font("Helvetica", "B", 10)
    pdf.text(20, 66, "Bill To")
    pdf.set_font("Helvetica", "", 10)
    for i, t in enumerate(["Wombat Events Pty Ltd", "Level 3, 100 Pitt St", "Sydney NSW 2000",
                           "accounts@wombatevents.com.au"]):
        pdf.text(20, 72 + 5 * i, t)
    y = 105
    pdf.set_font("Helvetica", "B", 9)
    pdf.text(20, y, "Description")
    right(pdf, 120, y, "Quantity")
    right(pdf, 145, y, "Unit Price")
    right(pdf, 160, y, "GST")
    right(pdf, 190, y, "Amount AUD")
    pdf.set_font("Helvetica", "", 9)
    for l in lines:
        y += 6
        pdf.text(20, y, l["description"])
        right(pdf, 120, y, str(l["quantity"]))
        right(pdf, 145, y, fmt_en(l["unit_price"]))
        right(pdf, 160, y, "10%")
        right(pdf, 190, y, fmt_en(l["amount"]))
    y += 12
    for label, value in (("Subtotal", net), ("Total GST", tax), ("Amount Due AUD", net + tax)):
        pdf.text(130, y, label)
        right(pdf, 190, y, fmt_en(value))
        y += 6
    inv = {"number": "KP-20931", "issue_date": "2026-04-02", "due_date": "2026-04-16", "currency": "AUD",
           "seller": {"name": "Koala Print Co Pty Ltd"}, "buyer": {"name": "Wombat Events Pty Ltd",
                                                                   "email": "accounts@wombatevents.com.au"},
           "lines": lines, "net": net, "tax": tax, "total": net + tax}
    out.append(("heldout-au-gst", bytes(pdf.output()), issue_json(inv, "text")))

    # H2. A German craftsman's invoice: number in the title line, "Kunde:" with the buyer, net/VAT/gross labels.
    lines = [{"description": "Steckdose Unterputz", "quantity": D("6"), "unit_price": D("8.90")},
             {"description": "Arbeitszeit Elektriker", "quantity": D("3.5"), "unit_price": D("62.00")}]
    for l in lines:
        l["amount"] = l["quantity"] * l["unit_price"]
    net = sum(l["amount"] for l in lines)
    tax = (net * D("0.19")).quantize(D("0.01"))
    pdf = new_pdf(unicode_font=True)
    pdf.set_font("DejaVu", "B", 16)
    pdf.text(20, 20, "Elektro Kuhn e.K.")
    pdf.set_font("DejaVu", "", 9)
    pdf.text(20, 25, "Meisterbetrieb · Gartenweg 3 · 50667 Köln · Tel. 0221 123456")
    pdf.set_font("DejaVu", "B", 12)
    pdf.text(20, 45, "Rechnung Nr. 2026-0815")
    pdf.set_font("DejaVu", "", 10)
    pdf.text(20, 53, "Datum: 02.04.2026")
    pdf.text(20, 59, "Zahlbar bis: 16.04.2026")
    pdf.text(110, 53, "Kunde: Hausverwaltung Berg GmbH")
    pdf.text(110, 59, "E-Mail: rechnung@hv-berg.de")
    y = 80
    pdf.set_font("DejaVu", "B", 9)
    pdf.text(20, y, "Artikel")
    right(pdf, 130, y, "Anzahl")
    right(pdf, 160, y, "Preis")
    right(pdf, 190, y, "Summe")
    pdf.set_font("DejaVu", "", 9)
    for l in lines:
        y += 6
        pdf.text(20, y, l["description"])
        right(pdf, 130, y, fmt_de(l["quantity"]).rstrip("0").rstrip(","))
        right(pdf, 160, y, fmt_de(l["unit_price"]))
        right(pdf, 190, y, fmt_de(l["amount"]))
    y += 12
    for label, value in (("Summe netto", net), ("MwSt. 19 %", tax), ("Rechnungsbetrag EUR", net + tax)):
        pdf.text(120, y, label)
        right(pdf, 190, y, fmt_de(value))
        y += 6
    pdf.set_font("DejaVu", "", 7)
    pdf.text(20, 285, "Elektro Kuhn e.K. · USt-ID: DE 123456789 · Sparkasse KölnBonn IBAN DE12 3705 0198 0000 1234 56")
    inv = {"number": "2026-0815", "issue_date": "2026-04-02", "due_date": "2026-04-16", "currency": "EUR",
           "seller": {"name": "Elektro Kuhn e.K.", "vat_id": "DE123456789"},
           "buyer": {"name": "Hausverwaltung Berg GmbH", "email": "rechnung@hv-berg.de"},
           "lines": lines, "net": net, "tax": tax, "total": net + tax}
    out.append(("heldout-de-handwerk", bytes(pdf.output()), issue_json(inv, "text")))

    # H3. French: "N° :" alone, a month name, a reference column, "Net à payer".
    lines = [{"description": "Abonnement logiciel (mars)", "quantity": D("1"), "unit_price": D("49.00")},
             {"description": "Utilisateurs supplémentaires", "quantity": D("3"), "unit_price": D("9.00")}]
    for l in lines:
        l["amount"] = l["quantity"] * l["unit_price"]
    net = sum(l["amount"] for l in lines)
    tax = (net * D("0.2")).quantize(D("0.01"))
    pdf = new_pdf(unicode_font=True)
    pdf.set_font("DejaVu", "B", 14)
    pdf.text(20, 20, "Logiciels Mistral SAS")
    pdf.set_font("DejaVu", "", 9)
    pdf.text(20, 25, "12 cours Julien, 13006 Marseille")
    pdf.text(20, 30, "N° TVA intracommunautaire : FR12345678901")
    pdf.set_font("DejaVu", "B", 16)
    pdf.text(140, 20, "FACTURE")
    pdf.set_font("DejaVu", "", 10)
    pdf.text(140, 28, "N° : FA-0042")
    pdf.text(140, 34, "Date : 5 avril 2026")
    pdf.text(140, 40, "Échéance : 5 mai 2026")
    pdf.text(20, 50, "Client : Cabinet Roux & Associés")
    pdf.text(20, 56, "Courriel : compta@cabinet-roux.fr")
    y = 75
    pdf.set_font("DejaVu", "B", 9)
    pdf.text(20, y, "Réf.")
    pdf.text(40, y, "Désignation")
    right(pdf, 130, y, "Qté")
    right(pdf, 160, y, "P.U. HT")
    right(pdf, 190, y, "Total HT")
    pdf.set_font("DejaVu", "", 9)
    for i, l in enumerate(lines):
        y += 6
        pdf.text(20, y, f"AB-{i + 1}")
        pdf.text(40, y, l["description"])
        right(pdf, 130, y, str(l["quantity"]))
        right(pdf, 160, y, fmt_de(l["unit_price"]) + " €")
        right(pdf, 190, y, fmt_de(l["amount"]) + " €")
    y += 12
    for label, value in (("Total HT", net), ("TVA (20 %)", tax), ("Net à payer", net + tax)):
        pdf.text(120, y, label)
        right(pdf, 190, y, fmt_de(value) + " €")
        y += 6
    inv = {"number": "FA-0042", "issue_date": "2026-04-05", "due_date": "2026-05-05", "currency": "EUR",
           "seller": {"name": "Logiciels Mistral SAS", "vat_id": "FR12345678901"},
           "buyer": {"name": "Cabinet Roux & Associés", "email": "compta@cabinet-roux.fr"},
           "lines": lines, "net": net, "tax": tax, "total": net + tax}
    out.append(("heldout-fr-abonnement", bytes(pdf.output()), issue_json(inv, "text")))

    # H4. US invoice: "INVOICE #" in the title, ship-to and bill-to side by side, a shipping charge between the
    # subtotal and the tax (so the net is subtotal plus shipping), dollar signs.
    lines = [{"description": "Ergonomic chair", "quantity": D("2"), "unit_price": D("349.00")},
             {"description": "Standing desk frame", "quantity": D("1"), "unit_price": D("499.00")}]
    for l in lines:
        l["amount"] = l["quantity"] * l["unit_price"]
    subtotal = sum(l["amount"] for l in lines)
    shipping = D("45.00")
    net = subtotal + shipping
    tax = (net * D("0.0825")).quantize(D("0.01"))
    pdf = new_pdf()
    pdf.set_font("Helvetica", "B", 18)
    pdf.text(20, 20, "Lone Star Office Supply Inc.")
    pdf.set_font("Helvetica", "B", 14)
    right(pdf, 190, 20, "INVOICE #10234")
    pdf.set_font("Helvetica", "", 10)
    right(pdf, 190, 27, "Date: April 3, 2026")
    right(pdf, 190, 33, "Terms: Net 30")
    right(pdf, 190, 39, "Due: May 3, 2026")
    pdf.set_font("Helvetica", "B", 10)
    pdf.text(20, 50, "Ship To")
    pdf.text(110, 50, "Bill To")
    pdf.set_font("Helvetica", "", 10)
    for i, (a, b) in enumerate([("Warehouse 4", "Bluebonnet Dental LLC"), ("9 Industrial Blvd", "PO Box 1200"),
                                ("Austin, TX 78744", "Austin, TX 78701"), ("", "ap@bluebonnetdental.com")]):
        if a:
            pdf.text(20, 56 + 5 * i, a)
        pdf.text(110, 56 + 5 * i, b)
    y = 90
    pdf.set_font("Helvetica", "B", 9)
    right(pdf, 30, y, "Qty")
    pdf.text(38, y, "Description")
    right(pdf, 160, y, "Unit Price")
    right(pdf, 190, y, "Line Total")
    pdf.set_font("Helvetica", "", 10)
    for l in lines:
        y += 6
        right(pdf, 30, y, str(l["quantity"]))
        pdf.text(38, y, l["description"])
        right(pdf, 160, y, fmt_en(l["unit_price"], "$"))
        right(pdf, 190, y, fmt_en(l["amount"], "$"))
    y += 12
    for label, value in (("Subtotal", subtotal), ("Shipping", shipping), ("Sales Tax (8.25%)", tax),
                         ("Total", net + tax)):
        pdf.text(130, y, label)
        right(pdf, 190, y, fmt_en(value, "$"))
        y += 6
    inv = {"number": "10234", "issue_date": "2026-04-03", "due_date": "2026-05-03", "currency": "USD",
           "seller": {"name": "Lone Star Office Supply Inc."},
           "buyer": {"name": "Bluebonnet Dental LLC", "email": "ap@bluebonnetdental.com"},
           "lines": lines, "net": net, "tax": tax, "total": net + tax}
    out.append(("heldout-us-shipping", bytes(pdf.output()), issue_json(inv, "text")))
    return out


# --------------------------------------------------------------------------------------------------------------
# Damaged and hostile
# --------------------------------------------------------------------------------------------------------------

def simple_text_page(text_ops):
    return {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
           b"/Resources << /Font << /F1 5 0 R >> >> >>",
        4: stream(b"", text_ops),
        5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    }


SMALL_INVOICE_OPS = b"\n".join([
    b"BT /F1 14 Tf 56 790 Td (Kestrel Tools Ltd) Tj ET",
    b"BT /F1 10 Tf 56 760 Td (Invoice No: KT-7) Tj ET",
    b"BT /F1 10 Tf 56 746 Td (Invoice Date: 2026-03-31) Tj ET",
    b"BT /F1 10 Tf 56 720 Td (Bill To:) Tj ET",
    b"BT /F1 10 Tf 56 706 Td (Heron Supplies) Tj ET",
    b"BT /F1 10 Tf 56 680 Td (Description) Tj 250 0 Td (Qty) Tj 80 0 Td (Unit Price) Tj 100 0 Td (Amount) Tj ET",
    b"BT /F1 10 Tf 56 664 Td (Chisel set) Tj 250 0 Td (2) Tj 80 0 Td (40.00) Tj 100 0 Td (80.00) Tj ET",
    b"BT /F1 10 Tf 336 630 Td (Subtotal) Tj 150 0 Td (80.00) Tj ET",
    b"BT /F1 10 Tf 336 616 Td (VAT 20%) Tj 150 0 Td (16.00) Tj ET",
    b"BT /F1 10 Tf 336 602 Td (Total GBP) Tj 150 0 Td (96.00) Tj ET",
])
SMALL_INVOICE = {
    "number": "KT-7", "issue_date": "2026-03-31", "due_date": None, "currency": "GBP",
    "seller": {"name": "Kestrel Tools Ltd", "vat_id": None}, "buyer": {"name": "Heron Supplies", "email": None},
    "lines": [{"description": "Chisel set", "quantity": "2", "unit_price": "40.00", "amount": "80.00"}],
    "net": "80.00", "tax": "16.00", "total": "96.00", "source": "text",
}


def error(code, contains):
    return {"error": code, "reason_contains": contains}


def hostile_corpus(valid):
    out = []
    base = valid["text-en-classic"]
    fx = valid["facturx-en16931"]
    out.append(("damaged-truncated", fx[: len(fx) * 6 // 10], error("invalid_document", "truncated")))

    # Every xref offset 7 bytes off: readers rebuild the table by scanning, and the invoice is still there.
    start = base.rindex(b"startxref")
    xref = int(base[start + 9:].split()[0])
    table = base[xref:start]
    shifted = bytearray(table)
    import re
    shifted = re.sub(rb"(\d{10}) 00000 n", lambda m: b"%010d 00000 n" % (int(m.group(1)) + 7), table)
    repaired = base[:xref] + shifted + base[start:]
    exp = json.load(open(os.path.join(EXPECTED, "text-en-classic.json")))
    out.append(("repaired-xref-offsets", repaired, exp))

    out.append(("damaged-garbage", b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\nxref\n0 1\n0000000000 65535 f \n"
                b"trailer\n<< /Size 1 /Root 1 0 R >>\nstartxref\n9\n%%EOF\n", error("invalid_document", "damaged")))

    objects = simple_text_page(SMALL_INVOICE_OPS)
    objects[2] = b"2 0 R"  # the page tree's root is a reference to itself
    out.append(("hostile-self-reference", raw_pdf(objects), error("invalid_document", "pages")))

    objects = simple_text_page(SMALL_INVOICE_OPS)
    objects[2] = b"<< /Type /Pages /Kids [3 0 R 2 0 R 6 0 R] /Count 3 >>"  # itself, and a node whose kid is the root
    objects[6] = b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>"
    out.append(("hostile-pages-cycle", raw_pdf(objects), SMALL_INVOICE))

    objects = simple_text_page(b"q /Fx Do Q /Fa Do")
    objects[3] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font "
                  b"<< /F1 5 0 R >> /XObject << /Fx 6 0 R /Fa 7 0 R >> >> >>")
    # Fx draws the invoice and then itself; Fa and Fb draw each other.
    objects[6] = stream(b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> "
                        b"/XObject << /Fx 6 0 R >> >>", SMALL_INVOICE_OPS + b"\n/Fx Do")
    objects[7] = stream(b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /XObject << /Fb 8 0 R >> >>",
                        b"/Fb Do")
    objects[8] = stream(b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /XObject << /Fa 7 0 R >> >>",
                        b"/Fa Do")
    out.append(("hostile-xobject-recursion", raw_pdf(objects), SMALL_INVOICE))

    # 256 MiB of spaces, deflated twice: a few kilobytes that would decode to 256 MiB.
    first = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    inner = b"".join(first.compress(chunk) for _ in range(256)) + first.flush()
    bomb = zlib.compress(inner, 9)
    objects = simple_text_page(b"")
    objects[4] = b"<< /Length %d /Filter [/FlateDecode /FlateDecode] >>\nstream\n" % len(bomb) + bomb + \
        b"\nendstream"
    out.append(("hostile-flate-bomb", raw_pdf(objects), error("invalid_document", "MiB")))

    # The same bomb as an object stream that nothing refers to: a reader that parses objects on use never
    # inflates it (lopdf, loading everything, would).
    objects = simple_text_page(SMALL_INVOICE_OPS)
    objects[6] = b"<< /Type /ObjStm /N 1 /First 4 /Length %d /Filter [/FlateDecode /FlateDecode] >>\nstream\n" \
        % len(bomb) + bomb + b"\nendstream"
    out.append(("hostile-objstm-bomb-unused", raw_pdf(objects), SMALL_INVOICE))

    # The bomb as the object stream that holds the page's font, listed in a cross-reference stream.
    objects = simple_text_page(SMALL_INVOICE_OPS)
    del objects[5]
    objects[6] = b"<< /Type /ObjStm /N 1 /First 4 /Length %d /Filter [/FlateDecode /FlateDecode] >>\nstream\n" \
        % len(bomb) + bomb + b"\nendstream"
    out.append(("hostile-objstm-bomb", xref_stream_pdf(objects, compressed={5: (6, 0)}),
                error("invalid_document", "MiB")))

    # Three million operators in 30 kB.
    ops = zlib.compress(b"q Q " * 3_000_000, 9)
    objects = simple_text_page(b"")
    objects[4] = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(ops) + ops + b"\nendstream"
    out.append(("hostile-many-operators", raw_pdf(objects), error("invalid_document", "operations")))

    for name, user, exp in (("encrypted-user-password", "secret", error("invalid_document", "password")),
                            ("encrypted-owner-only", "", None)):
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(base)))
        writer.encrypt(user_password=user, owner_password="owner-secret", algorithm="AES-128")
        buffer = io.BytesIO()
        writer.write(buffer)
        out.append((name, buffer.getvalue(), exp or json.load(open(os.path.join(EXPECTED, "text-en-classic.json")))))

    out.append(("not-a-pdf", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, error("invalid_document", "not a PDF")))
    out.append(("empty", b"", error("invalid_document", "empty")))
    out.append(("no-text", drawing_only(), error("no_text", "no text")))
    out.append(("letter-not-an-invoice", letter(), error("not_an_invoice", "invoice number")))
    return out


def main():
    os.makedirs(EXPECTED, exist_ok=True)
    valid = {}
    for name, pdf, exp in structured_corpus() + text_corpus() + heldout_corpus():
        write(name, pdf, exp)
        valid[name] = pdf
    for name, pdf, exp in hostile_corpus(valid):
        write(name, pdf, exp)
    print(f"wrote {len(valid)} invoices and the damaged files to {HERE}")


if __name__ == "__main__":
    main()

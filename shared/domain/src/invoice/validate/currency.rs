//! The ISO 4217 alphabetic currency codes an invoice may be in (BT-5, rule BR-CL-04), compiled in so that
//! validation needs no network and gives the same answer everywhere.

/// ISO 4217 list one as published by its maintenance agency (SIX) in 2025, sorted. Two choices on top of the
/// published list: ANG (replaced by XCG in 2025) and BGN (replaced by EUR on 2026-01-01) stay, because invoices
/// issued before the change still arrive for months; XTS (reserved for testing) and XXX ("no currency") are left
/// out, because no amount owed is in either.
const ACTIVE: &str = "\
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD \
    CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL \
    GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD \
    KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO \
    NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD \
    SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV \
    WST XAD XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XUA YER ZAR ZMW ZWG";

/// Whether `code` is an active ISO 4217 code, exactly as written: codes are upper case, so `eur` is not one.
pub(super) fn is_active(code: &str) -> bool {
    ACTIVE.split_ascii_whitespace().any(|active| active == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_unique_three_letter_upper_case_codes() {
        let codes: Vec<&str> = ACTIVE.split_ascii_whitespace().collect();
        assert!(codes.len() > 170, "{}", codes.len());
        assert!(codes.windows(2).all(|pair| pair[0] < pair[1]), "sorted and unique");
        assert!(codes.iter().all(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())));
    }

    #[test]
    fn major_currencies_are_active_codes() {
        for code in ["EUR", "USD", "CHF", "JPY", "GBP", "SEK", "PLN", "CZK", "XCG", "ZWG"] {
            assert!(is_active(code), "{code}");
        }
    }

    #[test]
    fn names_lower_case_withdrawn_and_made_up_codes_are_not_active_codes() {
        // DEM, FRF, HRK and VEF were withdrawn; XTS and XXX are reserved, not currencies.
        for code in ["EURO", "eur", "Eur", "XYZ", "", "EU", " EUR", "EUR ", "DEM", "FRF", "HRK", "VEF", "XTS", "XXX"] {
            assert!(!is_active(code), "{code:?}");
        }
    }
}

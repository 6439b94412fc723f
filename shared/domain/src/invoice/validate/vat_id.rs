//! The forms of VAT identifiers (BT-31): a country prefix (BR-CO-09) followed by that country's pattern, as the
//! EU's VIES service documents them for the 27 member states (Greece as `EL`, Northern Ireland as `XI`), plus
//! the United Kingdom, Switzerland and Norway. This checks the form only: whether the number was ever issued is
//! a question for VIES, which a pure validator does not ask.

/// A country's VAT id form. In `patterns` (the part after the prefix), `#` is a digit, `@` a letter, `?` a
/// letter or digit, `%` a French key character (a digit or a letter other than I and O), `&` the second
/// character of an old Irish number (a letter, `+` or `*`); any other character stands for itself.
struct Form {
    prefix: &'static str,
    country: &'static str,
    patterns: &'static [&'static str],
    /// What the id should look like, for the rejection message.
    expected: &'static str,
}

const FORMS: &[Form] = &[
    Form { prefix: "AT", country: "Austria", patterns: &["U########"], expected: "ATU and 8 digits (ATU12345678)" },
    Form {
        prefix: "BE",
        country: "Belgium",
        patterns: &["0#########", "1#########"],
        expected: "BE and 10 digits starting with 0 or 1 (BE0123456789)",
    },
    Form {
        prefix: "BG",
        country: "Bulgaria",
        patterns: &["#########", "##########"],
        expected: "BG and 9 or 10 digits (BG123456789)",
    },
    Form {
        prefix: "CY",
        country: "Cyprus",
        patterns: &["########@"],
        expected: "CY, 8 digits and a letter (CY12345678L)",
    },
    Form {
        prefix: "CZ",
        country: "Czechia",
        patterns: &["########", "#########", "##########"],
        expected: "CZ and 8, 9 or 10 digits (CZ12345678)",
    },
    Form { prefix: "DE", country: "Germany", patterns: &["#########"], expected: "DE and 9 digits (DE123456789)" },
    Form { prefix: "DK", country: "Denmark", patterns: &["########"], expected: "DK and 8 digits (DK12345678)" },
    Form { prefix: "EE", country: "Estonia", patterns: &["#########"], expected: "EE and 9 digits (EE123456789)" },
    Form { prefix: "EL", country: "Greece", patterns: &["#########"], expected: "EL and 9 digits (EL123456789)" },
    Form {
        prefix: "ES",
        country: "Spain",
        // First and last may each be a letter or a digit, but not both digits.
        patterns: &["@#######?", "########@"],
        expected: "ES and 9 characters: a letter or digit, 7 digits, a letter or digit, not both ends digits \
                   (ESX1234567X)",
    },
    Form { prefix: "FI", country: "Finland", patterns: &["########"], expected: "FI and 8 digits (FI12345678)" },
    Form {
        prefix: "FR",
        country: "France",
        patterns: &["%%#########"],
        expected: "FR, 2 letters or digits (no I or O) and the 9-digit SIREN (FRXX123456789)",
    },
    Form { prefix: "HR", country: "Croatia", patterns: &["###########"], expected: "HR and 11 digits (HR12345678901)" },
    Form { prefix: "HU", country: "Hungary", patterns: &["########"], expected: "HU and 8 digits (HU12345678)" },
    Form {
        prefix: "IE",
        country: "Ireland",
        patterns: &["#######@", "#######@@", "#&#####@"],
        expected: "IE, 7 digits and 1 or 2 letters (IE1234567T, IE1234567TW), or the old form IE1S12345T",
    },
    Form { prefix: "IT", country: "Italy", patterns: &["###########"], expected: "IT and 11 digits (IT12345678901)" },
    Form {
        prefix: "LT",
        country: "Lithuania",
        patterns: &["#########", "############"],
        expected: "LT and 9 or 12 digits (LT123456789)",
    },
    Form { prefix: "LU", country: "Luxembourg", patterns: &["########"], expected: "LU and 8 digits (LU12345678)" },
    Form { prefix: "LV", country: "Latvia", patterns: &["###########"], expected: "LV and 11 digits (LV12345678901)" },
    Form { prefix: "MT", country: "Malta", patterns: &["########"], expected: "MT and 8 digits (MT12345678)" },
    Form {
        prefix: "NL",
        country: "the Netherlands",
        patterns: &["#########B##"],
        expected: "NL, 9 digits, B and 2 digits (NL123456789B01)",
    },
    Form { prefix: "PL", country: "Poland", patterns: &["##########"], expected: "PL and 10 digits (PL1234567890)" },
    Form { prefix: "PT", country: "Portugal", patterns: &["#########"], expected: "PT and 9 digits (PT123456789)" },
    Form {
        prefix: "RO",
        country: "Romania",
        patterns: &["##", "###", "####", "#####", "######", "#######", "########", "#########", "##########"],
        expected: "RO and 2 to 10 digits (RO1234567890)",
    },
    Form {
        prefix: "SE",
        country: "Sweden",
        patterns: &["##########01"],
        expected: "SE and 12 digits ending in 01 (SE123456789701)",
    },
    Form { prefix: "SI", country: "Slovenia", patterns: &["########"], expected: "SI and 8 digits (SI12345678)" },
    Form { prefix: "SK", country: "Slovakia", patterns: &["##########"], expected: "SK and 10 digits (SK1234567890)" },
    Form {
        prefix: "XI",
        country: "Northern Ireland",
        patterns: &["#########", "############", "GD###", "HA###"],
        expected: "XI and 9 or 12 digits (XI123456789), or XIGD/XIHA and 3 digits",
    },
    Form {
        prefix: "GB",
        country: "the United Kingdom",
        patterns: &["#########", "############", "GD###", "HA###"],
        expected: "GB and 9 or 12 digits (GB123456789), or GBGD/GBHA and 3 digits",
    },
    Form {
        prefix: "CH",
        country: "Switzerland",
        patterns: &["E#########", "E#########MWST", "E#########TVA", "E#########IVA", "E#########TPV"],
        expected: "CHE and 9 digits, optionally followed by MWST, TVA, IVA or TPV (CHE123456789MWST)",
    },
    Form {
        prefix: "NO",
        country: "Norway",
        patterns: &["#########", "#########MVA"],
        expected: "NO and 9 digits, optionally followed by MVA (NO123456789MVA)",
    },
];

/// `id` without the separators documents print inside VAT ids (spaces, dots, hyphens) and in upper case, so
/// `de 123.456.789` and `DE123456789` are the same id.
pub(super) fn compact(id: &str) -> String {
    id.chars().filter(|c| !c.is_whitespace() && !matches!(c, '.' | '-')).flat_map(char::to_uppercase).collect()
}

/// Checks the form of a VAT id (compacted first); the error says what is wrong and, for a known prefix, the form
/// expected.
pub(super) fn check(id: &str) -> Result<(), String> {
    let id = compact(id);
    let Some(prefix) = id.get(..2).filter(|p| p.bytes().all(|b| b.is_ascii_uppercase())) else {
        return Err(format!("{id:?} does not start with a two-letter country prefix (BR-CO-09)"));
    };
    if prefix == "GR" {
        return Err(format!("{id:?} starts with GR, but Greek VAT ids start with EL (EL123456789)"));
    }
    let Some(form) = FORMS.iter().find(|form| form.prefix == prefix) else {
        let known: Vec<&str> = FORMS.iter().map(|form| form.prefix).collect();
        return Err(format!(
            "{id:?} starts with {prefix}, which is not one of the prefixes known: {}",
            known.join(", ")
        ));
    };
    let rest = &id[2..];
    if form.patterns.iter().any(|pattern| matches(pattern, rest)) {
        Ok(())
    } else {
        Err(format!("{id:?} is not of the form of a VAT id from {}: {}", form.country, form.expected))
    }
}

fn matches(pattern: &str, text: &str) -> bool {
    pattern.len() == text.len()
        && pattern.bytes().zip(text.bytes()).all(|(p, t)| match p {
            b'#' => t.is_ascii_digit(),
            b'@' => t.is_ascii_uppercase(),
            b'?' => t.is_ascii_uppercase() || t.is_ascii_digit(),
            b'%' => (t.is_ascii_uppercase() && t != b'I' && t != b'O') || t.is_ascii_digit(),
            b'&' => t.is_ascii_uppercase() || t == b'+' || t == b'*',
            literal => t == literal,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_eu_member_state_and_the_other_prefixes_have_a_form() {
        let eu = [
            "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU", "IE", "IT", "LT", "LU",
            "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
        ];
        assert_eq!(eu.len(), 27);
        for prefix in eu.iter().chain(&["XI", "GB", "CH", "NO"]) {
            assert!(FORMS.iter().any(|form| form.prefix == *prefix), "{prefix}");
        }
    }

    #[test]
    fn ids_of_each_countrys_documented_form_are_accepted() {
        for id in [
            "ATU12345678",
            "BE0123456789",
            "BE1234567890",
            "BG123456789",
            "BG1234567890",
            "CY12345678L",
            "CZ12345678",
            "CZ123456789",
            "CZ1234567890",
            "DE123456789",
            "DK12345678",
            "EE123456789",
            "EL123456789",
            "ESX1234567X",
            "ESA12345678",
            "ES12345678Z",
            "FI12345678",
            "FRXX999999999",
            "FR12345678901",
            "FR4Z123456789",
            "HR12345678901",
            "HU12345678",
            "IE1234567T",
            "IE1234567TW",
            "IE1S12345T",
            "IE1+12345T",
            "IT12345678901",
            "LT123456789",
            "LT123456789012",
            "LU12345678",
            "LV12345678901",
            "MT12345678",
            "NL123456789B01",
            "PL1234567890",
            "PT123456789",
            "RO12",
            "RO1234567890",
            "SE123456789701",
            "SI12345678",
            "SK1234567890",
            "XI123456789",
            "XI123456789012",
            "GB123456789",
            "GBGD123",
            "GBHA123",
            "CHE123456789",
            "CHE123456789MWST",
            "CHE123456789TVA",
            "NO123456789",
            "NO123456789MVA",
        ] {
            assert_eq!(check(id), Ok(()), "{id}");
        }
    }

    #[test]
    fn separators_and_case_as_printed_do_not_matter() {
        for id in ["DE 123 456 789", "de123456789", "CHE-123.456.789 MWST", "NL 1234.56.789.B.01", "atu12345678"] {
            assert_eq!(check(id), Ok(()), "{id}");
        }
        assert_eq!(compact(" de 123.456-789 "), "DE123456789");
    }

    #[test]
    fn ids_off_their_countrys_form_are_rejected_naming_the_expected_form() {
        for (id, expected) in [
            ("DE12345678", "DE and 9 digits"),
            ("DE1234567890", "DE and 9 digits"),
            ("DE12345678X", "DE and 9 digits"),
            ("AT12345678", "ATU and 8 digits"),
            ("ATU1234567", "ATU and 8 digits"),
            ("BE2123456789", "starting with 0 or 1"),
            ("BE123456789", "starting with 0 or 1"),
            ("NL123456789B1", "NL, 9 digits, B and 2 digits"),
            ("NL123456789A01", "NL, 9 digits, B and 2 digits"),
            ("ES123456789", "not both ends digits"),
            ("ESX12345678X", "not both ends digits"),
            ("FRIO123456789", "no I or O"),
            ("FR1234567890", "SIREN"),
            ("IT1234567890", "IT and 11 digits"),
            ("EL12345678", "EL and 9 digits"),
            ("SE123456789702", "ending in 01"),
            ("RO1", "2 to 10 digits"),
            ("CHE12345678", "CHE and 9 digits"),
            ("CH123456789", "CHE and 9 digits"),
            ("NO123456789MWST", "NO and 9 digits"),
        ] {
            let err = check(id).expect_err(id);
            assert!(err.contains(expected), "{id}: {err}");
        }
    }

    #[test]
    fn greek_ids_must_use_el_not_gr() {
        let err = check("GR123456789").unwrap_err();
        assert!(err.contains("EL"), "{err}");
    }

    #[test]
    fn ids_without_a_known_country_prefix_are_rejected() {
        for id in ["123456789", "", "D", "1E123456789", "XX123456789", "US123456789", "ÄÖ123"] {
            assert!(check(id).is_err(), "{id}");
        }
        assert!(check("123456789").unwrap_err().contains("BR-CO-09"));
        assert!(check("US123456789").unwrap_err().contains("US"));
    }
}

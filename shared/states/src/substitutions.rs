//! `DefinitionSubstitutions`: replaces `${Name}` placeholders in a definition
//! string before it is loaded, as CloudFormation/SAM do.

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubstitutionError {
    #[error("the definition uses ${{{0}}} but no substitution named '{0}' was given")]
    Missing(String),
    #[error("unterminated placeholder starting at byte {0}")]
    Unterminated(usize),
}

/// Replaces every `${Name}` with `values[Name]`; a placeholder without a value
/// is an error rather than being left in the definition.
pub fn apply_substitutions(definition: &str, values: &HashMap<String, String>) -> Result<String, SubstitutionError> {
    let mut out = String::with_capacity(definition.len());
    let mut rest = definition;
    let mut offset = 0;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or(SubstitutionError::Unterminated(offset + start))?;
        let name = &after[..end];
        let v = values.get(name).ok_or_else(|| SubstitutionError::Missing(name.to_string()))?;
        out.push_str(v);
        let consumed = start + 2 + end + 1;
        offset += consumed;
        rest = &rest[consumed..];
    }
    out.push_str(rest);
    Ok(out)
}

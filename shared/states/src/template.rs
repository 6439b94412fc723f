//! Payload templates: `Parameters`, `ResultSelector`, `ItemSelector`,
//! `Assign`, `Arguments`, `Output`. Compiled once at load so that running a
//! state only walks the dynamic parts (`.$` keys, `{% %}` strings).

use crate::context::Env;
use crate::error::ErrorInfo;
use crate::intrinsics::{self, Call};
use crate::jsonata;
use crate::path::Path;
use serde_json::{Map, Value};

#[derive(Debug, Clone)]
pub enum Template {
    Literal(Value),
    Object(Vec<(String, Template)>),
    Array(Vec<Template>),
    /// A path; `field` names it in a cause (`"name.$"`, `ErrorPath`).
    Path {
        path: Path,
        field: String,
    },
    /// An intrinsic function call and its text as written.
    Call {
        call: Call,
        text: String,
    },
    /// A `{% %}` expression; `field` names it in a cause the way AWS does
    /// (`Output`, `Arguments/Input/key`, `Assign/x`, `Output/list[0]`).
    Jsonata {
        expr: String,
        field: String,
    },
}

/// The query language a template is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    JsonPath,
    Jsonata,
}

/// A compile problem: location relative to the template, and a message.
pub type TemplateProblem = (String, String);

impl Template {
    /// Compiles the value of the field named `field` (`Parameters`,
    /// `Output`, `Choices[0]/Output`, …).
    pub fn compile(v: &Value, lang: Lang, field: &str, problems: &mut Vec<TemplateProblem>) -> Template {
        compile_at(v, lang, "", field, problems)
    }

    /// The same template with the fields it names in causes put inside the
    /// choice rule or catcher `within` (`Output` becomes `Choices[0]/Output`).
    pub(crate) fn within(mut self, within: &str) -> Template {
        if within.is_empty() {
            return self;
        }
        let mut todo = vec![&mut self];
        while let Some(t) = todo.pop() {
            match t {
                Template::Object(fs) => todo.extend(fs.iter_mut().map(|(_, t)| t)),
                Template::Array(ts) => todo.extend(ts.iter_mut()),
                Template::Jsonata { field, .. } => *field = format!("{within}/{field}"),
                Template::Literal(_) | Template::Path { .. } | Template::Call { .. } => {}
            }
        }
        self
    }

    fn is_literal(&self) -> bool {
        matches!(self, Template::Literal(_))
    }

    /// Evaluates the template. `states` is the `$states` value for JSONata.
    pub fn eval(&self, env: &Env<'_>, states: Option<&Value>) -> Result<Value, ErrorInfo> {
        Ok(match self {
            Template::Literal(v) => v.clone(),
            Template::Object(fields) => {
                let mut m = Map::new();
                for (k, t) in fields {
                    m.insert(k.clone(), t.eval(env, states)?);
                }
                Value::Object(m)
            }
            Template::Array(items) => {
                Value::Array(items.iter().map(|t| t.eval(env, states)).collect::<Result<_, _>>()?)
            }
            Template::Path { path, field } => env.lookup(path).map_err(|m| m.for_field(field))?.into_owned(),
            Template::Call { call, text } => call.eval(env).map_err(|e| {
                // AWS names the whole expression as written, around the
                // innermost function's own error.
                ErrorInfo::intrinsic(format!("The function '{text}' had the following error: {}", e.cause))
            })?,
            Template::Jsonata { expr, field } => {
                let null = Value::Null;
                jsonata::eval(expr, field, states.unwrap_or(&null), env.vars)?
            }
        })
    }
}

fn compile_at(v: &Value, lang: Lang, loc: &str, field: &str, problems: &mut Vec<TemplateProblem>) -> Template {
    match v {
        Value::Object(m) => {
            let mut fields = Vec::with_capacity(m.len());
            for (k, x) in m {
                let here = format!("{loc}/{k}");
                if lang == Lang::JsonPath && k.ends_with(".$") {
                    let key = k[..k.len() - 2].to_string();
                    let Some(s) = x.as_str() else {
                        problems.push((
                            here,
                            format!("the value of '{k}' must be a string holding a path or intrinsic function"),
                        ));
                        continue;
                    };
                    // AWS names a path's field by its key alone ('name.$').
                    fields.push((key, compile_dynamic(s, &here, k, problems)));
                } else {
                    let shown = if field.is_empty() { k.clone() } else { format!("{field}/{k}") };
                    fields.push((k.clone(), compile_at(x, lang, &here, &shown, problems)));
                }
            }
            if fields.iter().all(|(_, t)| t.is_literal()) {
                Template::Literal(v.clone())
            } else {
                Template::Object(fields)
            }
        }
        Value::Array(a) => {
            let items: Vec<Template> = a
                .iter()
                .enumerate()
                .map(|(i, x)| compile_at(x, lang, &format!("{loc}/{i}"), &format!("{field}[{i}]"), problems))
                .collect();
            if items.iter().all(Template::is_literal) { Template::Literal(v.clone()) } else { Template::Array(items) }
        }
        Value::String(s) if lang == Lang::Jsonata => match jsonata::expression(s) {
            Some(expr) => {
                if let Err(e) = jsonata::check(expr) {
                    problems.push((loc.to_string(), format!("invalid JSONata expression: {e}")));
                }
                Template::Jsonata { expr: expr.to_string(), field: field.to_string() }
            }
            None => Template::Literal(v.clone()),
        },
        _ => Template::Literal(v.clone()),
    }
}

/// Compiles the string value of a `.$` key (or of `ErrorPath`/`CausePath`):
/// an intrinsic call or a path. `field` names it in a cause.
pub fn compile_dynamic(s: &str, loc: &str, field: &str, problems: &mut Vec<TemplateProblem>) -> Template {
    if intrinsics::looks_like_call(s) {
        match intrinsics::parse(s) {
            Ok(call) => Template::Call { call, text: s.to_string() },
            Err(e) => {
                problems.push((loc.to_string(), format!("invalid intrinsic function '{s}': {e}")));
                Template::Literal(Value::Null)
            }
        }
    } else {
        match Path::parse(s) {
            Ok(path) => Template::Path { path, field: field.to_string() },
            Err(e) => {
                problems.push((loc.to_string(), e.to_string()));
                Template::Literal(Value::Null)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(t: &Template, out: &mut Vec<String>) {
        match t {
            Template::Object(fs) => fs.iter().for_each(|(_, t)| fields(t, out)),
            Template::Array(ts) => ts.iter().for_each(|t| fields(t, out)),
            Template::Jsonata { field, .. } | Template::Path { field, .. } => out.push(field.clone()),
            Template::Literal(_) | Template::Call { .. } => {}
        }
    }

    #[test]
    fn expressions_are_named_by_their_place_in_the_field_as_aws_names_them() {
        let v = json!({"Input": {"pushLocation": "{% $x %}"}, "list": [1, "{% $y %}"], "k": "{% $z %}"});
        let mut problems = Vec::new();
        let mut out = Vec::new();
        fields(&Template::compile(&v, Lang::Jsonata, "Arguments", &mut problems), &mut out);
        out.sort();
        assert_eq!(out, ["Arguments/Input/pushLocation", "Arguments/k", "Arguments/list[1]"]);
        assert!(problems.is_empty());
    }

    #[test]
    fn expressions_in_a_choice_rule_or_catcher_are_named_inside_it() {
        let mut problems = Vec::new();
        let mut out = Vec::new();
        let t = Template::compile(&json!({"v": "{% $x %}"}), Lang::Jsonata, "Output", &mut problems);
        fields(&t.within("Catch[1]"), &mut out);
        assert_eq!(out, ["Catch[1]/Output/v"]);
    }

    #[test]
    fn a_path_is_named_by_its_key() {
        let mut problems = Vec::new();
        let mut out = Vec::new();
        fields(
            &Template::compile(&json!({"a": {"b.$": "$.x"}}), Lang::JsonPath, "Parameters", &mut problems),
            &mut out,
        );
        assert_eq!(out, ["b.$"]);
    }
}

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
    Path(Path),
    Call(Call),
    Jsonata(String),
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
    pub fn compile(v: &Value, lang: Lang, problems: &mut Vec<TemplateProblem>) -> Template {
        compile_at(v, lang, "", problems)
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
            Template::Path(p) => env.resolve(p)?.into_owned(),
            Template::Call(c) => c.eval(env)?,
            Template::Jsonata(expr) => {
                let null = Value::Null;
                jsonata::eval(expr, states.unwrap_or(&null), env.vars)?
            }
        })
    }
}

fn compile_at(v: &Value, lang: Lang, loc: &str, problems: &mut Vec<TemplateProblem>) -> Template {
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
                    fields.push((key, compile_dynamic(s, &here, problems)));
                } else {
                    fields.push((k.clone(), compile_at(x, lang, &here, problems)));
                }
            }
            if fields.iter().all(|(_, t)| t.is_literal()) {
                Template::Literal(v.clone())
            } else {
                Template::Object(fields)
            }
        }
        Value::Array(a) => {
            let items: Vec<Template> =
                a.iter().enumerate().map(|(i, x)| compile_at(x, lang, &format!("{loc}/{i}"), problems)).collect();
            if items.iter().all(Template::is_literal) { Template::Literal(v.clone()) } else { Template::Array(items) }
        }
        Value::String(s) if lang == Lang::Jsonata => match jsonata::expression(s) {
            Some(expr) => {
                if let Err(e) = jsonata::check(expr) {
                    problems.push((loc.to_string(), format!("invalid JSONata expression: {e}")));
                }
                Template::Jsonata(expr.to_string())
            }
            None => Template::Literal(v.clone()),
        },
        _ => Template::Literal(v.clone()),
    }
}

/// Compiles the string value of a `.$` key: an intrinsic call or a path.
pub fn compile_dynamic(s: &str, loc: &str, problems: &mut Vec<TemplateProblem>) -> Template {
    if intrinsics::looks_like_call(s) {
        match intrinsics::parse(s) {
            Ok(c) => Template::Call(c),
            Err(e) => {
                problems.push((loc.to_string(), format!("invalid intrinsic function '{s}': {e}")));
                Template::Literal(Value::Null)
            }
        }
    } else {
        match Path::parse(s) {
            Ok(p) => Template::Path(p),
            Err(e) => {
                problems.push((loc.to_string(), e.to_string()));
                Template::Literal(Value::Null)
            }
        }
    }
}

//! JSONata expressions (`{% … %}`) for states using `QueryLanguage: JSONata`,
//! evaluated with the `jsonata-rs` crate; `$states` and workflow variables are
//! bound as JSONata variables. `jsonata-rs` is incomplete and panics on some
//! constructs it does not implement (e.g. the `%` parent operator), so every
//! call into it is fenced with `catch_unwind` and a panic becomes an error.
//! To keep those expected panics from printing, a panic hook is chained in
//! once that stays silent while this thread is inside such a call.

use crate::context::Vars;
use crate::error::ErrorInfo;
use bumpalo::Bump;
use jsonata_rs::{JsonAta, Value as JValue};
use serde_json::{Map, Value};
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Once;

thread_local! {
    static FENCED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, turning a panic inside jsonata-rs into `None`.
fn fenced<T>(f: impl FnOnce() -> T) -> Option<T> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !FENCED.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let was = FENCED.with(|c| c.replace(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok();
    FENCED.with(|c| c.set(was));
    r
}

/// If `s` is a `{% … %}` expression, the expression text inside.
pub fn expression(s: &str) -> Option<&str> {
    let t = s.trim();
    t.strip_prefix("{%")?.strip_suffix("%}").map(str::trim)
}

/// Checks that an expression parses (used by validation).
pub fn check(expr: &str) -> Result<(), String> {
    fenced(|| {
        let arena = Bump::new();
        JsonAta::new(expr, &arena).map(|_| ()).map_err(|e| e.to_string())
    })
    .unwrap_or_else(|| Err("this JSONata construct is not supported by the interpreter".into()))
}

/// Evaluates `expr` with `$states` bound to `states` and each variable bound
/// by name. An undefined result is an error, as AWS reports for fields whose
/// expression yields nothing.
pub fn eval(expr: &str, states: &Value, vars: &Vars) -> Result<Value, ErrorInfo> {
    fenced(|| eval_inner(expr, states, vars)).unwrap_or_else(|| {
        Err(ErrorInfo::query(format!(
            "The JSONata expression '{expr}' uses a construct this interpreter does not support"
        )))
    })
}

fn eval_inner(expr: &str, states: &Value, vars: &Vars) -> Result<Value, ErrorInfo> {
    let arena = Bump::new();
    let ja = JsonAta::new(expr, &arena)
        .map_err(|e| ErrorInfo::query(format!("The JSONata expression '{expr}' could not be parsed: {e}")))?;
    let mut bindings: HashMap<&str, &Value> = HashMap::with_capacity(vars.len() + 1);
    for (k, v) in vars {
        bindings.insert(k.as_str(), v);
    }
    bindings.insert("states", states);
    let out = ja.evaluate(None, Some(&bindings)).map_err(|e| {
        ErrorInfo::query(format!("An error occurred while evaluating the JSONata expression '{expr}': {e}"))
    })?;
    if out.is_undefined() {
        return Err(ErrorInfo::query(format!("The JSONata expression '{expr}' returned nothing (undefined)")));
    }
    Ok(to_json(out))
}

fn to_json<'a>(v: &'a JValue<'a>) -> Value {
    match v {
        JValue::Undefined | JValue::Null => Value::Null,
        JValue::Bool(b) => Value::Bool(*b),
        JValue::Number(n) => number(*n),
        JValue::String(s) => Value::String(s.to_string()),
        JValue::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m.iter() {
                if !x.is_undefined() && !x.is_function() {
                    out.insert(k.to_string(), to_json(x));
                }
            }
            Value::Object(out)
        }
        _ if v.is_array() => {
            // JSONata collapses one-element sequences; keep what it returns.
            Value::Array(v.members().filter(|x| !x.is_undefined()).map(|x| to_json(x)).collect())
        }
        _ => Value::Null,
    }
}

fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

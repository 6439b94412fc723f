//! JSONata expressions (`{% … %}`) for states using `QueryLanguage: JSONata`,
//! evaluated with the `jsonata-rs` crate; `$states` and workflow variables are
//! bound as JSONata variables, and the functions Step Functions adds to
//! JSONata (`$partition`, `$range`, `$hash`, `$random` with a seed, `$uuid`,
//! `$parse`) are registered next to the standard library.
//!
//! # Bounding what one expression may cost
//!
//! An expression comes from a state machine definition, so it may be hostile:
//! `($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(5000))` recurses
//! through jsonata-rs's recursive evaluator until the thread's stack
//! overflows, and a stack overflow aborts the whole process (`catch_unwind`
//! cannot catch it). So every parse and evaluation here runs on a thread of
//! its own with a known stack of [`STACK_BYTES`], and is bounded three ways:
//!
//! - depth: jsonata-rs's `evaluate_timeboxed` counts nested evaluations and
//!   fails with U1001 past [`MAX_DEPTH`], which is chosen to fit well inside
//!   that stack (measured: well under a tenth of it at the limit in a debug
//!   build); the parser, whose recursion follows the text, only gets
//!   expressions whose nesting is under [`MAX_NESTING`] (see `precheck`);
//! - time: the same evaluator stops after [`TIME_LIMIT_MS`];
//! - memory: the arena jsonata-rs allocates its values in refuses to grow
//!   past [`ARENA_LIMIT_BYTES`] (bumpalo then panics, which is caught).
//!
//! Any of these fails the state with `States.QueryEvaluationError`, the name
//! AWS gives every JSONata evaluation failure. A dedicated thread costs tens
//! of microseconds per evaluation; running on the caller's stack instead
//! would tie the depth that is safe to whatever stack the embedder's runtime
//! happens to give its worker threads, which this crate cannot know.
//!
//! `jsonata-rs` is incomplete and panics on some constructs it does not
//! implement (e.g. the `%` parent operator), so every call into it is also
//! fenced with `catch_unwind` and a panic becomes an error. To keep those
//! expected panics from printing, a panic hook is chained in once that stays
//! silent while the thread is inside such a call.

use crate::context::Vars;
use crate::error::ErrorInfo;
use bumpalo::Bump;
use jsonata_rs::{ArrayFlags, Error as JError, FunctionContext, JsonAta, Value as JValue};
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};
use sha2::Digest;
use std::cell::Cell;
use std::sync::Once;

/// Stack of the thread an expression is parsed and evaluated on. Only the
/// pages actually touched are committed, so the reservation is cheap.
pub const STACK_BYTES: usize = 256 * 1024 * 1024;
/// Nested evaluations (jsonata-rs counts one per AST node visited on the
/// current path) before U1001. A recursive user function costs about five
/// per call, so this allows recursion around 2,000 deep.
pub const MAX_DEPTH: usize = 10_000;
/// Wall-clock budget of one evaluation.
pub const TIME_LIMIT_MS: usize = 5_000;
/// Memory budget of one evaluation's values.
pub const ARENA_LIMIT_BYTES: usize = 64 * 1024 * 1024;
/// Longest expression accepted: AWS's whole definition quota is 1 MiB.
pub const MAX_EXPRESSION_BYTES: usize = 1024 * 1024;
/// Bound on the parser's recursion, see [`precheck`].
pub const MAX_NESTING: usize = 5_000;

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

/// Runs `f` on a fresh thread with a [`STACK_BYTES`] stack, fenced; `None`
/// if it panicked or the thread could not be started.
fn on_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> Option<T> {
    std::thread::scope(|s| {
        let handle = std::thread::Builder::new()
            .name("jsonata".into())
            .stack_size(STACK_BYTES)
            .spawn_scoped(s, || fenced(f))
            .ok()?;
        handle.join().ok().flatten()
    })
}

/// If `s` is a `{% … %}` expression, the expression text inside. AWS only
/// treats a string as an expression when it starts with `{%` and ends with
/// `%}` exactly; with spaces around it is a plain string.
pub fn expression(s: &str) -> Option<&str> {
    s.strip_prefix("{%")?.strip_suffix("%}").map(str::trim)
}

/// Rejects text the parser could not get through safely. The parser
/// recurses once per bracket level and once per prefix or right-associative
/// operator (unary `-`, `? :`, `:=`), so a bound on those bounds its stack:
/// twice the deepest bracket nesting plus the count of those operators may
/// not pass [`MAX_NESTING`] (in a debug build a level of recursion costs up
/// to ~16 KiB of stack, so the bound keeps the parser under a third of
/// [`STACK_BYTES`]; real expressions stay far below it).
fn precheck(expr: &str) -> Result<(), String> {
    if expr.len() > MAX_EXPRESSION_BYTES {
        return Err(format!("the expression is longer than {MAX_EXPRESSION_BYTES} bytes"));
    }
    let (mut depth, mut deepest, mut operators) = (0usize, 0usize, 0usize);
    let (mut quote, mut escaped) = (None, false);
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                _ if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => quote = Some(c),
            '(' | '[' | '{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            '-' | '?' => operators += 1,
            ':' if chars.peek() == Some(&'=') => operators += 1,
            _ => {}
        }
        if 2 * deepest + operators > MAX_NESTING {
            return Err(format!(
                "the expression nests too deep (brackets and '-', '?', ':=' operators above {MAX_NESTING} levels)"
            ));
        }
    }
    Ok(())
}

/// Checks that an expression parses (used by validation).
pub fn check(expr: &str) -> Result<(), String> {
    precheck(expr)?;
    let expr = rename_step_functions_functions(expr);
    on_big_stack(|| {
        let arena = Bump::new();
        JsonAta::new(&expr, &arena).map(|_| ()).map_err(|e| e.to_string())
    })
    .unwrap_or_else(|| Err("this JSONata construct is not supported by the interpreter".into()))
}

/// Evaluates `expr`, written in the field named `field` (`Output`,
/// `Arguments/Payload/key`, `Items`, `Seconds`, …), with `$states` bound to
/// `states` and each variable bound by name. An undefined result is an
/// error, as AWS reports for fields whose expression yields nothing.
pub fn eval(expr: &str, field: &str, states: &Value, vars: &Vars) -> Result<Value, ErrorInfo> {
    precheck(expr).map_err(|why| ErrorInfo::query(format!("The JSONata expression '{expr}' is rejected: {why}")))?;
    let renamed = rename_step_functions_functions(expr);
    on_big_stack(|| eval_inner(expr, &renamed, field, states, vars)).unwrap_or_else(|| {
        Err(ErrorInfo::query(format!(
            "The JSONata expression '{expr}' uses a construct this interpreter does not support or exceeded the \
             memory limit of {ARENA_LIMIT_BYTES} bytes"
        )))
    })
}

fn eval_inner(original: &str, expr: &str, field: &str, states: &Value, vars: &Vars) -> Result<Value, ErrorInfo> {
    let arena = Bump::new();
    let ja = JsonAta::new(expr, &arena)
        .map_err(|e| ErrorInfo::query(format!("The JSONata expression '{original}' could not be parsed: {e}")))?;
    for (k, v) in vars {
        ja.assign_var(k, from_json(&arena, v));
    }
    ja.assign_var("states", from_json(&arena, states));
    register_step_functions_functions(&ja);
    // Set after the inputs are copied in: the limit is on what evaluating
    // the expression allocates, and inputs are bounded by the payload quota.
    arena.set_allocation_limit(Some(arena.allocated_bytes() + ARENA_LIMIT_BYTES));
    let out = ja.evaluate_timeboxed(None, Some(MAX_DEPTH), Some(TIME_LIMIT_MS)).map_err(|e| {
        ErrorInfo::query(format!("An error occurred while evaluating the JSONata expression '{original}': {e}"))
    })?;
    if out.is_undefined() {
        // AWS's wording, as in a real execution's cause: "The JSONata
        // expression '$states.input.pushLocation' specified for the field
        // 'Arguments/Input/pushLocation' returned nothing (undefined)."
        return Err(ErrorInfo::query(format!(
            "The JSONata expression '{original}' specified for the field '{field}' returned nothing (undefined)."
        )));
    }
    let out = to_json(out);
    // A recursive function can build a value nested as deep as the depth
    // limit allows; the engine's serialising, cloning and dropping recurse
    // per level on the caller's (small) stack, so it must not get one.
    if crate::engine::nested_deeper_than(&out, crate::engine::MAX_PAYLOAD_NESTING) {
        return Err(ErrorInfo::query(format!(
            "The JSONata expression '{original}' returned a value nested more than {} levels deep",
            crate::engine::MAX_PAYLOAD_NESTING
        )));
    }
    Ok(out)
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

fn from_json<'a>(arena: &'a Bump, v: &Value) -> &'a JValue<'a> {
    match v {
        Value::Null => JValue::null(arena),
        Value::Bool(b) => JValue::bool(*b),
        Value::Number(n) => JValue::number(arena, n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => JValue::string(arena, s),
        Value::Array(a) => {
            let out = JValue::array_with_capacity(arena, a.len(), ArrayFlags::empty());
            for x in a {
                out.push(from_json(arena, x));
            }
            out
        }
        Value::Object(o) => {
            let out = JValue::object_with_capacity(arena, o.len());
            for (k, x) in o {
                out.insert(k, from_json(arena, x));
            }
            out
        }
    }
}

fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

// ---------------------------------------------------------------------------
// The functions Step Functions adds to JSONata (developer guide, "Transforming
// data with JSONata in Step Functions", section "JSONata functions provided
// by Step Functions").

/// jsonata-rs binds its own `$random` (no seed) after anything registered,
/// so Step Functions' `$random([seed])` is registered under another name and
/// calls to it are renamed outside string literals.
const RANDOM: &str = "sfnRandom__";

fn rename_step_functions_functions(expr: &str) -> String {
    if !expr.contains("$random") {
        return expr.to_string();
    }
    let mut out = String::with_capacity(expr.len() + 16);
    let (mut quote, mut escaped) = (None, false);
    let mut rest = expr;
    while let Some(c) = rest.chars().next() {
        if let Some(q) = quote {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                _ if c == q => quote = None,
                _ => {}
            }
        } else if c == '\'' || c == '"' || c == '`' {
            quote = Some(c);
        } else if let Some(after) = rest.strip_prefix("$random")
            && !after.starts_with(|c: char| c.is_alphanumeric() || c == '_')
        {
            out.push('$');
            out.push_str(RANDOM);
            rest = after;
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn register_step_functions_functions<'a>(ja: &JsonAta<'a>) {
    ja.register_function("partition", 2, fn_partition);
    ja.register_function("range", 3, fn_range);
    ja.register_function("hash", 2, fn_hash);
    ja.register_function(RANDOM, 1, fn_random);
    ja.register_function("parse", 1, fn_parse);
}

type JResult<'a> = Result<&'a JValue<'a>, JError>;

/// An argument error in jsonata's own wording (T0410), which AWS reports
/// for a call that does not match a function's signature.
fn bad_arg<'a>(ctx: &FunctionContext<'a, '_>, index: usize, name: &str) -> JResult<'a> {
    Err(JError::T0410ArgumentNotValid(ctx.char_index, index, name.to_string()))
}

fn integer(v: &JValue<'_>) -> Option<i64> {
    let f = v.is_number().then(|| v.as_f64())?;
    (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
}

/// `$partition(array, size)`: the array cut into chunks of `size`.
fn fn_partition<'a>(ctx: FunctionContext<'a, '_>, args: &[&'a JValue<'a>]) -> JResult<'a> {
    let (Some(arr), Some(size)) = (args.first(), args.get(1)) else { return bad_arg(&ctx, 1, "partition") };
    if args.len() > 2 {
        return bad_arg(&ctx, 3, "partition");
    }
    if !arr.is_array() {
        return bad_arg(&ctx, 1, "partition");
    }
    let Some(n) = integer(size).filter(|n| *n > 0) else { return bad_arg(&ctx, 2, "partition") };
    let items: Vec<&'a JValue<'a>> = arr.members().collect();
    let out = JValue::array_with_capacity(ctx.arena, items.len().div_ceil(n as usize), ArrayFlags::empty());
    for chunk in items.chunks(n as usize) {
        let part = JValue::array_with_capacity(ctx.arena, chunk.len(), ArrayFlags::empty());
        for x in chunk {
            part.push(x);
        }
        out.push(part);
    }
    Ok(out)
}

/// The most elements `$range` produces, as for `States.ArrayRange`.
const MAX_RANGE: usize = 1000;

/// `$range(start, end, step)`: integers from start to end inclusive.
fn fn_range<'a>(ctx: FunctionContext<'a, '_>, args: &[&'a JValue<'a>]) -> JResult<'a> {
    if args.len() != 3 {
        return bad_arg(&ctx, args.len().min(3), "range");
    }
    let Some(start) = integer(args[0]) else { return bad_arg(&ctx, 1, "range") };
    let Some(end) = integer(args[1]) else { return bad_arg(&ctx, 2, "range") };
    let Some(step) = integer(args[2]).filter(|s| *s != 0) else { return bad_arg(&ctx, 3, "range") };
    let out = JValue::array(ctx.arena, ArrayFlags::empty());
    let (mut x, mut count) = (start, 0usize);
    while (step > 0 && x <= end) || (step < 0 && x >= end) {
        count += 1;
        if count > MAX_RANGE {
            return Err(JError::D3137Error(format!("The $range function may produce at most {MAX_RANGE} elements")));
        }
        out.push(JValue::number(ctx.arena, x as f64));
        match x.checked_add(step) {
            Some(n) => x = n,
            None => break,
        }
    }
    Ok(out)
}

/// `$hash(data, algorithm)`: the hex digest of a string.
fn fn_hash<'a>(ctx: FunctionContext<'a, '_>, args: &[&'a JValue<'a>]) -> JResult<'a> {
    let (Some(data), Some(alg)) = (args.first(), args.get(1)) else { return bad_arg(&ctx, 1, "hash") };
    if !data.is_string() {
        return bad_arg(&ctx, 1, "hash");
    }
    if !alg.is_string() {
        return bad_arg(&ctx, 2, "hash");
    }
    let bytes = data.as_str();
    let bytes = bytes.as_bytes();
    let digest: Vec<u8> = match &*alg.as_str() {
        "MD5" => md5::Md5::digest(bytes).to_vec(),
        "SHA-1" => sha1::Sha1::digest(bytes).to_vec(),
        "SHA-256" => sha2::Sha256::digest(bytes).to_vec(),
        "SHA-384" => sha2::Sha384::digest(bytes).to_vec(),
        "SHA-512" => sha2::Sha512::digest(bytes).to_vec(),
        other => {
            return Err(JError::D3137Error(format!(
                "The algorithm '{other}' is not supported by $hash; use MD5, SHA-1, SHA-256, SHA-384 or SHA-512"
            )));
        }
    };
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok(JValue::string(ctx.arena, &hex))
}

/// `$random([seed])`: a number in [0, 1), the same for the same seed.
fn fn_random<'a>(ctx: FunctionContext<'a, '_>, args: &[&'a JValue<'a>]) -> JResult<'a> {
    let n: f64 = match args {
        [] => rand::rng().random(),
        [seed] => match integer(seed) {
            Some(s) => rand::rngs::StdRng::seed_from_u64(s as u64).random(),
            None => return bad_arg(&ctx, 1, "random"),
        },
        _ => return bad_arg(&ctx, 2, "random"),
    };
    Ok(JValue::number(ctx.arena, n))
}

/// `$parse(text)`: a JSON string deserialised.
fn fn_parse<'a>(ctx: FunctionContext<'a, '_>, args: &[&'a JValue<'a>]) -> JResult<'a> {
    let [text] = args else { return bad_arg(&ctx, 1, "parse") };
    if !text.is_string() {
        return bad_arg(&ctx, 1, "parse");
    }
    let v: Value = serde_json::from_str(&text.as_str())
        .map_err(|e| JError::D3137Error(format!("The $parse function was given a string that is not JSON: {e}")))?;
    Ok(from_json(ctx.arena, &v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_is_renamed_outside_string_literals_only() {
        assert_eq!(
            rename_step_functions_functions("$random(1) & '$random(2)' & $randomX"),
            format!("${RANDOM}(1) & '$random(2)' & $randomX")
        );
    }

    #[test]
    fn brackets_nested_too_deep_are_rejected_before_parsing() {
        let deep = format!("{}1{}", "(".repeat(MAX_NESTING / 2 + 1), ")".repeat(MAX_NESTING / 2 + 1));
        assert!(precheck(&deep).is_err());
        assert!(precheck(&format!("{}1", "-".repeat(MAX_NESTING + 1))).is_err());
        assert!(precheck("'((((((' & 1").is_ok());
    }
}

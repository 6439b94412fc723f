//! Intrinsic functions (`States.Format(…)`, `States.Array(…)`, …) for
//! JSONPath states: a small hand-written parser (no crate parses ASL's
//! intrinsic syntax) and the evaluator, failing with States.IntrinsicFailure.

use crate::context::Env;
use crate::error::ErrorInfo;
use crate::path::Path;
use base64::Engine as _;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Number, Value};
use sha2::Digest;

/// A parsed intrinsic call.
#[derive(Debug, Clone)]
pub struct Call {
    pub func: Func,
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone)]
pub enum Arg {
    Literal(Value),
    Path(Path),
    Call(Box<Call>),
}

macro_rules! funcs {
    ($($v:ident = $n:literal, $min:expr, $max:expr;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Func { $($v),* }
        impl Func {
            fn from_name(n: &str) -> Option<Func> { match n { $($n => Some(Func::$v),)* _ => None } }
            pub fn name(self) -> &'static str { match self { $(Func::$v => $n),* } }
            fn arity(self) -> (usize, usize) { match self { $(Func::$v => ($min, $max)),* } }
        }
    };
}

funcs! {
    Format = "States.Format", 1, usize::MAX;
    StringToJson = "States.StringToJson", 1, 1;
    JsonToString = "States.JsonToString", 1, 1;
    Array = "States.Array", 0, usize::MAX;
    ArrayPartition = "States.ArrayPartition", 2, 2;
    ArrayContains = "States.ArrayContains", 2, 2;
    ArrayRange = "States.ArrayRange", 3, 3;
    ArrayGetItem = "States.ArrayGetItem", 2, 2;
    ArrayLength = "States.ArrayLength", 1, 1;
    ArrayUnique = "States.ArrayUnique", 1, 1;
    Base64Encode = "States.Base64Encode", 1, 1;
    Base64Decode = "States.Base64Decode", 1, 1;
    Hash = "States.Hash", 2, 2;
    JsonMerge = "States.JsonMerge", 3, 3;
    MathRandom = "States.MathRandom", 2, 3;
    MathAdd = "States.MathAdd", 2, 2;
    StringSplit = "States.StringSplit", 2, 2;
    Uuid = "States.UUID", 0, 0;
}

/// Whether a `.$` value is an intrinsic call rather than a path.
pub fn looks_like_call(s: &str) -> bool {
    s.trim_start().starts_with("States.")
}

/// Parses an intrinsic function call expression.
pub fn parse(text: &str) -> Result<Call, String> {
    let mut p = Parser { s: text, i: 0, depth: 0 };
    p.ws();
    let call = p.call()?;
    p.ws();
    if p.i != text.len() {
        return Err(format!("unexpected text after the call at offset {}: '{}'", p.i, &text[p.i..]));
    }
    Ok(call)
}

struct Parser<'s> {
    s: &'s str,
    i: usize,
    depth: usize,
}

impl<'s> Parser<'s> {
    fn peek(&self) -> Option<char> {
        self.s[self.i..].chars().next()
    }
    fn ws(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.i += c.len_utf8();
            } else {
                break;
            }
        }
    }
    fn call(&mut self) -> Result<Call, String> {
        self.depth += 1;
        if self.depth > 10 {
            return Err("intrinsic functions may be nested at most 10 deep".into());
        }
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == '.' {
                self.i += 1;
            } else {
                break;
            }
        }
        let name = &self.s[start..self.i];
        let func = Func::from_name(name).ok_or_else(|| format!("unknown intrinsic function '{name}'"))?;
        self.ws();
        if self.peek() != Some('(') {
            return Err(format!("expected '(' after {name}"));
        }
        self.i += 1;
        let mut args = Vec::new();
        self.ws();
        if self.peek() == Some(')') {
            self.i += 1;
        } else {
            loop {
                self.ws();
                args.push(self.arg()?);
                self.ws();
                match self.peek() {
                    Some(',') => self.i += 1,
                    Some(')') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(format!("expected ',' or ')' in the arguments of {name}")),
                }
            }
        }
        let (min, max) = func.arity();
        if args.len() < min || args.len() > max {
            let want = if min == max {
                format!("{min}")
            } else if max == usize::MAX {
                format!("at least {min}")
            } else {
                format!("{min} to {max}")
            };
            return Err(format!("{name} takes {want} argument(s), got {}", args.len()));
        }
        self.depth -= 1;
        Ok(Call { func, args })
    }
    fn arg(&mut self) -> Result<Arg, String> {
        match self.peek() {
            Some('\'') => self.string().map(|s| Arg::Literal(Value::String(s))),
            Some('$') => self.path(),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(),
            Some('S') => Ok(Arg::Call(Box::new(self.call()?))),
            Some(_) => {
                for (word, v) in [("true", Value::Bool(true)), ("false", Value::Bool(false)), ("null", Value::Null)] {
                    if self.s[self.i..].starts_with(word) {
                        self.i += word.len();
                        return Ok(Arg::Literal(v));
                    }
                }
                Err(format!("unexpected argument at offset {}", self.i))
            }
            None => Err("unexpected end of the intrinsic call".into()),
        }
    }
    fn string(&mut self) -> Result<String, String> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let c = self.peek().ok_or("unterminated string literal")?;
            self.i += c.len_utf8();
            match c {
                '\\' => {
                    let n = self.peek().ok_or("unterminated string literal")?;
                    self.i += n.len_utf8();
                    // `\{` and `\}` stay escaped so that Format can tell a
                    // literal brace from a placeholder.
                    if n == '{' || n == '}' {
                        out.push('\\');
                    }
                    out.push(n);
                }
                '\'' => return Ok(out),
                c => out.push(c),
            }
        }
    }
    fn number(&mut self) -> Result<Arg, String> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E') {
                self.i += 1;
            } else {
                break;
            }
        }
        let t = &self.s[start..self.i];
        let v: Value = serde_json::from_str(t).map_err(|_| format!("invalid number '{t}'"))?;
        Ok(Arg::Literal(v))
    }
    fn path(&mut self) -> Result<Arg, String> {
        // A path ends at a top-level ',' or ')'; brackets and quotes inside
        // filters may contain either.
        let start = self.i;
        let mut depth = 0i32;
        let mut quote: Option<char> = None;
        while let Some(c) = self.peek() {
            if let Some(q) = quote {
                if c == '\\' {
                    // Skip the backslash and the whole escaped character.
                    self.i += 1;
                    if let Some(n) = self.peek() {
                        self.i += n.len_utf8();
                    }
                    continue;
                } else if c == q {
                    quote = None;
                }
            } else {
                match c {
                    '\'' | '"' => quote = Some(c),
                    '[' | '(' => depth += 1,
                    ']' => depth -= 1,
                    ')' if depth == 0 => break,
                    ')' => depth -= 1,
                    ',' if depth == 0 => break,
                    c if c.is_whitespace() && depth == 0 => break,
                    _ => {}
                }
            }
            self.i += c.len_utf8();
        }
        let t = &self.s[start..self.i];
        Path::parse(t).map(Arg::Path).map_err(|e| e.to_string())
    }
}

fn fail<T>(func: Func, why: impl std::fmt::Display) -> Result<T, ErrorInfo> {
    Err(ErrorInfo::intrinsic(format!("Invalid arguments in {}: {why}", func.name())))
}

fn int_arg(func: Func, v: &Value, what: &str) -> Result<i64, ErrorInfo> {
    match v.as_i64() {
        Some(n) => Ok(n),
        None => match v.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
            _ => fail(func, format!("{what} must be an integer, got {v}")),
        },
    }
}

/// A number for `States.MathAdd` and `States.MathRandom`, which take any
/// number and round it to an integer. AWS documents only "rounds it off to
/// the nearest integer"; halves go up, as Java's `Math.round` does
/// (`floor(x + 0.5)`): LocalStack's AWS-recorded snapshots of MathAdd
/// (tests/aws/services/stepfunctions/v2/intrinsic_functions/
/// test_math_operations.snapshot.json) give 1.49 + 1.5 = 3,
/// -1.49 + -1.5 = -2 and -1.5 + -1.51 = -3.
fn rounded_int_arg(func: Func, v: &Value, what: &str) -> Result<i64, ErrorInfo> {
    if let Some(n) = v.as_i64() {
        return Ok(n);
    }
    match v.as_f64() {
        Some(f) if f.is_finite() && f.abs() < 9.0e15 => {
            let floor = f.floor();
            // `f - floor` is exact here, unlike `f + 0.5`, which rounds
            // 0.49999999999999994 up.
            Ok(if f - floor >= 0.5 { floor as i64 + 1 } else { floor as i64 })
        }
        _ => fail(func, format!("{what} must be a number, got {v}")),
    }
}

fn str_arg<'v>(func: Func, v: &'v Value, what: &str) -> Result<&'v str, ErrorInfo> {
    v.as_str().map_or_else(|| fail(func, format!("{what} must be a string, got {v}")), Ok)
}

fn arr_arg<'v>(func: Func, v: &'v Value, what: &str) -> Result<&'v Vec<Value>, ErrorInfo> {
    v.as_array().map_or_else(|| fail(func, format!("{what} must be an array, got {v}")), Ok)
}

const MAX_STRING: usize = 10_000;

impl Call {
    pub fn eval(&self, env: &Env<'_>) -> Result<Value, ErrorInfo> {
        let mut a = Vec::with_capacity(self.args.len());
        for arg in &self.args {
            a.push(match arg {
                Arg::Literal(v) => v.clone(),
                Arg::Path(p) => env.lookup(p).map_err(|m| ErrorInfo::intrinsic(m.argument()))?.into_owned(),
                Arg::Call(c) => c.eval(env)?,
            });
        }
        let f = self.func;
        // Parsing checks arity; this guards calls built by hand.
        let (min, max) = f.arity();
        if a.len() < min || a.len() > max {
            return fail(f, format!("wrong number of arguments ({})", a.len()));
        }
        Ok(match f {
            Func::Format => {
                let tmpl = str_arg(f, &a[0], "the template")?;
                format(f, tmpl, &a[1..])?
            }
            Func::StringToJson => {
                let s = str_arg(f, &a[0], "the argument")?;
                // AWS returns null for an empty or blank string rather than
                // failing (LocalStack's AWS-validated test_string_to_json
                // records it for "" and " ").
                if s.trim().is_empty() {
                    Value::Null
                } else {
                    serde_json::from_str(s).or_else(|e| fail(f, format!("not valid JSON: {e}")))?
                }
            }
            Func::JsonToString => Value::String(a[0].to_string()),
            Func::Array => Value::Array(a),
            Func::ArrayPartition => {
                let arr = arr_arg(f, &a[0], "the first argument")?;
                let n = int_arg(f, &a[1], "the chunk size")?;
                if n <= 0 {
                    return fail(f, "the chunk size must be a positive integer");
                }
                Value::Array(arr.chunks(n as usize).map(|c| Value::Array(c.to_vec())).collect())
            }
            Func::ArrayContains => {
                let arr = arr_arg(f, &a[0], "the first argument")?;
                Value::Bool(arr.iter().any(|x| json_eq(x, &a[1])))
            }
            Func::ArrayRange => {
                let (s, e, step) = (int_arg(f, &a[0], "start")?, int_arg(f, &a[1], "end")?, int_arg(f, &a[2], "step")?);
                if step == 0 {
                    return fail(f, "the step must not be 0");
                }
                let mut out = Vec::new();
                let mut x = s;
                while (step > 0 && x <= e) || (step < 0 && x >= e) {
                    if out.len() >= 1000 {
                        return fail(f, "the range may hold at most 1000 elements");
                    }
                    out.push(Value::from(x));
                    match x.checked_add(step) {
                        Some(n) => x = n,
                        None => break,
                    }
                }
                Value::Array(out)
            }
            Func::ArrayGetItem => {
                let arr = arr_arg(f, &a[0], "the first argument")?;
                let i = int_arg(f, &a[1], "the index")?;
                match usize::try_from(i).ok().and_then(|i| arr.get(i)) {
                    Some(v) => v.clone(),
                    None => return fail(f, format!("index {i} is out of bounds for an array of length {}", arr.len())),
                }
            }
            Func::ArrayLength => Value::from(arr_arg(f, &a[0], "the argument")?.len()),
            Func::ArrayUnique => {
                let arr = arr_arg(f, &a[0], "the argument")?;
                let mut out: Vec<Value> = Vec::new();
                for x in arr {
                    if !out.iter().any(|y| json_eq(x, y)) {
                        out.push(x.clone());
                    }
                }
                Value::Array(out)
            }
            Func::Base64Encode => {
                let s = str_arg(f, &a[0], "the argument")?;
                if s.chars().count() > MAX_STRING {
                    return fail(f, "the input may hold at most 10000 characters");
                }
                Value::String(base64::engine::general_purpose::STANDARD.encode(s))
            }
            Func::Base64Decode => {
                let s = str_arg(f, &a[0], "the argument")?;
                if s.chars().count() > MAX_STRING {
                    return fail(f, "the input may hold at most 10000 characters");
                }
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .or_else(|e| fail(f, format!("not valid base64: {e}")))?;
                Value::String(String::from_utf8(bytes).or_else(|_| fail(f, "the decoded data is not UTF-8"))?)
            }
            Func::Hash => {
                let data = str_arg(f, &a[0], "the data")?;
                if data.chars().count() > MAX_STRING {
                    return fail(f, "the data may hold at most 10000 characters");
                }
                let alg = str_arg(f, &a[1], "the algorithm")?;
                let bytes = data.as_bytes();
                let digest: Vec<u8> = match alg {
                    "MD5" => md5::Md5::digest(bytes).to_vec(),
                    "SHA-1" => sha1::Sha1::digest(bytes).to_vec(),
                    "SHA-256" => sha2::Sha256::digest(bytes).to_vec(),
                    "SHA-384" => sha2::Sha384::digest(bytes).to_vec(),
                    "SHA-512" => sha2::Sha512::digest(bytes).to_vec(),
                    other => {
                        return fail(
                            f,
                            format!("unsupported algorithm '{other}' (use MD5, SHA-1, SHA-256, SHA-384 or SHA-512)"),
                        );
                    }
                };
                Value::String(digest.iter().map(|b| format!("{b:02x}")).collect())
            }
            Func::JsonMerge => {
                let (Value::Object(l), Value::Object(r)) = (&a[0], &a[1]) else {
                    return fail(f, "the first two arguments must be objects");
                };
                match a[2] {
                    Value::Bool(false) => {}
                    Value::Bool(true) => return fail(f, "deep merge (true) is not supported; pass false"),
                    _ => return fail(f, "the third argument must be the boolean false"),
                }
                let mut m: Map<String, Value> = l.clone();
                for (k, v) in r {
                    m.insert(k.clone(), v.clone());
                }
                Value::Object(m)
            }
            Func::MathRandom => {
                let s = rounded_int_arg(f, &a[0], "start")?;
                let e = rounded_int_arg(f, &a[1], "end")?;
                // Both ends are inclusive, as in the moto/LocalStack interpreter.
                if s > e {
                    return fail(f, "start must not be greater than end");
                }
                let n = if let Some(seed) = a.get(2) {
                    let seed = rounded_int_arg(f, seed, "the seed")?;
                    rand::rngs::StdRng::seed_from_u64(seed as u64).random_range(s..=e)
                } else {
                    rand::rng().random_range(s..=e)
                };
                Value::from(n)
            }
            Func::MathAdd => {
                let x = rounded_int_arg(f, &a[0], "the first argument")?;
                let y = rounded_int_arg(f, &a[1], "the second argument")?;
                let range = i32::MIN as i64..=i32::MAX as i64;
                if !range.contains(&x) || !range.contains(&y) {
                    return fail(f, "arguments must be between -2147483648 and 2147483647");
                }
                Value::from(x + y)
            }
            Func::StringSplit => {
                let s = str_arg(f, &a[0], "the string")?;
                let d = str_arg(f, &a[1], "the delimiter")?;
                let parts: Vec<Value> = if d.is_empty() {
                    vec![Value::String(s.to_string())]
                } else {
                    s.split(|c| d.contains(c)).filter(|p| !p.is_empty()).map(|p| Value::String(p.to_string())).collect()
                };
                Value::Array(parts)
            }
            Func::Uuid => Value::String(uuid::Uuid::new_v4().to_string()),
        })
    }
}

/// JSON equality where 1 and 1.0 are the same number.
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => num_eq(x, y),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn num_eq(x: &Number, y: &Number) -> bool {
    match (x.as_i64(), y.as_i64()) {
        (Some(p), Some(q)) => p == q,
        _ => x.as_f64() == y.as_f64(),
    }
}

fn format(f: Func, tmpl: &str, args: &[Value]) -> Result<Value, ErrorInfo> {
    let mut out = String::new();
    let mut it = tmpl.chars().peekable();
    let mut n = 0;
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.next() {
                Some(e) => out.push(e),
                None => out.push('\\'),
            },
            '{' if it.peek() == Some(&'}') => {
                it.next();
                let Some(v) = args.get(n) else {
                    return fail(f, "the template has more '{}' placeholders than arguments");
                };
                n += 1;
                java_text(v, &mut out);
            }
            c => out.push(c),
        }
    }
    if n != args.len() {
        return fail(f, format!("the template has {n} placeholder(s) but {} argument(s) were given", args.len()));
    }
    Ok(Value::String(out))
}

/// Renders a value the way the AWS (Java) interpreter's Format does: strings
/// raw, objects and arrays as Java's `{k=v, …}` and `[a, b]`.
fn java_text(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => out.push_str(s),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                java_text(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                java_text(x, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

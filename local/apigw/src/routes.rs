//! The template's HTTP API as API Gateway reads it: each function's `HttpApi` events are routes, the API's
//! `DefaultAuthorizer` guards them unless a route opts out (`Auth: {Authorizer: NONE}`), and a request matches the
//! most specific route: literal segments beat `{param}`, `{param}` beats `{proxy+}`, an exact method beats `ANY`,
//! and `$default` catches what nothing else does.

use local_template::{Template, TemplateError};
use serde_json::Value;
use std::{collections::BTreeMap, fmt};

/// An HTTP route a function serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Upper-case method, or `ANY`.
    pub method: String,
    /// The path pattern as written, e.g. `/tasks/{id}`.
    pub path: String,
    /// Whether the JWT authorizer guards it (the API's default authorizer unless the route says `NONE`).
    pub authorized: bool,
}

impl Route {
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// What the JWT authorizer accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorizer {
    pub issuer: String,
    pub audience: Vec<String>,
}

/// Why the template's HTTP API cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("route `{route}` is declared by both {first} and {second}")]
    Duplicate { route: String, first: String, second: String },
}

const API_TYPES: &[&str] = &["AWS::Serverless::HttpApi"];
const FUNCTION_TYPES: &[&str] = &["AWS::Serverless::Function"];

/// The API's JWT authorizer, if its `DefaultAuthorizer` is one.
pub fn authorizer(template: &Template) -> Result<Option<Authorizer>, TemplateError> {
    let mut found = None;
    for api in template.of_type(API_TYPES) {
        let auth = &api.properties["Auth"];
        let Some(name) = auth["DefaultAuthorizer"].as_str() else { continue };
        let jwt = &auth["Authorizers"][name]["JwtConfiguration"];
        let at = format!("{}.Auth.Authorizers.{name}.JwtConfiguration", api.id);
        let issuer = template.string(&jwt["issuer"], &format!("{at}.issuer"))?;
        let audience = match &jwt["audience"] {
            Value::Array(a) => {
                a.iter().map(|v| template.string(v, &format!("{at}.audience"))).collect::<Result<Vec<_>, _>>()?
            }
            _ => return Err(TemplateError::invalid(format!("{at}.audience"), "must be a list")),
        };
        found = Some(Authorizer { issuer, audience });
    }
    Ok(found)
}

/// Every function's routes, by the function's logical id.
pub fn function_routes(template: &Template) -> Result<BTreeMap<String, Vec<Route>>, TemplateError> {
    let guarded: BTreeMap<&str, bool> = template
        .of_type(API_TYPES)
        .map(|api| (api.id, api.properties["Auth"]["DefaultAuthorizer"].is_string()))
        .collect();
    let mut all = BTreeMap::new();
    for f in template.of_type(FUNCTION_TYPES) {
        let mut routes = Vec::new();
        for (name, ev) in f.properties["Events"].as_object().into_iter().flatten() {
            if ev["Type"] != "HttpApi" {
                continue;
            }
            let p = &ev["Properties"];
            let api = p["ApiId"].get("Ref").and_then(Value::as_str);
            let is_guarded = api.and_then(|a| guarded.get(a)).copied().unwrap_or(false);
            let opted_out = p["Auth"]["Authorizer"] == "NONE";
            let method = p["Method"].as_str().unwrap_or("ANY").to_ascii_uppercase();
            let path = p["Path"].as_str().unwrap_or("$default").to_owned();
            if !path.starts_with('/') && path != "$default" {
                return Err(TemplateError::invalid(
                    format!("{}.Events.{name}", f.id),
                    format!("Path `{path}` must start with /"),
                ));
            }
            let method = if method == "X-AMAZON-APIGATEWAY-ANY-METHOD" { "ANY".to_owned() } else { method };
            routes.push(Route { method, path, authorized: is_guarded && !opted_out });
        }
        all.insert(f.id.to_owned(), routes);
    }
    Ok(all)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

#[derive(Debug, Clone)]
pub struct RouteEntry {
    pub route: Route,
    pub function: String,
    segments: Option<Vec<Segment>>, // None for `$default`
}

/// The template's routes, ready to match requests.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    pub entries: Vec<RouteEntry>,
}

pub struct Matched<'a> {
    pub entry: &'a RouteEntry,
    pub params: Vec<(String, String)>,
}

impl RouteTable {
    /// The table of `routes` (function → its routes); two functions declaring one route is an error.
    pub fn new(routes: &BTreeMap<String, Vec<Route>>) -> Result<Self, RouteError> {
        let mut entries: Vec<RouteEntry> = Vec::new();
        for (function, routes) in routes {
            for r in routes {
                if let Some(other) = entries.iter().find(|e| e.route.key() == r.key()) {
                    return Err(RouteError::Duplicate {
                        route: r.key(),
                        first: other.function.clone(),
                        second: function.clone(),
                    });
                }
                let segments = (r.path != "$default").then(|| {
                    r.path
                        .trim_start_matches('/')
                        .split('/')
                        .filter(|s| !s.is_empty())
                        .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                            Some(p) if p.ends_with('+') => Segment::Greedy(p.trim_end_matches('+').to_owned()),
                            Some(p) => Segment::Param(p.to_owned()),
                            None => Segment::Literal(s.to_owned()),
                        })
                        .collect()
                });
                entries.push(RouteEntry { route: r.clone(), function: function.clone(), segments });
            }
        }
        Ok(Self { entries })
    }

    pub fn find(&self, method: &str, path: &str) -> Option<Matched<'_>> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').filter(|s| !s.is_empty()).collect();
        let mut best: Option<((u8, usize, usize, u8), Matched<'_>)> = None;
        for e in &self.entries {
            let method_score = if e.route.method == method {
                1
            } else if e.route.method == "ANY" {
                0
            } else {
                continue;
            };
            let (score, params) = match &e.segments {
                None => ((0, 0, 0, method_score), Vec::new()),
                Some(segs) => match match_segments(segs, &parts) {
                    Some(SegmentMatch { literals, greedy, params }) => {
                        ((if greedy { 1 } else { 2 }, literals, segs.len(), method_score), params)
                    }
                    None => continue,
                },
            };
            if best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((score, Matched { entry: e, params }));
            }
        }
        best.map(|(_, m)| m)
    }
}

/// How a path matched a route's segments: what the route's specificity is judged by, and the parameters.
struct SegmentMatch {
    literals: usize,
    greedy: bool,
    params: Vec<(String, String)>,
}

fn match_segments(segs: &[Segment], parts: &[&str]) -> Option<SegmentMatch> {
    let mut params = Vec::new();
    let mut literals = 0;
    for (i, seg) in segs.iter().enumerate() {
        match seg {
            Segment::Greedy(name) => {
                if i >= parts.len() {
                    return None;
                }
                params.push((name.clone(), parts[i..].join("/")));
                return Some(SegmentMatch { literals, greedy: true, params });
            }
            _ if i >= parts.len() => return None,
            Segment::Literal(l) if l == parts[i] => literals += 1,
            Segment::Literal(_) => return None,
            Segment::Param(name) => params.push((name.clone(), local_core::endpoint::percent_decode(parts[i]))),
        }
    }
    (segs.len() == parts.len()).then_some(SegmentMatch { literals, greedy: false, params })
}

#[cfg(test)]
mod tests {
    use super::*;
    use local_template::NoSecrets;
    use std::{path::Path, sync::Arc};

    fn table(routes: &[(&str, &str)]) -> RouteTable {
        let routes = routes
            .iter()
            .enumerate()
            .map(|(i, (m, p))| {
                (format!("F{i}"), vec![Route { method: (*m).into(), path: (*p).into(), authorized: true }])
            })
            .collect();
        RouteTable::new(&routes).unwrap()
    }

    #[test]
    fn literal_segments_beat_parameters_and_parameters_beat_greedy_paths() {
        let t = table(&[("GET", "/tasks/{id}"), ("GET", "/tasks/stats"), ("ANY", "/{proxy+}"), ("GET", "/tasks")]);
        assert_eq!(t.find("GET", "/tasks/stats").unwrap().entry.function, "F1");
        let m = t.find("GET", "/tasks/01ABC").unwrap();
        assert_eq!((m.entry.function.as_str(), m.params.clone()), ("F0", vec![("id".to_owned(), "01ABC".to_owned())]));
        assert_eq!(t.find("GET", "/tasks").unwrap().entry.function, "F3");
        assert_eq!(t.find("DELETE", "/tasks/1").unwrap().entry.function, "F2");
        assert_eq!(t.find("GET", "/other/a/b").unwrap().params, vec![("proxy".to_owned(), "other/a/b".to_owned())]);
    }

    #[test]
    fn a_method_the_route_does_not_declare_does_not_match() {
        let t = table(&[("GET", "/tasks")]);
        assert!(t.find("POST", "/tasks").is_none());
        assert!(t.find("GET", "/tasks/x/y").is_none());
    }

    #[test]
    fn two_functions_declaring_one_route_is_an_error_naming_both() {
        let routes = [("A", "GET", "/x"), ("B", "GET", "/x")]
            .into_iter()
            .map(|(f, m, p)| (f.to_owned(), vec![Route { method: m.into(), path: p.into(), authorized: false }]))
            .collect();
        let e = RouteTable::new(&routes).unwrap_err().to_string();
        assert!(e.contains("GET /x") && e.contains('A') && e.contains('B'), "{e}");
    }

    #[test]
    fn the_repository_template_declares_every_task_route_behind_the_authorizer() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
        let t = Template::load(&path, Default::default(), Arc::new(NoSecrets)).unwrap();
        let mut keys: Vec<_> =
            function_routes(&t).unwrap().values().flatten().map(|r| (r.key(), r.authorized)).collect();
        keys.sort();
        for want in [
            "DELETE /tasks/{id}",
            "GET /me",
            "GET /tasks",
            "GET /tasks/{id}",
            "POST /tasks",
            "PUT /me",
            "PUT /tasks/{id}",
        ] {
            assert!(keys.contains(&(want.to_owned(), true)), "{want} missing from {keys:?}");
        }
        let auth = authorizer(&t).unwrap().unwrap();
        assert_eq!(auth.issuer, "https://cognito-idp.us-east-1.amazonaws.com/UserPool");
        assert_eq!(auth.audience, vec!["UserPoolClient".to_owned()]);
    }
}

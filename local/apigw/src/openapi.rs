//! The HTTP API's contract, served: `openapi.yaml` beside the template, read and turned into JSON once when the
//! stack starts, answered at `GET /openapi.json` without a token, so client generators and fuzzers (schemathesis)
//! can point at the running stack.
//!
//! It is served by the gateway, not the front door, because it describes the gateway's routes, and because the
//! gateway only offers it for a request that no template route matches: a template that declares
//! `GET /openapi.json` itself keeps it, so the document can never shadow a route. A template with no
//! `openapi.yaml` beside it (a test's own template, say) serves none, rather than one describing another API.

use axum::{body::Body, response::Response};
use http::{HeaderValue, Method, StatusCode, header};
use std::path::{Path, PathBuf};

/// Where the document is served.
pub const PATH: &str = "/openapi.json";
/// The document's file, beside the template.
pub const FILE: &str = "openapi.yaml";

/// Why the document beside the template cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum OpenApiError {
    #[error("{}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: not a YAML document JSON can hold: {message}", path.display())]
    Yaml { path: PathBuf, message: String },
}

/// The document as JSON, ready to send.
#[derive(Debug, Clone)]
pub struct OpenApiDocument {
    json: String,
}

impl OpenApiDocument {
    /// The document beside a template in `template_dir`, if there is one. A file that is there but unreadable or
    /// not YAML is an error, so a broken contract stops the stack instead of silently disappearing.
    pub fn beside(template_dir: &Path) -> Result<Option<Self>, OpenApiError> {
        let path = template_dir.join(FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(OpenApiError::Read { path, source }),
        };
        Self::from_yaml(&text).map(Some).map_err(|message| OpenApiError::Yaml { path, message })
    }

    /// The document from its YAML text. OpenAPI is JSON's data model: a scalar key (an unquoted `200:`) is read as
    /// its text, as every OpenAPI tool reads it; what JSON cannot hold at all (a sequence as a key) is refused.
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        let value: serde_json::Value = serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?;
        if !value.is_object() {
            return Err("the document is not a mapping".into());
        }
        Ok(Self { json: value.to_string() })
    }

    pub fn json(&self) -> &str {
        &self.json
    }

    /// Whether a request is for the document.
    pub fn is_request_for(method: &Method, path: &str) -> bool {
        method == Method::GET && path == PATH
    }

    pub fn response(&self, request_id: &str) -> Response {
        let mut r = Response::new(Body::from(self.json.clone()));
        *r.status_mut() = StatusCode::OK;
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Ok(v) = HeaderValue::from_str(request_id) {
            r.headers_mut().insert("apigw-requestid", v);
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_yaml_document_becomes_the_same_json() {
        let doc = OpenApiDocument::from_yaml(
            "openapi: 3.1.0\npaths:\n  /me:\n    get:\n      responses:\n        \"200\": {description: ok}\n",
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(doc.json()).unwrap();
        assert_eq!(v["openapi"], "3.1.0");
        assert_eq!(v["paths"]["/me"]["get"]["responses"]["200"]["description"], "ok");
    }

    #[test]
    fn an_unquoted_status_key_is_its_text_and_what_json_cannot_hold_is_refused() {
        let doc = OpenApiDocument::from_yaml("responses:\n  200: {description: ok}\n").unwrap();
        assert_eq!(doc.json(), r#"{"responses":{"200":{"description":"ok"}}}"#);
        assert!(OpenApiDocument::from_yaml("? [a, b]\n: c\n").is_err());
        assert!(OpenApiDocument::from_yaml("- a list\n").is_err());
        assert!(OpenApiDocument::from_yaml("openapi: [unclosed\n").is_err());
    }

    #[test]
    fn no_file_beside_the_template_is_no_document_and_a_broken_one_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(OpenApiDocument::beside(dir.path()).unwrap().is_none());
        std::fs::write(dir.path().join(FILE), "openapi: [unclosed\n").unwrap();
        let e = OpenApiDocument::beside(dir.path()).unwrap_err();
        assert!(e.to_string().contains(FILE), "{e}");
    }

    /// Answers every invocation with a 200 saying it was the function, so a test can tell who answered.
    struct TheFunction;

    impl crate::FunctionInvoker for TheFunction {
        fn invoke<'a>(
            &'a self,
            _: &'a str,
            _: &'a str,
            _: serde_json::Value,
        ) -> local_core::BoxFuture<'a, Result<serde_json::Value, local_core::invoke::FunctionError>> {
            Box::pin(async { Ok(serde_json::json!({"statusCode": 200, "body": "the function"})) })
        }

        fn function_names(&self) -> Vec<String> {
            vec!["Fn".into()]
        }
    }

    /// What `GET /openapi.json` answers on an API whose template declares `route` (unguarded), with a document
    /// beside it.
    async fn get_the_document(route: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), "openapi: 3.1.0\n").unwrap();
        let text = format!(
            "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        E:\n          \
             Type: HttpApi\n          Properties: {{Path: \"{route}\", Method: GET}}\n"
        );
        let template = local_template::Template::parse_in(
            &text,
            dir.path(),
            Default::default(),
            std::sync::Arc::new(local_template::NoSecrets),
        )
        .unwrap();
        let api = crate::HttpApi::from_template(&template, dir.path(), std::sync::Arc::new(TheFunction)).unwrap();
        let ctx = local_core::endpoint::CallContext { peer: ([127, 0, 0, 1], 1).into(), request_id: "r".into() };
        let req = http::Request::get(PATH).body(Body::empty()).unwrap();
        let r = api.serve(req, &ctx).await;
        assert_eq!(r.status(), 200);
        let body = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        String::from_utf8(body.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn the_document_is_served_where_no_route_matches_and_never_shadows_one() {
        assert_eq!(get_the_document("/elsewhere").await, r#"{"openapi":"3.1.0"}"#);
        assert_eq!(get_the_document(PATH).await, "the function");
        assert_eq!(get_the_document("/{proxy+}").await, "the function");
    }

    #[test]
    fn the_repositorys_document_is_served_as_json() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let doc = OpenApiDocument::beside(&repo).unwrap().expect("openapi.yaml beside template.yaml");
        let v: serde_json::Value = serde_json::from_str(doc.json()).unwrap();
        assert!(v["openapi"].as_str().is_some_and(|s| s.starts_with("3.1")), "{}", v["openapi"]);
    }
}

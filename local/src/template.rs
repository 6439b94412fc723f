//! Reading `template.yaml`: the functions, their HTTP routes and environment, the authorizer, the tables, the
//! secrets and the state machines, with CloudFormation's intrinsic functions resolved to local values.
//!
//! Written here rather than taken from a crate because no maintained Rust crate evaluates SAM templates; only the
//! parts the local stack needs are covered, and anything else in a value it must use is an error naming the
//! resource and the property (never silently an empty string).

use serde_json::{Map, Value};
use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
};

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

#[derive(Debug, thiserror::Error)]
#[error("template: {0}")]
pub struct TemplateError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, TemplateError> {
    Err(TemplateError(msg.into()))
}

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

#[derive(Debug, Clone)]
pub struct Function {
    pub logical_id: String,
    /// The cargo binary `sam build` builds (`Metadata.BuildProperties.Binary`): what the local stack runs.
    pub binary: String,
    /// Globals merged with the function's own variables, intrinsics resolved.
    pub env: BTreeMap<String, String>,
    pub routes: Vec<Route>,
}

/// Where a state machine's definition is: a file (`DefinitionUri`, relative to the template) or the template itself
/// (`Definition`).
#[derive(Debug, Clone)]
pub enum DefinitionSource {
    File(PathBuf),
    Inline(Value),
}

/// An `AWS::Serverless::StateMachine`.
#[derive(Debug, Clone)]
pub struct StateMachine {
    pub logical_id: String,
    /// `Name`, else the logical id (AWS would generate one; locally the logical id is easier to type).
    pub name: String,
    pub definition: DefinitionSource,
    /// `DefinitionSubstitutions`, intrinsics resolved (a function's `Arn` is its local Lambda ARN).
    pub substitutions: BTreeMap<String, String>,
}

impl StateMachine {
    /// The definition as text, before substitutions.
    pub fn definition_text(&self) -> Result<String, TemplateError> {
        match &self.definition {
            DefinitionSource::File(path) => std::fs::read_to_string(path)
                .map_err(|e| TemplateError(format!("{}.DefinitionUri: cannot read {}: {e}", self.logical_id, path.display()))),
            DefinitionSource::Inline(v) => Ok(v.to_string()),
        }
    }
}

/// The ARN a function has on AWS, with the local account and region, named by its logical id.
pub fn function_arn(logical_id: &str) -> String {
    format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_id}")
}

/// The ARN of the state machine called `name`.
pub fn state_machine_arn(name: &str) -> String {
    format!("arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}")
}

/// What the JWT authorizer accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorizer {
    pub issuer: String,
    pub audience: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Template {
    pub functions: Vec<Function>,
    pub authorizer: Option<Authorizer>,
    /// Logical ids of `AWS::DynamoDB::Table` resources, with their table names.
    pub tables: BTreeMap<String, String>,
    pub state_machines: Vec<StateMachine>,
    /// Resources by logical id, as JSON with YAML tags turned into `Ref`/`Fn::*` objects.
    pub resources: Map<String, Value>,
}

/// Where secrets referenced by `{{resolve:secretsmanager:…}}` come from locally.
pub trait SecretSource {
    fn secret(&self, name: &str) -> Result<String, TemplateError>;
}

impl Template {
    pub fn load(path: &Path, secrets: &dyn SecretSource) -> Result<Self, TemplateError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| TemplateError(format!("cannot read {}: {e}", path.display())))?;
        Self::parse_in(&text, path.parent().unwrap_or(Path::new(".")), secrets)
    }

    /// A template whose relative paths (`DefinitionUri`) are relative to the working directory.
    pub fn parse(text: &str, secrets: &dyn SecretSource) -> Result<Self, TemplateError> {
        Self::parse_in(text, Path::new("."), secrets)
    }

    /// A template whose relative paths are relative to `dir`, as `sam` reads them relative to the template.
    pub fn parse_in(text: &str, dir: &Path, secrets: &dyn SecretSource) -> Result<Self, TemplateError> {
        let yaml: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(text).map_err(|e| TemplateError(format!("not valid YAML: {e}")))?;
        let doc = to_json(yaml);
        let resources = doc.get("Resources").and_then(Value::as_object).cloned().unwrap_or_default();
        let parameters = doc.get("Parameters").and_then(Value::as_object).cloned().unwrap_or_default();
        let ctx = Resolver { resources: &resources, parameters: &parameters, secrets, depth: Default::default() };

        let mut tables = BTreeMap::new();
        for (id, r) in &resources {
            if r["Type"] == "AWS::DynamoDB::Table" {
                tables.insert(id.clone(), ctx.table_name(id)?);
            }
        }

        let globals = doc.pointer("/Globals/Function/Environment/Variables").cloned().unwrap_or(Value::Null);
        let mut apis_auth = BTreeMap::new();
        let mut authorizer = None;
        for (id, r) in &resources {
            if r["Type"] == "AWS::Serverless::HttpApi" {
                let auth = &r["Properties"]["Auth"];
                let default = auth["DefaultAuthorizer"].as_str().map(str::to_owned);
                if let Some(name) = &default {
                    let jwt = &auth["Authorizers"][name]["JwtConfiguration"];
                    let where_ = format!("{id}.Auth.Authorizers.{name}.JwtConfiguration");
                    let issuer = ctx.string(&jwt["issuer"], &format!("{where_}.issuer"))?;
                    let audience = match &jwt["audience"] {
                        Value::Array(a) => a
                            .iter()
                            .map(|v| ctx.string(v, &format!("{where_}.audience")))
                            .collect::<Result<Vec<_>, _>>()?,
                        _ => return err(format!("{where_}.audience must be a list")),
                    };
                    authorizer = Some(Authorizer { issuer, audience });
                }
                apis_auth.insert(id.clone(), default.is_some());
            }
        }

        let mut functions = Vec::new();
        for (id, r) in &resources {
            if r["Type"] != "AWS::Serverless::Function" {
                continue;
            }
            let binary = r
                .pointer("/Metadata/BuildProperties/Binary")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| TemplateError(format!("{id}: Metadata.BuildProperties.Binary is missing")))?;
            let mut env = BTreeMap::new();
            for vars in [&globals, &r["Properties"]["Environment"]["Variables"]] {
                if let Value::Object(vars) = vars {
                    for (k, v) in vars {
                        env.insert(k.clone(), ctx.string(v, &format!("{id}.Environment.Variables.{k}"))?);
                    }
                }
            }
            let mut routes = Vec::new();
            if let Some(events) = r["Properties"]["Events"].as_object() {
                for (name, ev) in events {
                    if ev["Type"] != "HttpApi" {
                        continue;
                    }
                    let p = &ev["Properties"];
                    let api = match &p["ApiId"] {
                        Value::Object(o) => o.get("Ref").and_then(Value::as_str).map(str::to_owned),
                        _ => None,
                    };
                    let guarded = api.as_ref().and_then(|a| apis_auth.get(a)).copied().unwrap_or(false);
                    let opted_out = p["Auth"]["Authorizer"] == "NONE";
                    let method = p["Method"].as_str().unwrap_or("ANY").to_ascii_uppercase();
                    let path = p["Path"].as_str().unwrap_or("$default").to_owned();
                    if !path.starts_with('/') && path != "$default" {
                        return err(format!("{id}.Events.{name}: Path `{path}` must start with /"));
                    }
                    routes.push(Route { method: if method == "X-AMAZON-APIGATEWAY-ANY-METHOD" { "ANY".into() } else { method }, path, authorized: guarded && !opted_out });
                }
            }
            functions.push(Function { logical_id: id.clone(), binary, env, routes });
        }

        let mut state_machines = Vec::new();
        for (id, r) in &resources {
            if r["Type"] != "AWS::Serverless::StateMachine" {
                continue;
            }
            let p = &r["Properties"];
            let name = match &p["Name"] {
                Value::Null => id.clone(),
                v => ctx.string(v, &format!("{id}.Name"))?,
            };
            let definition = match (&p["DefinitionUri"], &p["Definition"]) {
                (Value::String(uri), Value::Null) => DefinitionSource::File(dir.join(uri)),
                (Value::Null, v @ Value::Object(_)) => DefinitionSource::Inline(v.clone()),
                (Value::Null, Value::Null) => return err(format!("{id}: a state machine needs DefinitionUri or Definition")),
                (Value::String(_), _) => return err(format!("{id}: DefinitionUri and Definition are exclusive")),
                _ => return err(format!("{id}.DefinitionUri: only a local file path is supported by the local stack")),
            };
            let mut substitutions = BTreeMap::new();
            if let Some(subs) = p["DefinitionSubstitutions"].as_object() {
                for (k, v) in subs {
                    substitutions.insert(k.clone(), ctx.string(v, &format!("{id}.DefinitionSubstitutions.{k}"))?);
                }
            }
            state_machines.push(StateMachine { logical_id: id.clone(), name, definition, substitutions });
        }
        Ok(Self { functions, authorizer, tables, state_machines, resources })
    }

    pub fn function(&self, logical_id: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.logical_id == logical_id)
    }

    pub fn state_machine(&self, logical_id: &str) -> Option<&StateMachine> {
        self.state_machines.iter().find(|m| m.logical_id == logical_id)
    }
}

/// Turns YAML into JSON, with short-form tags (`!Ref X`, `!Sub s`, `!GetAtt A.B`) in their long form.
fn to_json(v: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64().map(Value::from).unwrap_or(Value::Null)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(seq) => Value::Array(seq.into_iter().map(to_json).collect()),
        Y::Mapping(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        other => serde_yaml_ng::to_string(&other).unwrap_or_default().trim().to_owned(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let inner = to_json(t.value);
            let (key, inner) = match tag {
                "Ref" => ("Ref".to_owned(), inner),
                "GetAtt" => {
                    let inner = match inner {
                        Value::String(s) => match s.split_once('.') {
                            Some((a, b)) => Value::Array(vec![a.into(), b.into()]),
                            None => Value::String(s),
                        },
                        other => other,
                    };
                    ("Fn::GetAtt".to_owned(), inner)
                }
                other => (format!("Fn::{other}"), inner),
            };
            let mut m = Map::new();
            m.insert(key, inner);
            Value::Object(m)
        }
    }
}

struct Resolver<'a> {
    resources: &'a Map<String, Value>,
    parameters: &'a Map<String, Value>,
    secrets: &'a dyn SecretSource,
    /// How deep the current resolution is: a template whose values refer to themselves (`TableName: !Ref
    /// TasksTable`) would otherwise recurse until the stack overflows.
    depth: std::cell::Cell<u32>,
}

/// Deeper than any honest template nests its intrinsics.
const MAX_DEPTH: u32 = 32;

impl Resolver<'_> {
    fn table_name(&self, id: &str) -> Result<String, TemplateError> {
        match &self.resources[id]["Properties"]["TableName"] {
            Value::Null => Ok(id.to_owned()),
            v => self.string(v, &format!("{id}.TableName")),
        }
    }

    fn machine_name(&self, id: &str) -> Result<String, TemplateError> {
        match &self.resources[id]["Properties"]["Name"] {
            Value::Null => Ok(id.to_owned()),
            v => self.string(v, &format!("{id}.Name")),
        }
    }

    /// The local value of `Ref name`.
    fn reference(&self, name: &str, at: &str) -> Result<String, TemplateError> {
        match name {
            "AWS::Region" => return Ok(REGION.into()),
            "AWS::AccountId" => return Ok(ACCOUNT.into()),
            "AWS::StackName" => return Ok("local".into()),
            "AWS::Partition" => return Ok("aws".into()),
            "AWS::URLSuffix" => return Ok("amazonaws.com".into()),
            _ => {}
        }
        if let Some(p) = self.parameters.get(name) {
            return match &p["Default"] {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                _ => err(format!("{at}: parameter {name} has no Default, and the local stack takes no overrides")),
            };
        }
        let Some(r) = self.resources.get(name) else {
            return err(format!("{at}: Ref to `{name}`, which is not a parameter or resource"));
        };
        Ok(match r["Type"].as_str().unwrap_or("") {
            "AWS::DynamoDB::Table" => self.table_name(name)?,
            "AWS::SecretsManager::Secret" => format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}"),
            "AWS::Serverless::StateMachine" | "AWS::StepFunctions::StateMachine" => state_machine_arn(&self.machine_name(name)?),
            _ => name.to_owned(),
        })
    }

    fn get_att(&self, name: &str, attr: &str, at: &str) -> Result<String, TemplateError> {
        let Some(r) = self.resources.get(name) else {
            return err(format!("{at}: GetAtt of `{name}`, which is not a resource"));
        };
        let ty = r["Type"].as_str().unwrap_or("");
        match (ty, attr) {
            ("AWS::DynamoDB::Table", "Arn") => {
                Ok(format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{}", self.table_name(name)?))
            }
            ("AWS::Serverless::Function" | "AWS::Lambda::Function", "Arn") => Ok(function_arn(name)),
            ("AWS::Serverless::StateMachine" | "AWS::StepFunctions::StateMachine", "Arn") => {
                Ok(state_machine_arn(&self.machine_name(name)?))
            }
            ("AWS::Serverless::StateMachine" | "AWS::StepFunctions::StateMachine", "Name") => self.machine_name(name),
            (_, "Arn") => Ok(format!("arn:aws:local:{REGION}:{ACCOUNT}:{name}")),
            _ => err(format!("{at}: GetAtt {name}.{attr} has no local value")),
        }
    }

    fn string(&self, v: &Value, at: &str) -> Result<String, TemplateError> {
        if self.depth.get() >= MAX_DEPTH {
            return err(format!("{at}: the value refers to itself (a cycle of Ref/GetAtt/Sub)"));
        }
        self.depth.set(self.depth.get() + 1);
        let resolved = self.string_inner(v, at);
        self.depth.set(self.depth.get() - 1);
        resolved
    }

    fn string_inner(&self, v: &Value, at: &str) -> Result<String, TemplateError> {
        let s = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Object(o) if o.len() == 1 => {
                let (k, arg) = o.iter().next().expect("one entry");
                match (k.as_str(), arg) {
                    ("Ref", Value::String(name)) => self.reference(name, at)?,
                    ("Fn::GetAtt", Value::Array(parts)) if parts.len() == 2 => {
                        let name = parts[0].as_str().unwrap_or_default();
                        let attr = parts[1].as_str().unwrap_or_default();
                        self.get_att(name, attr, at)?
                    }
                    ("Fn::Sub", Value::String(s)) => self.sub(s, &Map::new(), at)?,
                    ("Fn::Sub", Value::Array(a)) => match (a.as_slice(), a.get(1).and_then(Value::as_object)) {
                        ([Value::String(s), _], Some(vars)) => self.sub(s, vars, at)?,
                        _ => return err(format!("{at}: Fn::Sub takes a string, or [string, {{variables}}]")),
                    },
                    ("Fn::Join", Value::Array(a)) => match a.as_slice() {
                        [Value::String(sep), Value::Array(parts)] => {
                            parts.iter().map(|p| self.string(p, at)).collect::<Result<Vec<_>, _>>()?.join(sep)
                        }
                        _ => return err(format!("{at}: Fn::Join takes [separator, [values]]")),
                    },
                    (other, _) => return err(format!("{at}: `{other}` is not supported by the local stack")),
                }
            }
            other => return err(format!("{at}: expected a string, found {other}")),
        };
        self.dynamic_references(&s, at)
    }

    /// `Fn::Sub`: `${Name}`, `${Name.Attr}`, `${AWS::Region}`, `${!Literal}`.
    fn sub(&self, template: &str, vars: &Map<String, Value>, at: &str) -> Result<String, TemplateError> {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}').ok_or_else(|| TemplateError(format!("{at}: unclosed ${{ in Fn::Sub")))?;
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(v) = vars.get(name) {
                out.push_str(&self.string(v, at)?);
            } else if let Some((res, attr)) = name.split_once('.').filter(|_| !name.starts_with("AWS::")) {
                out.push_str(&self.get_att(res, attr, at)?);
            } else {
                out.push_str(&self.reference(name, at)?);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// `{{resolve:secretsmanager:<id>[:SecretString[:key]]}}`, served from the local secrets.
    fn dynamic_references(&self, s: &str, at: &str) -> Result<String, TemplateError> {
        if !s.contains("{{resolve:") {
            return Ok(s.to_owned());
        }
        let mut out = String::new();
        let mut rest = s;
        while let Some(start) = rest.find("{{resolve:") {
            out.push_str(&rest[..start]);
            let after = &rest[start + "{{resolve:".len()..];
            let end = after.find("}}").ok_or_else(|| TemplateError(format!("{at}: unclosed {{{{resolve:")))?;
            let reference = &after[..end];
            let Some(id) = reference.strip_prefix("secretsmanager:") else {
                return err(format!("{at}: only secretsmanager dynamic references are supported locally"));
            };
            // The id is a name or an ARN (`arn:…:secret:<name>`), then optionally `:SecretString`. A JSON key,
            // version stage or version id after it selects part of a JSON secret, which local secrets are not.
            let (id, selector) = id.split_once(":SecretString").unwrap_or((id, ""));
            if !selector.trim_matches(':').is_empty() {
                return err(format!("{at}: `{{{{resolve:secretsmanager:…:SecretString{selector}}}}}`: local secrets are plain strings; JSON keys and versions are not supported"));
            }
            let name = id.rsplit_once(":secret:").map_or(id, |(_, n)| n);
            out.push_str(&self.secrets.secret(name)?);
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl SecretSource for Fixed {
        fn secret(&self, name: &str) -> Result<String, TemplateError> {
            Ok(format!("secret-of-{name}"))
        }
    }

    fn repo_template() -> Template {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
        Template::load(&path, &Fixed).unwrap()
    }

    #[test]
    fn the_repository_template_declares_every_task_route_behind_the_authorizer() {
        let t = repo_template();
        let mut keys: Vec<_> = t.functions.iter().flat_map(|f| f.routes.iter().map(|r| (r.key(), r.authorized))).collect();
        keys.sort();
        for want in ["DELETE /tasks/{id}", "GET /me", "GET /tasks", "GET /tasks/{id}", "POST /tasks", "PUT /me", "PUT /tasks/{id}"] {
            assert!(keys.contains(&(want.to_owned(), true)), "{want} missing from {keys:?}");
        }
    }

    #[test]
    fn environment_merges_globals_and_resolves_refs_subs_and_secrets() {
        let t = repo_template();
        let list = t.function("ListTasksFunction").unwrap();
        assert_eq!(list.env["LOG_LEVEL"], "info");
        assert_eq!(list.env["TASKS_TABLE"], "TasksTable");
        assert_eq!(list.env["PAGE_TOKEN_SECRET"], "secret-of-PageTokenSecret");
        let auth = t.authorizer.unwrap();
        assert_eq!(auth.issuer, "https://cognito-idp.us-east-1.amazonaws.com/UserPool");
        assert_eq!(auth.audience, vec!["UserPoolClient".to_owned()]);
    }

    #[test]
    fn an_unsupported_intrinsic_is_an_error_naming_where_it_is() {
        let text = "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Metadata: {BuildProperties: {Binary: x}}\n    Properties:\n      Environment:\n        Variables:\n          A: !ImportValue other\n";
        let e = Template::parse(text, &Fixed).unwrap_err().to_string();
        assert!(e.contains("F.Environment.Variables.A") && e.contains("Fn::ImportValue"), "{e}");
    }

    #[test]
    fn state_machines_are_read_with_their_definition_file_and_resolved_substitutions() {
        let t = repo_template();
        let m = t.state_machine("TaskReminderStateMachine").unwrap();
        assert_eq!(m.name, "TaskReminderStateMachine");
        assert_eq!(m.substitutions["CheckTaskFunctionArn"], "arn:aws:lambda:us-east-1:123456789012:function:CheckTaskFunction");
        assert!(m.definition_text().unwrap().contains("${CheckTaskFunctionArn}"));
    }

    #[test]
    fn an_inline_definition_and_a_name_are_taken_as_written() {
        let text = "Resources:\n  M:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n      Name: !Sub '${AWS::StackName}-m'\n      Definition: {StartAt: A, States: {A: {Type: Succeed}}}\n";
        let t = Template::parse(text, &Fixed).unwrap();
        let m = &t.state_machines[0];
        assert_eq!(m.name, "local-m");
        assert!(matches!(&m.definition, DefinitionSource::Inline(v) if v["StartAt"] == "A"));
        let both = "Resources:\n  M:\n    Type: AWS::Serverless::StateMachine\n    Properties: {}\n";
        assert!(Template::parse(both, &Fixed).unwrap_err().to_string().contains("DefinitionUri or Definition"));
    }

    #[test]
    fn a_value_that_refers_to_itself_is_an_error_not_a_stack_overflow() {
        let text = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TableName: !Ref T\n";
        let e = Template::parse(text, &Fixed).unwrap_err().to_string();
        assert!(e.contains("refers to itself"), "{e}");
    }

    #[test]
    fn malformed_sub_and_join_are_errors_not_empty_strings() {
        for v in ["!Sub [3, {}]", "!Join [\",\", notalist]", "!Sub [\"x\"]"] {
            let text = format!("Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Metadata: {{BuildProperties: {{Binary: x}}}}\n    Properties:\n      Environment:\n        Variables:\n          A: {v}\n");
            assert!(Template::parse(&text, &Fixed).is_err(), "{v}");
        }
    }

    #[test]
    fn a_function_without_a_binary_is_refused() {
        let text = "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {}\n";
        assert!(Template::parse(text, &Fixed).unwrap_err().to_string().contains("Binary"));
    }
}

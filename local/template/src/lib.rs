//! Reading `template.yaml`, the file `sam deploy` uses, for the local stack: YAML with CloudFormation's short tags
//! (`!Ref`, `!Sub`, `!GetAtt`) turned into their long form, the intrinsic functions resolved to local values, and
//! the resources handed out by type, so that each emulated service reads its own (Lambda its functions, Step
//! Functions its state machines, S3 its buckets) and no service reads another's.
//!
//! Written here rather than taken from a crate because no maintained Rust crate evaluates SAM templates; only the
//! parts the local stack needs are covered, and anything else in a value it must use is an error naming the
//! resource and the property (never silently an empty string).
//!
//! What a `Ref` or `Fn::GetAtt` resolves to is CloudFormation's rule for each resource type (a table's name, a
//! queue's URL, a state machine's ARN), kept in one place, [`Template::reference`] and [`Template::attribute`],
//! with the local account and region from the stack's [`Identity`].

use local_core::Identity;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::{
    cell::Cell,
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::Arc,
};

/// Why the template cannot be used; start-up fails with it, naming where the problem is.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template: cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("template: not valid YAML: {0}")]
    Yaml(String),
    #[error("template: {at}: {problem}")]
    Invalid { at: String, problem: String },
    #[error("template: {at}: `{what}` is not supported by the local stack")]
    Unsupported { at: String, what: String },
    #[error("template: {at}: the value refers to itself (a cycle of Ref/GetAtt/Sub)")]
    Cycle { at: String },
    #[error("template: secret {name}: {problem}")]
    Secret { name: String, problem: String },
}

impl TemplateError {
    pub fn invalid(at: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Invalid { at: at.into(), problem: problem.into() }
    }
}

/// Where secrets referenced by `{{resolve:secretsmanager:…}}` come from locally.
pub trait SecretSource: Send + Sync {
    fn secret(&self, name: &str) -> Result<String, TemplateError>;
}

/// Secrets for commands that never resolve one into a running function (`local routes`): every secret is empty.
pub struct NoSecrets;

impl SecretSource for NoSecrets {
    fn secret(&self, _: &str) -> Result<String, TemplateError> {
        Ok(String::new())
    }
}

/// One resource of the template.
#[derive(Debug, Clone, Copy)]
pub struct Resource<'a> {
    pub id: &'a str,
    /// `Type`, e.g. `AWS::Serverless::Function`.
    pub kind: &'a str,
    /// `Properties` (`Null` when absent).
    pub properties: &'a Value,
    /// The whole resource (`Metadata`, `DependsOn`, …).
    pub raw: &'a Value,
}

pub struct Template {
    resources: Map<String, Value>,
    parameters: Map<String, Value>,
    globals: Value,
    dir: PathBuf,
    identity: Identity,
    secrets: Arc<dyn SecretSource>,
    /// The label of each table's stream, by the table's logical id, once the store has created the stream.
    stream_labels: BTreeMap<String, String>,
}

/// A table of the template with a stream (`StreamSpecification`), as [`Template::stream_tables`] lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamTable {
    pub logical_id: String,
    /// The table's physical name.
    pub table: String,
    /// `StreamSpecification.StreamViewType`: `KEYS_ONLY`, `NEW_IMAGE`, `OLD_IMAGE` or `NEW_AND_OLD_IMAGES`.
    pub view_type: String,
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Template")
            .field("resources", &self.resources.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The stack name locally (`AWS::StackName`).
pub const STACK_NAME: &str = "local";

impl Template {
    pub fn load(path: &Path, identity: Identity, secrets: Arc<dyn SecretSource>) -> Result<Self, TemplateError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| TemplateError::Read { path: path.to_owned(), source })?;
        Self::parse_in(&text, path.parent().unwrap_or(Path::new(".")), identity, secrets)
    }

    /// A template whose relative paths (`DefinitionUri`) are relative to the working directory.
    pub fn parse(text: &str, secrets: Arc<dyn SecretSource>) -> Result<Self, TemplateError> {
        Self::parse_in(text, Path::new("."), Identity::default(), secrets)
    }

    /// A template whose relative paths are relative to `dir`, as `sam` reads them relative to the template.
    pub fn parse_in(
        text: &str,
        dir: &Path,
        identity: Identity,
        secrets: Arc<dyn SecretSource>,
    ) -> Result<Self, TemplateError> {
        let yaml: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(text).map_err(|e| TemplateError::Yaml(e.to_string()))?;
        let doc = to_json(yaml);
        let section = |name: &str| match doc.get(name) {
            None | Some(Value::Null) => Ok(Map::new()),
            Some(Value::Object(o)) => Ok(o.clone()),
            Some(_) => Err(TemplateError::invalid(name, "must be a mapping")),
        };
        let resources = section("Resources")?;
        for (id, r) in &resources {
            if !r.is_object() || !r["Type"].is_string() {
                return Err(TemplateError::invalid(id, "a resource is a mapping with a Type"));
            }
        }
        Ok(Self {
            resources,
            parameters: section("Parameters")?,
            globals: doc.get("Globals").cloned().unwrap_or(Value::Null),
            dir: dir.to_owned(),
            identity,
            secrets,
            stream_labels: BTreeMap::new(),
        })
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The directory relative paths in the template are relative to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `Globals.<section>` (e.g. `Function`), `Null` when absent.
    pub fn globals(&self, section: &str) -> &Value {
        &self.globals[section]
    }

    pub fn resources(&self) -> impl Iterator<Item = Resource<'_>> {
        self.resources.iter().map(|(id, r)| Resource {
            id,
            kind: r["Type"].as_str().unwrap_or_default(),
            properties: &r["Properties"],
            raw: r,
        })
    }

    /// The resources of any of `kinds`, in logical-id order.
    pub fn of_type<'a>(&'a self, kinds: &'a [&'a str]) -> impl Iterator<Item = Resource<'a>> + 'a {
        self.resources().filter(move |r| kinds.contains(&r.kind))
    }

    pub fn resource(&self, id: &str) -> Option<Resource<'_>> {
        self.resources().find(|r| r.id == id)
    }

    /// A value resolved to a string: intrinsics (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`) and dynamic references
    /// (`{{resolve:secretsmanager:…}}`). `at` names the property, for errors.
    pub fn string(&self, v: &Value, at: &str) -> Result<String, TemplateError> {
        Resolver { t: self, depth: Cell::new(0) }.string(v, at)
    }

    /// An optional property: `None` when absent, else resolved as [`Self::string`].
    pub fn optional_string(&self, v: &Value, at: &str) -> Result<Option<String>, TemplateError> {
        match v {
            Value::Null => Ok(None),
            v => self.string(v, at).map(Some),
        }
    }

    /// A number property (an integer, or an intrinsic resolving to one).
    pub fn integer(&self, v: &Value, at: &str) -> Result<Option<i64>, TemplateError> {
        match v {
            Value::Null => Ok(None),
            Value::Number(n) => {
                n.as_i64().map(Some).ok_or_else(|| TemplateError::invalid(at, format!("{n} is not an integer")))
            }
            v => {
                let s = self.string(v, at)?;
                s.parse().map(Some).map_err(|_| TemplateError::invalid(at, format!("`{s}` is not an integer")))
            }
        }
    }

    /// What `Ref <id>` gives, by CloudFormation's rule for the resource's type.
    pub fn reference(&self, id: &str) -> Result<String, TemplateError> {
        Resolver { t: self, depth: Cell::new(0) }.reference(id, id)
    }

    /// What `Fn::GetAtt <id>.<attribute>` gives.
    pub fn attribute(&self, id: &str, attribute: &str) -> Result<String, TemplateError> {
        Resolver { t: self, depth: Cell::new(0) }.get_att(id, attribute, id)
    }

    /// The tables that declare a stream (`StreamSpecification`), in logical-id order. The local store creates each
    /// stream; its label then comes back here through [`Self::set_stream_label`].
    pub fn stream_tables(&self) -> Result<Vec<StreamTable>, TemplateError> {
        self.of_type(&["AWS::DynamoDB::Table"])
            .filter(|r| !r.properties["StreamSpecification"].is_null())
            .map(|r| {
                let at = format!("{}.StreamSpecification.StreamViewType", r.id);
                let view_type = self.string(&r.properties["StreamSpecification"]["StreamViewType"], &at)?;
                if !matches!(view_type.as_str(), "KEYS_ONLY" | "NEW_IMAGE" | "OLD_IMAGE" | "NEW_AND_OLD_IMAGES") {
                    return Err(TemplateError::invalid(
                        at,
                        format!("`{view_type}` is not KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES"),
                    ));
                }
                Ok(StreamTable { logical_id: r.id.to_owned(), table: self.physical_name(r.id)?, view_type })
            })
            .collect()
    }

    /// Records the label of table `logical_id`'s stream, so `!GetAtt <table>.StreamArn` resolves to the ARN the
    /// store reports (`<table ARN>/stream/<label>`). DynamoDB fixes the label (an ISO time) when it creates the
    /// stream, and so does the local store: it is not known until the store is open.
    pub fn set_stream_label(&mut self, logical_id: &str, label: impl Into<String>) {
        self.stream_labels.insert(logical_id.to_owned(), label.into());
    }

    /// The resource's physical name: the name property when the template sets one, else what CloudFormation would
    /// generate (`<stack>-<logical id>-<suffix>`; the suffix here derives from the logical id, so it is the same on
    /// every start).
    pub fn physical_name(&self, id: &str) -> Result<String, TemplateError> {
        Resolver { t: self, depth: Cell::new(0) }.physical_name(id, id)
    }
}

/// The name property of each resource type that has one, and whether its generated name is lower case (S3).
fn name_property(kind: &str) -> Option<(&'static str, bool)> {
    Some(match kind {
        "AWS::DynamoDB::Table" => ("TableName", false),
        "AWS::S3::Bucket" => ("BucketName", true),
        "AWS::SQS::Queue" => ("QueueName", false),
        "AWS::Events::EventBus" => ("Name", false),
        "AWS::Events::Rule" => ("Name", false),
        "AWS::Serverless::StateMachine" | "AWS::StepFunctions::StateMachine" => ("Name", false),
        "AWS::Serverless::Function" | "AWS::Lambda::Function" => ("FunctionName", false),
        "AWS::SES::EmailIdentity" => ("EmailIdentity", false),
        _ => return None,
    })
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
    t: &'a Template,
    /// How deep the current resolution is: a template whose values refer to themselves (`TableName: !Ref
    /// TasksTable`) would otherwise recurse until the stack overflows.
    depth: Cell<u32>,
}

/// Deeper than any honest template nests its intrinsics.
const MAX_DEPTH: u32 = 32;

impl Resolver<'_> {
    fn kind(&self, id: &str) -> &str {
        self.t.resources.get(id).and_then(|r| r["Type"].as_str()).unwrap_or_default()
    }

    fn physical_name(&self, id: &str, at: &str) -> Result<String, TemplateError> {
        let kind = self.kind(id);
        let Some((property, lower)) = name_property(kind) else {
            return Ok(id.to_owned());
        };
        match &self.t.resources[id]["Properties"][property] {
            Value::Null => Ok(generated_name(kind, id, lower)),
            v => self.string(v, &format!("{id}.{property}")),
        }
        .map_err(|e| match e {
            TemplateError::Cycle { .. } => TemplateError::Cycle { at: at.to_owned() },
            e => e,
        })
    }

    /// The local value of `Ref name`.
    fn reference(&self, name: &str, at: &str) -> Result<String, TemplateError> {
        let identity = &self.t.identity;
        match name {
            "AWS::Region" => return Ok(identity.region.clone()),
            "AWS::AccountId" => return Ok(identity.account.clone()),
            "AWS::StackName" => return Ok(STACK_NAME.into()),
            "AWS::Partition" => return Ok(identity.partition.clone()),
            "AWS::URLSuffix" => return Ok("amazonaws.com".into()),
            _ => {}
        }
        if let Some(p) = self.t.parameters.get(name) {
            return match &p["Default"] {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(TemplateError::invalid(
                    at,
                    format!("parameter {name} has no Default, and the local stack takes no overrides"),
                )),
            };
        }
        if !self.t.resources.contains_key(name) {
            return Err(TemplateError::invalid(at, format!("Ref to `{name}`, which is not a parameter or resource")));
        }
        Ok(match self.kind(name) {
            "AWS::SecretsManager::Secret" => identity.secret_arn(name).to_string(),
            "AWS::Serverless::StateMachine" | "AWS::StepFunctions::StateMachine" => {
                identity.state_machine_arn(&self.physical_name(name, at)?).to_string()
            }
            "AWS::SQS::Queue" => queue_url(identity, &self.physical_name(name, at)?),
            "AWS::Events::Rule" => format!("{}|{}", self.event_bus_of(name, at)?, self.physical_name(name, at)?),
            kind if name_property(kind).is_some() => self.physical_name(name, at)?,
            _ => name.to_owned(),
        })
    }

    fn event_bus_of(&self, rule: &str, at: &str) -> Result<String, TemplateError> {
        match &self.t.resources[rule]["Properties"]["EventBusName"] {
            Value::Null => Ok("default".into()),
            v => self.string(v, at),
        }
    }

    fn get_att(&self, name: &str, attr: &str, at: &str) -> Result<String, TemplateError> {
        let identity = &self.t.identity;
        if !self.t.resources.contains_key(name) {
            return Err(TemplateError::invalid(at, format!("GetAtt of `{name}`, which is not a resource")));
        }
        let physical = || self.physical_name(name, at);
        Ok(match (self.kind(name), attr) {
            ("AWS::DynamoDB::Table", "Arn") => identity.table_arn(&physical()?).to_string(),
            ("AWS::DynamoDB::Table", "StreamArn") => {
                if self.t.resources[name]["Properties"]["StreamSpecification"].is_null() {
                    return Err(TemplateError::invalid(
                        at,
                        format!("GetAtt {name}.StreamArn: the table has no StreamSpecification, so no stream"),
                    ));
                }
                let label = self.t.stream_labels.get(name).ok_or_else(|| {
                    TemplateError::invalid(
                        at,
                        format!(
                            "GetAtt {name}.StreamArn: the stream's label is fixed when the local store creates the \
                             stream, and it has not been set (Template::set_stream_label)"
                        ),
                    )
                })?;
                format!("{}/stream/{label}", identity.table_arn(&physical()?))
            }
            ("AWS::Serverless::Function" | "AWS::Lambda::Function", "Arn") => {
                identity.function_arn(&physical()?).to_string()
            }
            ("AWS::Serverless::StateMachine" | "AWS::StepFunctions::StateMachine", "Arn") => {
                identity.state_machine_arn(&physical()?).to_string()
            }
            ("AWS::Serverless::StateMachine" | "AWS::StepFunctions::StateMachine", "Name") => physical()?,
            ("AWS::SQS::Queue", "Arn") => identity.queue_arn(&physical()?).to_string(),
            ("AWS::SQS::Queue", "QueueName") => physical()?,
            ("AWS::SQS::Queue", "QueueUrl") => queue_url(identity, &physical()?),
            ("AWS::S3::Bucket", "Arn") => identity.bucket_arn(&physical()?).to_string(),
            ("AWS::S3::Bucket", "DomainName") => format!("{}.s3.amazonaws.com", physical()?),
            ("AWS::S3::Bucket", "RegionalDomainName") => {
                format!("{}.s3.{}.amazonaws.com", physical()?, identity.region)
            }
            ("AWS::Events::EventBus", "Arn") => {
                identity.arn("events", format!("event-bus/{}", physical()?)).to_string()
            }
            ("AWS::Events::EventBus", "Name") => physical()?,
            ("AWS::Events::Rule", "Arn") => {
                let bus = self.event_bus_of(name, at)?;
                let rule = physical()?;
                let resource = if bus == "default" { format!("rule/{rule}") } else { format!("rule/{bus}/{rule}") };
                identity.arn("events", resource).to_string()
            }
            ("AWS::IAM::Role", "Arn") => identity.role_arn(name).to_string(),
            (_, "Arn") => identity.arn("local", name).to_string(),
            _ => return Err(TemplateError::invalid(at, format!("GetAtt {name}.{attr} has no local value"))),
        })
    }

    fn string(&self, v: &Value, at: &str) -> Result<String, TemplateError> {
        if self.depth.get() >= MAX_DEPTH {
            return Err(TemplateError::Cycle { at: at.to_owned() });
        }
        self.depth.set(self.depth.get() + 1);
        let resolved = self.string_inner(v, at);
        self.depth.set(self.depth.get() - 1);
        resolved
    }

    fn string_inner(&self, v: &Value, at: &str) -> Result<String, TemplateError> {
        let malformed = |what: &str| TemplateError::invalid(at, what.to_owned());
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
                        _ => return Err(malformed("Fn::Sub takes a string, or [string, {variables}]")),
                    },
                    ("Fn::Join", Value::Array(a)) => match a.as_slice() {
                        [Value::String(sep), Value::Array(parts)] => {
                            parts.iter().map(|p| self.string(p, at)).collect::<Result<Vec<_>, _>>()?.join(sep)
                        }
                        _ => return Err(malformed("Fn::Join takes [separator, [values]]")),
                    },
                    (other, _) => return Err(TemplateError::Unsupported { at: at.to_owned(), what: other.to_owned() }),
                }
            }
            other => return Err(TemplateError::invalid(at, format!("expected a string, found {other}"))),
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
            let end = after.find('}').ok_or_else(|| TemplateError::invalid(at, "unclosed ${ in Fn::Sub"))?;
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
            let end = after.find("}}").ok_or_else(|| TemplateError::invalid(at, "unclosed {{resolve:"))?;
            let reference = &after[..end];
            let Some(id) = reference.strip_prefix("secretsmanager:") else {
                return Err(TemplateError::Unsupported {
                    at: at.to_owned(),
                    what: format!("{{{{resolve:{reference}}}}}"),
                });
            };
            // The id is a name or an ARN (`arn:…:secret:<name>`), then optionally `:SecretString`. A JSON key,
            // version stage or version id after it selects part of a JSON secret, which local secrets are not.
            let (id, selector) = id.split_once(":SecretString").unwrap_or((id, ""));
            if !selector.trim_matches(':').is_empty() {
                return Err(TemplateError::invalid(
                    at,
                    format!(
                        "`{{{{resolve:secretsmanager:…:SecretString{selector}}}}}`: local secrets are plain strings; JSON keys and versions are not supported"
                    ),
                ));
            }
            let name = id.rsplit_once(":secret:").map_or(id, |(_, n)| n);
            out.push_str(&self.t.secrets.secret(name)?);
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// A queue's URL, as `Ref` gives it on AWS. The local SQS service takes any URL whose path is `/<account>/<name>`,
/// so this one works against the local endpoint too.
pub fn queue_url(identity: &Identity, name: &str) -> String {
    format!("https://sqs.{}.amazonaws.com/{}/{name}", identity.region, identity.account)
}

/// CloudFormation's generated physical name, `<stack>-<logical id>-<suffix>`, made stable: the suffix is a hash of
/// the logical id, so the same template gives the same names on every start.
fn generated_name(kind: &str, id: &str, lower: bool) -> String {
    if !matches!(kind, "AWS::S3::Bucket" | "AWS::SQS::Queue" | "AWS::SES::EmailIdentity") {
        // Locally, names the user types (tables, machines, functions) default to the logical id: easier to type.
        return id.to_owned();
    }
    let digest = Sha256::digest(format!("{STACK_NAME}/{id}").as_bytes());
    let suffix = local_core::hex(&digest[..6]);
    let mut base = format!("{STACK_NAME}-{id}");
    if lower {
        base = base.to_ascii_lowercase();
    }
    // S3 bucket names are at most 63 characters; leave room for `-` and the 12-character suffix.
    base.truncate(63 - 13);
    format!("{base}-{suffix}")
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

    fn parse(text: &str) -> Result<Template, TemplateError> {
        Template::parse(text, Arc::new(Fixed))
    }

    fn env_value(t: &Template, id: &str, var: &str) -> Result<String, TemplateError> {
        let r = t.resource(id).unwrap();
        t.string(&r.properties["Environment"]["Variables"][var], &format!("{id}.Environment.Variables.{var}"))
    }

    #[test]
    fn refs_subs_and_secrets_resolve_to_local_values() {
        let text = "Parameters:\n  Stage: {Type: String, Default: dev}\nResources:\n  T:\n    Type: AWS::DynamoDB::Table\n  S:\n    Type: AWS::SecretsManager::Secret\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Environment:\n        Variables:\n          TABLE: !Ref T\n          ARN: !GetAtt T.Arn\n          SUB: !Sub '${AWS::Region}-${Stage}-${T}'\n          KEY: !Sub '{{resolve:secretsmanager:${S}:SecretString}}'\n";
        let t = parse(text).unwrap();
        assert_eq!(env_value(&t, "F", "TABLE").unwrap(), "T");
        assert_eq!(env_value(&t, "F", "ARN").unwrap(), "arn:aws:dynamodb:us-east-1:123456789012:table/T");
        assert_eq!(env_value(&t, "F", "SUB").unwrap(), "us-east-1-dev-T");
        assert_eq!(env_value(&t, "F", "KEY").unwrap(), "secret-of-S");
    }

    #[test]
    fn an_unsupported_intrinsic_is_an_error_naming_where_it_is() {
        let text = "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Environment:\n        Variables:\n          A: !ImportValue other\n";
        let e = env_value(&parse(text).unwrap(), "F", "A").unwrap_err().to_string();
        assert!(e.contains("F.Environment.Variables.A") && e.contains("Fn::ImportValue"), "{e}");
    }

    #[test]
    fn a_value_that_refers_to_itself_is_an_error_not_a_stack_overflow() {
        let text = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TableName: !Ref T\n";
        let e = parse(text).unwrap().reference("T").unwrap_err().to_string();
        assert!(e.contains("refers to itself"), "{e}");
    }

    #[test]
    fn malformed_sub_and_join_are_errors_not_empty_strings() {
        for v in ["!Sub [3, {}]", "!Join [\",\", notalist]", "!Sub [\"x\"]"] {
            let text = format!(
                "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Environment:\n        Variables:\n          A: {v}\n"
            );
            assert!(env_value(&parse(&text).unwrap(), "F", "A").is_err(), "{v}");
        }
    }

    #[test]
    fn generated_bucket_and_queue_names_are_stable_and_valid() {
        let text = "Resources:\n  UploadsBucket:\n    Type: AWS::S3::Bucket\n  Named:\n    Type: AWS::S3::Bucket\n    Properties: {BucketName: !Sub 'my-${AWS::AccountId}'}\n  Dlq:\n    Type: AWS::SQS::Queue\n";
        let t = parse(text).unwrap();
        let name = t.physical_name("UploadsBucket").unwrap();
        assert_eq!(name, parse(text).unwrap().physical_name("UploadsBucket").unwrap());
        assert!(name.starts_with("local-uploadsbucket-") && name.len() <= 63, "{name}");
        assert!(name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{name}");
        assert_eq!(t.reference("Named").unwrap(), "my-123456789012");
        assert_eq!(t.attribute("Named", "Arn").unwrap(), "arn:aws:s3:::my-123456789012");
        let queue = t.physical_name("Dlq").unwrap();
        assert_eq!(t.reference("Dlq").unwrap(), format!("https://sqs.us-east-1.amazonaws.com/123456789012/{queue}"));
        assert_eq!(t.attribute("Dlq", "Arn").unwrap(), format!("arn:aws:sqs:us-east-1:123456789012:{queue}"));
    }

    #[test]
    fn a_tables_stream_arn_carries_the_label_the_store_fixed() {
        let text = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TableName: Tasks\n      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}\n  U:\n    Type: AWS::DynamoDB::Table\n";
        let mut t = parse(text).unwrap();
        let tables = t.stream_tables().unwrap();
        assert_eq!(
            tables,
            [StreamTable { logical_id: "T".into(), table: "Tasks".into(), view_type: "NEW_AND_OLD_IMAGES".into() }]
        );
        let e = t.attribute("T", "StreamArn").unwrap_err().to_string();
        assert!(e.contains("set_stream_label"), "{e}");
        assert!(t.attribute("U", "StreamArn").unwrap_err().to_string().contains("no StreamSpecification"));
        t.set_stream_label("T", "2024-05-01T12:00:00.000");
        assert_eq!(
            t.attribute("T", "StreamArn").unwrap(),
            "arn:aws:dynamodb:us-east-1:123456789012:table/Tasks/stream/2024-05-01T12:00:00.000"
        );
        let bad = text.replace("NEW_AND_OLD_IMAGES", "EVERYTHING");
        assert!(parse(&bad).unwrap().stream_tables().unwrap_err().to_string().contains("StreamViewType"));
    }

    #[test]
    fn a_resource_without_a_type_is_refused() {
        assert!(parse("Resources:\n  X: {Properties: {}}\n").unwrap_err().to_string().contains("Type"));
    }
}

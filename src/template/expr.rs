//! `Expr<T>`: a CloudFormation value typed by what it resolves to, literal or intrinsic.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::Value;
use std::marker::PhantomData;

/// The untyped tree behind an [`Expr`]; what CloudFormation sees.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Literal(Value),
    Ref(String),
    GetAtt(String, String),
    Sub(String, Vec<(String, Node)>),
    Join(String, Vec<Node>),
    Select(usize, Box<Node>),
    Split(String, Box<Node>),
    If(String, Box<Node>, Box<Node>),
    GetAzs,
}

/// A value of type `T` for a property: a literal, or an intrinsic function that CloudFormation
/// resolves to a `T`. An `Expr<bool>` cannot fill a string field.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr<T> {
    node: Node,
    _t: PhantomData<fn() -> T>,
}

/// The pseudo parameters CloudFormation defines.
pub const PSEUDO_PARAMETERS: &[&str] = &[
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

impl<T> Expr<T> {
    fn from_node(node: Node) -> Self {
        Self { node, _t: PhantomData }
    }

    /// `{"Ref": id}`: a parameter's value or a resource's primary identifier.
    pub fn reference(id: impl Into<String>) -> Self {
        Self::from_node(Node::Ref(id.into()))
    }

    /// `{"Fn::GetAtt": [id, attribute]}`; use the `cfn::*::ATTR_*` constants for `attribute`.
    pub fn get_att(id: impl Into<String>, attribute: &str) -> Self {
        Self::from_node(Node::GetAtt(id.into(), attribute.to_string()))
    }

    /// `{"Fn::If": [condition, a, b]}`
    pub fn if_(condition: impl Into<String>, then: Expr<T>, otherwise: Expr<T>) -> Self {
        Self::from_node(Node::If(condition.into(), Box::new(then.node), Box::new(otherwise.node)))
    }

    /// The literal JSON value, or `None` when CloudFormation resolves it at deploy time.
    /// Constructors validate literals and skip unresolved values.
    pub fn as_literal(&self) -> Option<&Value> {
        match &self.node {
            Node::Literal(v) => Some(v),
            _ => None,
        }
    }
}

impl<T: Serialize> Expr<T> {
    /// A literal value.
    pub fn literal(value: T) -> Self {
        Self::from_node(Node::Literal(serde_json::to_value(value).unwrap_or(Value::Null)))
    }
}

impl Expr<String> {
    /// `{"Fn::Sub": text}` or `{"Fn::Sub": [text, {vars}]}`. Every `${...}` is checked when the
    /// template is rendered: against pseudo parameters, `vars`, and the template's logical ids.
    pub fn sub(text: impl Into<String>) -> Self {
        Self::from_node(Node::Sub(text.into(), vec![]))
    }

    /// `Fn::Sub` with variables of its own.
    pub fn sub_with(text: impl Into<String>, vars: Vec<(&str, Expr<String>)>) -> Self {
        let vars = vars.into_iter().map(|(k, v)| (k.to_string(), v.node)).collect();
        Self::from_node(Node::Sub(text.into(), vars))
    }

    /// `{"Fn::Join": [delimiter, [parts]]}`
    pub fn join(delimiter: &str, parts: Vec<Expr<String>>) -> Self {
        Self::from_node(Node::Join(delimiter.to_string(), parts.into_iter().map(|p| p.node).collect()))
    }

    /// `{"Fn::Select": [index, list]}`
    pub fn select(index: usize, list: Expr<Vec<String>>) -> Self {
        Self::from_node(Node::Select(index, Box::new(list.node)))
    }

    /// `{"Ref": "AWS::Region"}`
    pub fn region() -> Self {
        Self::reference("AWS::Region")
    }
    /// `{"Ref": "AWS::AccountId"}`
    pub fn account_id() -> Self {
        Self::reference("AWS::AccountId")
    }
    /// `{"Ref": "AWS::Partition"}`
    pub fn partition() -> Self {
        Self::reference("AWS::Partition")
    }
    /// `{"Ref": "AWS::StackName"}`
    pub fn stack_name() -> Self {
        Self::reference("AWS::StackName")
    }
    /// `{"Ref": "AWS::URLSuffix"}`
    pub fn url_suffix() -> Self {
        Self::reference("AWS::URLSuffix")
    }
}

impl Expr<Vec<String>> {
    /// `{"Fn::Split": [delimiter, source]}`
    pub fn split(delimiter: &str, source: Expr<String>) -> Self {
        Self::from_node(Node::Split(delimiter.to_string(), Box::new(source.node)))
    }
    /// `{"Fn::GetAZs": ""}`: the availability zones of the stack's region.
    pub fn azs() -> Self {
        Self::from_node(Node::GetAzs)
    }
}

impl<T: Serialize> From<T> for Expr<T> {
    fn from(value: T) -> Self {
        Self::literal(value)
    }
}

impl From<&str> for Expr<String> {
    fn from(value: &str) -> Self {
        Self::literal(value.to_string())
    }
}

impl From<&String> for Expr<String> {
    fn from(value: &String) -> Self {
        Self::literal(value.clone())
    }
}

impl From<i32> for Expr<i64> {
    fn from(value: i32) -> Self {
        Self::literal(i64::from(value))
    }
}

impl From<u32> for Expr<i64> {
    fn from(value: u32) -> Self {
        Self::literal(i64::from(value))
    }
}

impl<T> Serialize for Expr<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.node.serialize(s)
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        fn one<S: Serializer, V: Serialize + ?Sized>(s: S, k: &str, v: &V) -> Result<S::Ok, S::Error> {
            let mut m = s.serialize_map(Some(1))?;
            m.serialize_entry(k, v)?;
            m.end()
        }
        match self {
            Node::Literal(v) => v.serialize(s),
            Node::Ref(id) => one(s, "Ref", id),
            Node::GetAtt(id, attr) => one(s, "Fn::GetAtt", &[id, attr]),
            Node::Sub(text, vars) if vars.is_empty() => one(s, "Fn::Sub", text),
            Node::Sub(text, vars) => {
                let map: serde_json::Map<String, Value> =
                    vars.iter().map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or(Value::Null))).collect();
                one(s, "Fn::Sub", &(text, map))
            }
            Node::Join(d, parts) => one(s, "Fn::Join", &(d, parts)),
            Node::Select(i, list) => one(s, "Fn::Select", &(i.to_string(), list)),
            Node::Split(d, src) => one(s, "Fn::Split", &(d, src)),
            Node::If(c, a, b) => one(s, "Fn::If", &(c, a, b)),
            Node::GetAzs => one(s, "Fn::GetAZs", ""),
        }
    }
}

/// The `${...}` placeholders of a `Fn::Sub` text, without `${!...}` escapes; an unterminated
/// `${` is returned as `Err` with the text from it.
pub fn sub_placeholders(text: &str) -> Result<Vec<&str>, &str> {
    let mut out = vec![];
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(&rest[start..]);
        };
        let name = &after[..end];
        if !name.starts_with('!') {
            out.push(name.trim());
        }
        rest = &after[end + 1..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn j<T>(e: &Expr<T>) -> Value {
        serde_json::to_value(e).unwrap()
    }

    #[test]
    fn literal_is_the_bare_value() {
        assert_eq!(j(&Expr::<String>::from("a")), json!("a"));
        assert_eq!(j(&Expr::<i64>::from(256)), json!(256));
        assert_eq!(j(&Expr::from(true)), json!(true));
    }

    #[test]
    fn ref_and_pseudo_parameters() {
        assert_eq!(j(&Expr::<String>::reference("Table")), json!({"Ref": "Table"}));
        assert_eq!(j(&Expr::region()), json!({"Ref": "AWS::Region"}));
        assert_eq!(j(&Expr::account_id()), json!({"Ref": "AWS::AccountId"}));
        assert_eq!(j(&Expr::partition()), json!({"Ref": "AWS::Partition"}));
    }

    #[test]
    fn get_att_is_a_pair() {
        assert_eq!(j(&Expr::<String>::get_att("Fn", "Arn")), json!({"Fn::GetAtt": ["Fn", "Arn"]}));
    }

    #[test]
    fn sub_short_and_with_variables() {
        assert_eq!(j(&Expr::sub("${AWS::Region}-x")), json!({"Fn::Sub": "${AWS::Region}-x"}));
        let e = Expr::sub_with("${Name}-${AWS::Region}", vec![("Name", Expr::reference("Fn"))]);
        assert_eq!(j(&e), json!({"Fn::Sub": ["${Name}-${AWS::Region}", {"Name": {"Ref": "Fn"}}]}));
    }

    #[test]
    fn join_select_split_if_getazs() {
        let e = Expr::join(",", vec!["a".into(), Expr::reference("B")]);
        assert_eq!(j(&e), json!({"Fn::Join": [",", ["a", {"Ref": "B"}]]}));
        let e = Expr::select(2, Expr::split("/", Expr::get_att("Ep", "Url")));
        assert_eq!(j(&e), json!({"Fn::Select": ["2", {"Fn::Split": ["/", {"Fn::GetAtt": ["Ep", "Url"]}]}]}));
        let e: Expr<i64> = Expr::if_("IsProd", 512.into(), 128.into());
        assert_eq!(j(&e), json!({"Fn::If": ["IsProd", 512, 128]}));
        assert_eq!(j(&Expr::select(0, Expr::azs())), json!({"Fn::Select": ["0", {"Fn::GetAZs": ""}]}));
    }

    #[test]
    fn placeholders_skip_escapes_and_report_unterminated() {
        assert_eq!(sub_placeholders("${A}/${B.Arn}/${!Literal}").unwrap(), vec!["A", "B.Arn"]);
        assert_eq!(sub_placeholders("x-${A").unwrap_err(), "${A");
    }

    #[test]
    fn as_literal_tells_resolved_from_unresolved() {
        assert!(Expr::<String>::from("x").as_literal().is_some());
        assert!(Expr::<String>::reference("P").as_literal().is_none());
    }
}
